"""``routefarm up``: the whole farm on this machine, in the foreground, until Ctrl-C."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .common import FarmError, free_port, port_is_free
from .lifecycle import DataDirLock, Signals, stop_leftovers
from .output import Output
from .procfile import find_procfile, formation, read_procfile
from .services import Services, demo_client, prepare_databases
from .services import start as start_services
from .supervisor import Supervisor

EXIT_ERROR = 2
READY_TIMEOUT = 60.0  # seconds for web to answer /healthz
WEBHOOK_ALLOWLIST = "127.0.0.0/8,::1"
RUNTIME_KEYS = ("pid", "processes", "started_at")
METRICS_PORT = "ROUTEFARM_METRICS_PORT"
DEMO_PROBLEM = {
    "vehicles": [{"id": "van", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [4]},
              {"id": "b", "location_index": 2, "demand": [5]}],
    "matrix": {"distances": [[0, 400, 600], [400, 0, 300], [600, 300, 0]]},
    "options": {"time_limit": 1},
}


class Interrupted(Exception):
    """A signal arrived while the services were still being prepared."""


@dataclass(frozen=True)
class Options:
    data_dir: Path
    port: int
    workers: int
    shards: int
    procfile: Path | None = None


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".routefarm"),
              envvar="ROUTEFARM_DATA_DIR", show_default=True,
              help="Embedded databases, Redis files and state.json live here.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="API port.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Solve worker processes.")
@click.option("--shards", type=click.IntRange(min=1), default=2, show_default=True,
              help="Shard databases (embedded PostgreSQL only; can grow, never shrink).")
@click.option("--procfile", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Procfile to run (default: ./Procfile, else the checkout's).")
def up(data_dir: Path, port: int, workers: int, shards: int, procfile: Path | None) -> None:
    """Run the farm locally: services, web, stream and worker processes; Ctrl-C stops it.

    Without ROUTEFARM_DIRECTORY_URL / ROUTEFARM_SHARD_URLS / ROUTEFARM_REDIS_URL it starts
    embedded PostgreSQL and Redis under --data-dir. The API URL, a demo API key and the
    service addresses are printed and written to <data-dir>/state.json.
    """
    try:
        code = run(Options(data_dir.resolve(), port, workers, shards, procfile), Output())
    except FarmError as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_ERROR
    sys.exit(code)


def run(options: Options, out: Output) -> int:
    """The farm from start to stop; the exit status (0 after a requested stop)."""
    from routefarm.state import read_state

    data_dir = options.data_dir
    procfile = find_procfile(options.procfile)
    specs = formation(read_procfile(procfile), options.workers, options.port)
    out.register([spec.name for spec in specs])
    lock = DataDirLock(data_dir).acquire()
    signals = Signals().install()
    try:
        remembered = dict(read_state(data_dir) or {})
        stop_leftovers(remembered, data_dir, out.system)
        if not port_is_free(options.port):
            raise FarmError(f"port {options.port} is in use on 127.0.0.1 (choose another with --port)")
        services = start_services(data_dir, options.shards, remembered, os.environ, out.system)
        try:
            return _serve(options, out, signals, services, remembered, procfile, specs)
        except Interrupted:
            out.system("interrupted while starting")
            return 0
        finally:
            if services.postgres is not None or services.redis is not None:
                out.system("stopping the embedded services")
            services.stop(immediate=signals.hurry.is_set())
    finally:
        signals.restore()
        lock.release()


def _serve(options: Options, out: Output, signals: Signals, services: Services,
           remembered: dict[str, Any], procfile: Path, specs: list) -> int:
    from routefarm.settings import Settings
    from routefarm.state import environment_from_state, write_state

    def checkpoint() -> None:
        if signals.stop.is_set():
            raise Interrupted

    checkpoint()
    prepare_databases(services)
    checkpoint()
    settings = Settings(directory_url=services.directory_url, shard_urls=",".join(services.shard_urls),
                        redis_url=services.redis_url, cache_url=services.cache_url)
    client_id, api_key, created = demo_client(settings, remembered)
    out.system(f"demo client {client_id} {'created' if created else 'reused'}")
    checkpoint()
    state: dict[str, Any] = {k: v for k, v in remembered.items() if k not in RUNTIME_KEYS}
    state.update(
        api_url=f"http://127.0.0.1:{options.port}", api_key=api_key, client_id=client_id,
        redis_url=services.redis_url, cache_url=services.cache_url,
        directory_url=services.directory_url, shard_urls=services.shard_urls,
        data_dir=str(options.data_dir), **services.remembered(),
    )
    state.pop("stopped_at", None)
    specs = with_metrics_ports(specs)
    state["metrics_urls"] = [f"{state['api_url']}/metrics"] + [
        f"http://127.0.0.1:{spec.env[METRICS_PORT]}/metrics" for spec in specs if METRICS_PORT in spec.env]
    runtime: dict[str, Any] = {"pid": os.getpid(), "started_at": _now(), "processes": {}}
    write_state(options.data_dir, {**state, **runtime})

    def on_change(pids: dict[str, int]) -> None:
        runtime["processes"] = pids
        write_state(options.data_dir, {**state, **runtime})

    env = {**os.environ, **environment_from_state(state), "ROUTEFARM_DATA_DIR": str(options.data_dir),
           "ROUTEFARM_WEBHOOK_ALLOWLIST": WEBHOOK_ALLOWLIST}
    out.system(f"webhooks to loopback addresses are allowed (ROUTEFARM_WEBHOOK_ALLOWLIST={WEBHOOK_ALLOWLIST}) "
               "because this is a local farm")
    supervisor = Supervisor(specs, env=env, cwd=procfile.parent, output=out, on_change=on_change)
    try:
        code = _watch(supervisor, state, signals, out)
    finally:
        supervisor.stop(signals.hurry)
        write_state(options.data_dir, {**state, "stopped_at": _now()})
    return code


def with_metrics_ports(specs: list) -> list:
    """Every process but web (which serves /metrics itself) gets a free metrics port."""
    ports = []
    for spec in specs:
        if spec.name.startswith("web."):
            ports.append(spec)
            continue
        ports.append(dataclasses.replace(spec, env={**spec.env, METRICS_PORT: str(free_port())}))
    return ports


def _watch(supervisor: Supervisor, state: dict[str, Any], signals: Signals, out: Output) -> int:
    """Run until a signal; 2 if the API never became healthy."""
    supervisor.start()
    deadline = time.monotonic() + READY_TIMEOUT
    ready = False
    while not signals.stop.is_set():
        supervisor.poll()
        if not ready:
            if _healthy(state["api_url"]):
                ready = True
                out.write(banner(state, supervisor))
            elif time.monotonic() > deadline:
                click.echo(f"error: the API did not answer {state['api_url']}/healthz within "
                           f"{READY_TIMEOUT:g} s (see the web.1 lines above)", err=True)
                return EXIT_ERROR
        signals.stop.wait(0.2)
    hint = "" if signals.hurry.is_set() else " (Ctrl-C again to hurry)"
    out.system(f"stopping{hint}")
    return 0


def _healthy(api_url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{api_url}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def banner(state: dict[str, Any], supervisor: Supervisor) -> str:
    api, key = state["api_url"], state["api_key"]
    counts: dict[str, int] = {}
    for child in supervisor.children:
        kind = child.spec.name.split(".", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    formation_text = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    body = shlex.quote(json.dumps({"problem": DEMO_PROBLEM}, separators=(",", ":")))
    auth = shlex.quote(f"Authorization: Bearer {key}")
    shards = "\n".join(f"  {'':13}{url}" for url in state["shard_urls"][1:])
    lines = [
        "",
        f"routefarm is up: {formation_text}. Ctrl-C stops everything.",
        f"  API          {api}   (OpenAPI: {api}/openapi.json)",
        f"  API key      {key}   (demo client {state['client_id']})",
        f"  directory    {state['directory_url']}",
        f"  shards       {state['shard_urls'][0]}",
        *([shards] if shards else []),
        f"  Redis        {state['redis_url']} (broker), {state['cache_url']} (cache)",
        f"  state        {Path(state['data_dir']) / 'state.json'}",
        "",
        "Submit a job, then wait (up to 30 s) for its routes:",
        f"  JOB=$(curl -s {api}/v1/jobs -H {auth} -H 'Content-Type: application/json' \\",
        f"        -d {body} | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])')",
        f"  curl -s \"{api}/v1/jobs/$JOB?wait=30\" -H {auth}",
        "",
    ]
    return "\n".join(lines) + "\n"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
