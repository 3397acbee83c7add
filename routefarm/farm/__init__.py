"""The composition root: the resources one process of the farm holds (pools, directory, job
store, cache, broker; the webhook allowlist, parsed once, with the submission-time check of
webhook URLs), and what is plugged into the job store's door: the webhook deliveries and batch
completion a job's end sets off (``webhooks.events``). ``reaper`` is the pass that keeps jobs
and deliveries going."""

from __future__ import annotations

from optimizer import Limits

from ..broker import make_broker
from ..cache import Cache
from ..db.directory import Directory
from ..db.pools import Databases
from ..jobs.store import JobStore
from ..settings import Settings
from ..webhooks import events
from ..webhooks.lookup import Targets
from ..webhooks.ssrf import parse_allowlist


class Farm:
    """Open with ``open()``, close with ``close()``; nothing connects at construction."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = Databases(settings)
        self.directory = Directory(self.db)
        self.cache = Cache(settings.cache_url, settings.cache_ttl_s)
        self.broker = make_broker(settings)
        self.store = JobStore(self.db, self.directory, self.cache, self.broker, settings, effects=events)
        self.webhook_allowlist = parse_allowlist(settings.webhook_allowlist)
        self.webhook_targets = Targets(self.webhook_allowlist, settings.webhook_resolve_deadline_s)
        self.limits = Limits(max_stops=settings.max_stops, max_vehicles=settings.max_vehicles)  # of a problem

    def open(self, wait: bool = False) -> Farm:
        self.db.open(wait=wait)
        return self

    def close(self) -> None:
        self.db.close()
        self.cache.close()
        self.broker.close()
