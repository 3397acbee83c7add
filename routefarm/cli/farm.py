"""Operator commands: ``db migrate``, ``clients create``, ``shards list|move``.

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

    from ..db.migrate import ensure_database, migrate

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
