"""What the stages of a job's flow use of a farm, as a type: ``farm.Farm`` (the composition
root, above them) is one; the stages name this, never the root itself."""

from __future__ import annotations

from typing import Any, Protocol

from optimizer import Limits

from ..cache import Cache
from ..db.directory import Directory
from ..db.pools import Databases
from ..settings import Settings
from .store import JobStore


class UrlGuard(Protocol):
    """The submission-time check of webhook URLs (``webhooks.lookup.Targets``)."""

    def issues(self, urls: list[tuple[str, Any]]) -> list[tuple[str, str]]:
        """(pointer, sentence) for each URL refused; its pointer is the one given with it."""


class Services(Protocol):
    settings: Settings
    db: Databases
    directory: Directory
    store: JobStore
    cache: Cache
    broker: Any  # the Dramatiq broker (``broker.make_broker``)
    limits: Limits  # the sizes of the problems this farm takes
    webhook_targets: UrlGuard
