"""``routefarm roads``: serve road travel times from an OSM file, or generate a test city."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from .common import BadInput

INSTALL_HINT = "the road engine needs its libraries: pip install 'routefarm[roads]'"


def _require_libraries() -> None:
    try:
        import numba  # noqa: F401
        import osmium  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as exc:
        raise BadInput(f"{INSTALL_HINT} ({exc.name} is missing)") from None


def _profiles(value: str) -> list[str]:
    from ..roads.profiles import PROFILES

    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in PROFILES]
    if unknown or not names:
        raise BadInput(f"--profiles: unknown profile {', '.join(unknown) or '(none)'};"
                       f" choose from {', '.join(PROFILES)}")
    return names


@click.group()
def roads() -> None:
    """Road travel times from OpenStreetMap (an OSRM-compatible server)."""


@roads.command()
@click.option("--osm", "osm_file", required=True, type=click.Path(dir_okay=False), help="The .osm.pbf (or .osm) file.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="0: any free port (printed).")
@click.option("--profiles", "profile_list", default="car,truck", show_default=True, help="Comma-separated profiles.")
@click.option("--cache-dir", default=".routefarm/roads", show_default=True, type=click.Path(file_okay=False),
              help="Built graphs are kept here, keyed by the file's SHA-256 and the profile.")
@click.option("--max-table-size", default=1000, show_default=True, type=click.IntRange(2),
              help="Most coordinates in one table request.")
@click.option("--snap-limit", default=1000.0, show_default=True, type=click.FloatRange(0, min_open=True),
              metavar="METRES", help="A coordinate farther than this from every road is an error.")
@click.option("--cache-entries", default=256, show_default=True, type=click.IntRange(0),
              help="Answers kept in memory (an LRU keyed by the whole request).")
@click.option("--all-components", is_flag=True, help="Keep every component, not only the largest (unreachable cells are null).")
def serve(osm_file: str, host: str, port: int, profile_list: str, cache_dir: str,
          max_table_size: int, snap_limit: float, cache_entries: int, all_components: bool) -> None:
    """Serve /table/v1 and /route/v1 as osrm-routed does, for each profile of the OSM file."""
    _require_libraries()
    from werkzeug.serving import make_server

    from ..roads.server import create_app
    from ..roads.settings import EngineSettings, ServerSettings
    from ..roads.store import load_engines

    path = Path(osm_file)
    if not path.is_file():
        raise BadInput(f"{osm_file}: no such file")
    names = _profiles(profile_list)
    started = time.monotonic()
    engine_settings = EngineSettings(snap_limit_m=snap_limit, cache_dir=Path(cache_dir),
                                     largest_component=not all_components)
    try:
        engines = load_engines(path, names, engine_settings)
    except (RuntimeError, ValueError, OSError) as exc:
        raise BadInput(f"{osm_file}: cannot build the road graph: {exc}") from None
    settings = ServerSettings(host=host, port=port, max_table_size=max_table_size,
                              cache_entries=cache_entries)
    try:
        server = make_server(host, port, create_app(engines, settings), threaded=True)
    except OSError as exc:
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    version = next(iter(engines.values())).data_version
    sizes = ", ".join(f"{name} {engine.graph.nodes} nodes" for name, engine in engines.items())
    click.echo(f"serving {sizes} (data {version[:12]}, ready in {time.monotonic() - started:.1f} s)"
               f" on http://{host}:{server.server_port}", err=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


@roads.command()
@click.option("--rows", default=707, show_default=True, type=click.IntRange(2))
@click.option("--columns", default=707, show_default=True, type=click.IntRange(2))
@click.option("--seed", default=7, show_default=True, type=click.IntRange(0))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="e.g. city.osm.pbf")
def generate(rows: int, columns: int, seed: int, output: str) -> None:
    """Write a generated city (grid streets, arterials, one-ways, a river and a few bridges)."""
    try:
        import osmium  # noqa: F401
    except ImportError:
        raise BadInput(INSTALL_HINT) from None
    from ..roads.generate import CityPlan, write_city

    plan = CityPlan(rows=rows, columns=columns, seed=seed)
    try:
        write_city(plan, output)
    except (OSError, RuntimeError) as exc:
        raise BadInput(f"{output}: cannot write: {exc}") from None
    click.echo(f"wrote {plan.nodes} nodes to {output}", err=True)
