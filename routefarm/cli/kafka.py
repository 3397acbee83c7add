"""Kafka operator commands: ``clients ingest-key`` (the key that signs a client's events) and
``outbox parked|retry|drop`` (job events the relay could not publish)."""

from __future__ import annotations

import click

from .common import BadInput
from .farm import DATA_DIR, open_farm


@click.command("ingest-key")
@click.argument("client_id")
@DATA_DIR
def clients_ingest_key(client_id: str, data_dir: str | None) -> None:
    """Create CLIENT_ID's ingest key, or rotate it, and print it once: every event the client
    sends on routefarm.reoptimize must be signed with it (the replaced key still verifies for
    ROUTEFARM_INGEST_KEY_ROTATION_GRACE_S)."""
    from ..db.ingest_keys import issue
    from ..errors import NotFound

    farm, unavailable = open_farm(data_dir)
    try:
        key = issue(farm.db, client_id, farm.settings.ingest_key_rotation_grace_s)
    except (NotFound, unavailable) as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    click.echo(f"client {client_id}: {'rotated' if key.previous_expires_at else 'new'} ingest key (shown once)")
    click.echo(f"ingest key: {key.secret}")
    if key.previous_expires_at is not None:
        click.echo(f"the previous key verifies until {key.previous_expires_at.isoformat(timespec='seconds')}")


@click.group()
def outbox() -> None:
    """Job events the relay parked: Kafka refused them for good."""


@outbox.command("parked")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Rows listed per shard (0: counts only).")
@DATA_DIR
def outbox_parked(limit: int, data_dir: str | None) -> None:
    """Parked rows per shard, and the oldest of each with the reason."""
    from ..kafka import parked

    farm, unavailable = open_farm(data_dir)
    try:
        counts = parked.counts(farm.db)
        rows = parked.listing(farm.db, limit, shard=None) if limit else []
    except unavailable as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    for shard, count in counts.items():
        click.echo(f"{shard}: {'unavailable' if count is None else count} parked")
    for row in rows:
        click.echo(f"{row.shard} {row.id} {row.parked_at.isoformat(timespec='seconds')} job {row.job_id}"
                   f" client {row.client_id} {row.type} ({row.data_bytes} bytes of data): {row.reason}")


def _chosen(farm, shard: str | None, ids: tuple[int, ...], every: bool) -> tuple[str | None, list[int] | None]:
    if every == bool(ids):
        raise BadInput("give the ids of parked rows (with --shard) or --all")
    if ids and shard is None:
        raise BadInput("row ids are per shard: give --shard")
    if shard is not None and shard not in farm.db.shards:
        raise BadInput(f"no shard {shard!r} (shards: {', '.join(farm.db.shards)})")
    return shard, list(ids) if ids else None


def _apply(action, verb: str, shard: str | None, ids: tuple[int, ...], every: bool, data_dir: str | None) -> None:
    farm, unavailable = open_farm(data_dir)
    try:
        where, chosen = _chosen(farm, shard, ids, every)
        done = action(farm.db, where, chosen)
    except unavailable as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    click.echo(f"{done} parked row(s) {verb}")


ROWS = click.argument("ids", nargs=-1, type=click.IntRange(min=1), metavar="[ID]...")
SHARD = click.option("--shard", help="The shard of the rows (all shards with --all and no --shard).")
EVERY = click.option("--all", "every", is_flag=True, help="Every parked row (of --shard, if given).")


@outbox.command("retry")
@ROWS
@SHARD
@EVERY
@DATA_DIR
def outbox_retry(ids: tuple[int, ...], shard: str | None, every: bool, data_dir: str | None) -> None:
    """Hand parked rows back to the relay, which publishes them on its next pass (after the
    later events of their jobs); a row Kafka refuses again is parked again."""
    from ..kafka.parked import retry

    _apply(retry, "handed back to the relay", shard, ids, every, data_dir)


@outbox.command("drop")
@ROWS
@SHARD
@EVERY
@DATA_DIR
def outbox_drop(ids: tuple[int, ...], shard: str | None, every: bool, data_dir: str | None) -> None:
    """Delete parked rows: their events are never published."""
    from ..kafka.parked import drop

    _apply(drop, "deleted", shard, ids, every, data_dir)
