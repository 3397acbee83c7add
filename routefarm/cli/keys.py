"""``clients revoke`` and ``clients rotate``: stop a leaked API key at once, or replace a
client's keys with a grace period. The directory is the truth; the Redis entries every API
process trusts for verified keys are overwritten too, so no process accepts a refused key."""

from __future__ import annotations

from datetime import datetime

import click

from .common import BadInput
from .farm import DATA_DIR, open_farm, parse_duration

NOT_CACHED = ("warning: the cache cannot be written: an API process may accept the old key(s) "
              "for up to {ttl:g} s more")


@click.command("revoke")
@click.argument("client_id")
@DATA_DIR
def clients_revoke(client_id: str, data_dir: str | None) -> None:
    """Refuse every API key of CLIENT_ID from now on (401); `clients rotate` gives it a new one."""
    from ..cache import KEY_TTL
    from ..errors import NotFound

    farm, unavailable = open_farm(data_dir)
    try:
        revoked = farm.directory.revoke_keys(client_id)
        pinned = farm.cache.pin_keys(client_id, dict.fromkeys(revoked)) if revoked else True
    except (NotFound, unavailable) as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    click.echo(f"{client_id}: {len(revoked)} key(s) revoked")
    if not pinned:
        click.echo(NOT_CACHED.format(ttl=KEY_TTL), err=True)


@click.command("rotate")
@click.argument("client_id")
@click.option("--grace", default="0", metavar="DURATION",
              help="Keep accepting the old keys this long (30d, 12h, 90m, 60s, seconds; default 0: refused now).")
@DATA_DIR
def clients_rotate(client_id: str, grace: str, data_dir: str | None) -> None:
    """Give CLIENT_ID a new API key (printed once) and refuse its old ones, now or after --grace."""
    from ..cache import KEY_TTL
    from ..errors import NotFound

    grace_s = parse_duration(grace, zero="0 refuses the old keys now")
    farm, unavailable = open_farm(data_dir)
    try:
        key, old, until = farm.directory.rotate_key(client_id, grace_s)
        now = datetime.now(until.tzinfo)  # what a process trusts of an old key ends with the key
        pinned = farm.cache.pin_keys(client_id, {h: (end - now).total_seconds() for h, end in old.items()})
    except (NotFound, unavailable) as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    click.echo(f"api key: {key}")
    when = f"accepted until {until.isoformat(timespec='milliseconds')}" if grace_s > 0 else "refused now"
    click.echo(f"{client_id}: {len(old)} old key(s) {when}")
    if not pinned:
        click.echo(NOT_CACHED.format(ttl=KEY_TTL), err=True)
