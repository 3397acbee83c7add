"""Operator commands: ``db migrate``, ``clients create|retention``, ``shards list|move``, ``purge``
(``clients revoke|rotate``: ``keys``).

They find the farm through ``ROUTEFARM_*`` variables, or else through the ``state.json``
of a farm that ``routefarm up`` runs (``--data-dir``, default ``./.routefarm``).
"""

from __future__ import annotations

import click

from .common import BadInput

DATA_DIR = click.option("--data-dir", type=click.Path(file_okay=False),
                        help="Data directory of a local farm (default: ./.routefarm).")


def load_settings(data_dir: str | None):
    from ..local.state import read_state
    from ..settings import Settings

    settings = Settings()
    if "directory_url" not in settings.model_fields_set:  # no farm configured: a local one?
        state = read_state(data_dir or settings.data_dir)
        if state:
            return settings.model_copy(update={
                "directory_url": state["directory_url"], "shard_urls": ",".join(state["shard_urls"]),
                "redis_url": state["redis_url"], "cache_url": state.get("cache_url") or state["redis_url"]})
    return settings


def open_farm(data_dir: str | None):
    from ..errors import ShardUnavailable
    from ..farm import Farm

    farm = Farm(load_settings(data_dir))
    try:
        farm.open(wait=True)
    except Exception as exc:  # noqa: BLE001 - reported as one line
        farm.close()
        raise BadInput(f"cannot reach the farm's databases: {exc}") from None
    return farm, ShardUnavailable


@click.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@click.option("--create", is_flag=True, help="Create missing databases first (needs CREATEDB).")
@DATA_DIR
def db_migrate(create: bool, data_dir: str | None) -> None:
    """Apply pending migrations to the directory and every shard (idempotent)."""
    import psycopg

    from ..db.migrate import MigrationChanged, ensure_database, migrate

    settings = load_settings(data_dir)
    targets = [("directory", settings.directory_url, "directory")]
    targets += [(name, url, "shard") for name, url in settings.shards.items()]
    for name, url, kind in targets:
        try:
            if create and ensure_database(url):
                click.echo(f"{name}: database created")
            applied = migrate(url, kind)
        except psycopg.Error as exc:
            raise BadInput(f"{name}: {str(exc).strip().splitlines()[0]}") from None
        except MigrationChanged as exc:
            raise BadInput(f"{name}: {exc}") from None
        click.echo(f"{name}: {', '.join(applied) if applied else 'up to date'}")


@click.group()
def clients() -> None:
    """API clients."""


@clients.command("create")
@click.argument("name")
@DATA_DIR
def clients_create(name: str, data_dir: str | None) -> None:
    """Create a client and print its API key (shown once: only a hash is stored)."""
    farm, _ = open_farm(data_dir)
    try:
        client, key = farm.directory.create_client(name)
    finally:
        farm.close()
    click.echo(f"client {client.id} ({client.name}) on {client.shard}")
    click.echo(f"api key: {key}")


@click.group()
def shards() -> None:
    """Client placement across shards."""


@shards.command("list")
@DATA_DIR
def shards_list(data_dir: str | None) -> None:
    """Clients and their job counts, per shard."""
    from ..db.sharding import counts

    farm, _ = open_farm(data_dir)
    try:
        rows = counts(farm)
    finally:
        farm.close()
    click.echo(f"{'shard':<10} {'client':<20} {'name':<20} {'jobs':>8}  by status")
    for r in sorted(rows, key=lambda r: (r.shard, r.client_id)):
        detail = ", ".join(f"{k} {v}" for k, v in sorted(r.by_status.items()))
        click.echo(f"{r.shard:<10} {r.client_id:<20} {r.name:<20} {r.jobs:>8}  {detail}")


@shards.command("move")
@click.argument("client_id")
@click.argument("shard")
@DATA_DIR
def shards_move(client_id: str, shard: str, data_dir: str | None) -> None:
    """Move CLIENT_ID's jobs to SHARD while they keep being served."""
    from ..db.sharding import move
    from ..errors import Conflict, NotFound

    farm, unavailable = open_farm(data_dir)
    try:
        moved = move(farm, client_id, shard)
    except (NotFound, Conflict, unavailable) as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    click.echo(f"moved {moved} job(s) of {client_id} to {shard}")


def parse_duration(text: str, zero: str = "0 keeps the jobs") -> float:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"60s"`` or plain seconds -> seconds (``zero``: what 0 means,
    said when a duration is negative)."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    value = text.strip().lower()
    scale = units.get(value[-1:]) if value else None
    try:
        seconds = float(value[:-1] if scale else value) * (scale or 1)
    except ValueError:
        raise BadInput(f"{text!r} is not a duration (like 30d, 12h, 90m, 60s or seconds)") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise BadInput(f"{text!r}: a duration must be 0 or more ({zero})")
    return seconds


@clients.command("retention")
@click.argument("client_id")
@click.argument("duration")
@DATA_DIR
def clients_retention(client_id: str, duration: str, data_dir: str | None) -> None:
    """Keep CLIENT_ID's ended jobs for DURATION (30d, 12h, 0 = keep) or the farm's "default"."""
    from ..errors import NotFound

    seconds = None if duration.strip().lower() == "default" else parse_duration(duration)
    farm, _ = open_farm(data_dir)
    try:
        farm.directory.set_retention(client_id, seconds)
        default = farm.settings.job_retention_s
    except NotFound as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    kept = default if seconds is None else seconds
    click.echo(f"{client_id}: ended jobs kept {'until deleted' if kept == 0 else f'{kept:g} s'}"
               f"{' (the farm default)' if seconds is None else ''}")


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@DATA_DIR
def purge(dry_run: bool, data_dir: str | None) -> None:
    """Delete the ended jobs, deliveries, events and batches older than their retention
    (what the stream process does every ROUTEFARM_PURGE_INTERVAL_S)."""
    from ..jobs.retention import TABLES, expired, policy
    from ..jobs.retention import purge as run_purge

    farm, unavailable = open_farm(data_dir)
    try:
        rules = policy(farm)
        if dry_run:
            rows = []
            for shard in farm.db.shards:
                with farm.db.shard(shard) as conn:
                    rows.append((shard, expired(conn, rules)))
        else:
            done = run_purge(farm, budget_s=float("inf"))
            rows = [("all shards", done.deleted)]
    except unavailable as exc:
        raise BadInput(str(exc)) from None
    finally:
        farm.close()
    click.echo(f"{'shard':<12} " + " ".join(f"{t:>18}" for t in TABLES) + ("   (would be deleted)" if dry_run else ""))
    for shard, counts in rows:
        click.echo(f"{shard:<12} " + " ".join(f"{counts.get(t, 0):>18}" for t in TABLES))
