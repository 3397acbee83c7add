"""``routefarm up``: the whole farm on this machine, in the foreground, until Ctrl-C."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..errors import Unavailable
from .autoscaler import METRICS_PORT, SOURCE, LocalAutoscaler, LogToOutput, WorkerPool, status_text
from .common import LOOPBACK, FarmError, free_port, port_is_free
from .lifecycle import DataDirLock, Signals, stop_leftovers
from .output import Output
from .procfile import find_procfile, formation, read_procfile
from .services import Services, demo_client, prepare_databases, prepare_topics
from .services import start as start_services
from .supervisor import Supervisor
from .worker_rules import describe, load_spec, local_maximum

EXIT_ERROR = 2
READY_TIMEOUT = 60.0  # seconds for web to answer /healthz
WEBHOOK_ALLOWLIST = "127.0.0.0/8,::1"
RUNTIME_KEYS = ("pid", "processes", "started_at", "ready_at")
STATUS_EVERY = 1.0  # seconds between two refreshes of the status line on a terminal
PLAIN_STATUS_EVERY = 10.0  # seconds between two status lines when the output is not a terminal
DEMO_PROBLEM = {
    "vehicles": [{"id": "van", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [4]},
              {"id": "b", "location_index": 2, "demand": [5]}],
    "matrix": {"distances": [[0, 400, 600], [400, 0, 300], [600, 300, 0]]},
    "options": {"time_limit": 1},
}


class Interrupted(Unavailable):
    """A signal arrived while the services were still being prepared: the farm is stopping."""


@dataclass(frozen=True)
class Options:
    data_dir: Path
    port: int
    shards: int
    procfile: Path | None = None
    max_workers: int | None = None  # overrides the ScaledObject's maxReplicaCount
    cooldown: float | None = None  # overrides cooldownPeriod
    polling_interval: float | None = None  # overrides pollingInterval
    scaledobject: Path | None = None  # default: deploy/keda/worker-scaledobject.yaml
    osm: Path | None = None  # an OpenStreetMap extract: road travel times served from it


def _deprecated_workers(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None:
        click.echo("routefarm up: --workers is deprecated (workers are autoscaled); "
                   f"taking it as --max-workers {value}", err=True)
    return value


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".routefarm"),
              envvar="ROUTEFARM_DATA_DIR", show_default=True,
              help="Embedded databases, Redis files and state.json live here.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="API port.")
@click.option("--shards", type=click.IntRange(min=1), default=2, show_default=True,
              help="Shard databases (embedded PostgreSQL only; can grow, never shrink).")
@click.option("--max-workers", type=click.IntRange(min=1),
              help="Most solve workers at once (overrides maxReplicaCount; default: the "
                   "ScaledObject's, at most one per CPU).")
@click.option("--cooldown", type=click.FloatRange(min=0), metavar="S",
              help="Seconds without an active trigger before workers go to zero (overrides cooldownPeriod).")
@click.option("--polling-interval", type=click.FloatRange(min=0.1), metavar="S",
              help="Seconds between two autoscaling decisions (overrides pollingInterval).")
@click.option("--scaledobject", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="KEDA ScaledObject whose rules scale the workers "
                   "(default: the checkout's deploy/keda/worker-scaledobject.yaml).")
@click.option("--procfile", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Procfile to run (default: ./Procfile, else the checkout's).")
@click.option("--osm", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="An OpenStreetMap extract (.osm.pbf): serve road travel times from it "
                   "(routefarm roads serve), so that problems with \"travel\" are priced on its roads.")
@click.option("--workers", type=click.IntRange(min=1), hidden=True, callback=_deprecated_workers,
              help="Deprecated: --max-workers.")
def up(data_dir: Path, port: int, shards: int, max_workers: int | None, cooldown: float | None,
       polling_interval: float | None, scaledobject: Path | None, procfile: Path | None,
       osm: Path | None, workers: int | None) -> None:
    """Run the farm locally: services, web, stream, webhook and autoscaled worker processes;
    Ctrl-C stops it.

    Without ROUTEFARM_DIRECTORY_URL / ROUTEFARM_SHARD_URLS / ROUTEFARM_REDIS_URL /
    ROUTEFARM_KAFKA_BOOTSTRAP it starts embedded PostgreSQL, Redis and Kafka under
    --data-dir. Workers scale from zero by the rules of the workers' KEDA ScaledObject.
    The API URL, a demo API key and the service addresses are printed and written to
    <data-dir>/state.json.
    """
    options = Options(data_dir.resolve(), port, shards, procfile, max_workers or workers, cooldown,
                      polling_interval, scaledobject, osm.resolve() if osm else None)
    try:
        code = run(options, Output())
    except FarmError as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_ERROR
    sys.exit(code)


def run(options: Options, out: Output) -> int:
    """The farm from start to stop; the exit status (0 after a requested stop)."""
    from routefarm.local.state import read_state

    data_dir = options.data_dir
    procfile = find_procfile(options.procfile)
    processes = read_procfile(procfile)
    specs = formation(processes, options.port, os.environ.get("HOST") or "127.0.0.1") + road_server(options)
    scaling = _scaling(options, processes["worker"])
    out.register([spec.name for spec in specs] + [SOURCE])
    lock = DataDirLock(data_dir).acquire()
    signals = Signals().install()
    try:
        remembered = dict(read_state(data_dir) or {})
        stop_leftovers(remembered, data_dir, out.system)
        if not port_is_free(options.port):
            raise FarmError(f"port {options.port} is in use on 127.0.0.1 (choose another with --port)")
        services = start_services(data_dir, options.shards, remembered, os.environ, out.system)
        try:
            return _serve(options, out, signals, services, remembered, procfile, specs, scaling)
        except Interrupted:
            out.system("interrupted while starting")
            return 0
        finally:
            if services.embedded:
                out.system("stopping the embedded services")
            services.stop(immediate=signals.hurry.is_set())
    finally:
        signals.restore()
        lock.release()


@dataclass(frozen=True)
class Scaling:
    spec: Any  # routefarm.autoscale.scaledobject.ScalerSpec, overrides applied
    command: str  # the Procfile's worker command
    notes: list[str]  # what to say about it once the farm starts


def _scaling(options: Options, command: str) -> Scaling:
    """The workers' scaling rules, read before anything starts (a bad file stops ``up`` early)."""
    spec, source = load_spec(options.scaledobject)
    maximum, why = local_maximum(spec, options.max_workers)
    spec = spec.with_overrides(max_replicas=maximum, cooldown_period=options.cooldown,
                               polling_interval=options.polling_interval)
    notes = [f"{skipped} cannot be measured here; ignored" for skipped in spec.skipped]
    notes.append(f"rules from {source}: {describe(spec)} (at most {maximum} workers: {why})")
    return Scaling(spec, command, notes)


def _serve(options: Options, out: Output, signals: Signals, services: Services,
           remembered: dict[str, Any], procfile: Path, specs: list, scaling: Scaling) -> int:
    from routefarm.local.state import environment_from_state, write_state
    from routefarm.settings import Settings

    def checkpoint() -> None:
        if signals.stop.is_set():
            raise Interrupted

    checkpoint()
    prepare_databases(services)
    checkpoint()
    settings = Settings(directory_url=services.directory_url, shard_urls=",".join(services.shard_urls),
                        redis_url=services.redis_url, cache_url=services.cache_url,
                        kafka_bootstrap=services.kafka_bootstrap)
    created = prepare_topics(services, settings.kafka_partitions)
    if created:
        out.system(f"Kafka: created {', '.join(created)} ({settings.kafka_partitions} partitions each)")
    checkpoint()
    client_id, api_key, created = demo_client(settings, remembered)
    out.system(f"demo client {client_id} {'created' if created else 'reused'}")
    checkpoint()
    state: dict[str, Any] = {k: v for k, v in remembered.items() if k not in RUNTIME_KEYS}
    state.update(
        api_url=f"http://127.0.0.1:{options.port}", api_key=api_key, client_id=client_id,
        redis_url=services.redis_url, cache_url=services.cache_url,
        directory_url=services.directory_url, shard_urls=services.shard_urls,
        kafka_bootstrap=services.kafka_bootstrap, data_dir=str(options.data_dir), **services.remembered(),
    )
    state.pop("stopped_at", None)
    specs = with_metrics_ports(specs)
    runtime: dict[str, Any] = {"pid": os.getpid(), "started_at": _now(), "processes": {},
                               "metrics_urls": metrics_urls(state, specs)}
    write_state(options.data_dir, {**state, **runtime})
    supervisor: Supervisor | None = None

    def on_change(pids: dict[str, int]) -> None:
        runtime["processes"] = pids
        if supervisor is not None:  # workers come and go: so do their metrics ports
            runtime["metrics_urls"] = metrics_urls(state, [c.spec for c in supervisor.children])
        write_state(options.data_dir, {**state, **runtime})

    def on_ready() -> None:  # clients of state.json wait for this key before calling the API
        runtime["ready_at"] = _now()
        write_state(options.data_dir, {**state, **runtime})

    env = {**os.environ, **environment_from_state(state), **services.environment(os.environ),
           "ROUTEFARM_DATA_DIR": str(options.data_dir), **road_environment(specs),
           "ROUTEFARM_METRICS_HOST": LOOPBACK}  # the metrics ports are this machine's only
    env["ROUTEFARM_WEBHOOK_ALLOWLIST"], said = webhook_allowlist(os.environ)
    out.system(said)
    for note in scaling.notes:
        out.line(SOURCE, note)
    supervisor = Supervisor(specs, env=env, cwd=procfile.parent, output=out, on_change=on_change)
    pool = WorkerPool(supervisor, scaling.command)
    logs = LogToOutput(lambda text: out.line(SOURCE, text)).install()
    autoscaler = LocalAutoscaler(scaling.spec, settings, lambda text: out.line(SOURCE, text), pool.running)
    try:
        code = _watch(supervisor, pool, autoscaler, state, signals, out, on_ready)
    finally:
        autoscaler.stop()
        out.clear_status()
        supervisor.stop(signals.hurry)
        logs.remove()
        write_state(options.data_dir, {**state, "stopped_at": _now()})
    return code


ROAD_TABLE_SIZE = 1000  # coordinates per table request between the farm and its own road server


def road_server(options: Options) -> list:
    """The road server of ``--osm`` as one more process (none without it)."""
    from .supervisor import ProcessSpec

    if options.osm is None:
        return []
    port = free_port()
    command = shlex.join([sys.executable, "-m", "routefarm", "roads", "serve", "--osm", str(options.osm),
                          "--port", str(port), "--cache-dir", str(options.data_dir / "roads"),
                          "--max-table-size", str(ROAD_TABLE_SIZE)])
    return [ProcessSpec("roads.1", command, {"ROADS_PORT": str(port)})]


def road_environment(specs: list) -> dict[str, str]:
    """ROUTEFARM_ROADS_URL for every process, when the farm runs a road server."""
    for spec in specs:
        if spec.name.startswith("roads."):
            return {"ROUTEFARM_ROADS_URL": f"http://127.0.0.1:{spec.env['ROADS_PORT']}",
                    "ROUTEFARM_ROADS_MAX_TABLE_SIZE": str(ROAD_TABLE_SIZE)}
    return {}


def metrics_urls(state: dict[str, Any], specs: list) -> list[str]:
    """web's /metrics first, then every process's metrics port."""
    return [f"{state['api_url']}/metrics"] + [
        f"http://127.0.0.1:{spec.env[METRICS_PORT]}/metrics" for spec in specs if METRICS_PORT in spec.env]


def with_metrics_ports(specs: list) -> list:
    """Every process but web (which serves /metrics itself) gets a free metrics port."""
    ports = []
    for spec in specs:
        if spec.name.startswith("web."):
            ports.append(spec)
            continue
        ports.append(dataclasses.replace(spec, env={**spec.env, METRICS_PORT: str(free_port())}))
    return ports


def _watch(supervisor: Supervisor, pool: WorkerPool, autoscaler: LocalAutoscaler, state: dict[str, Any],
           signals: Signals, out: Output, on_ready: Callable[[], None]) -> int:
    """Run until a signal; 2 if the API never became healthy. ``on_ready`` runs once it is."""
    supervisor.start()
    autoscaler.start()
    deadline = time.monotonic() + READY_TIMEOUT
    ready = False
    shown, shown_at = "", 0.0
    while not signals.stop.is_set():
        supervisor.poll()
        pool.scale_to(autoscaler.desired)
        if not ready:
            if _healthy(state["api_url"]):
                ready = True
                on_ready()
                kinds = [c.spec.name.split(".", 1)[0] for c in supervisor.children if c.spec.name.endswith(".1")]
                out.write(banner(state, [k for k in kinds if k != "worker"], autoscaler.spec.max_replicas))
            elif time.monotonic() > deadline:
                click.echo(f"error: the API did not answer {state['api_url']}/healthz within "
                           f"{READY_TIMEOUT:g} s (see the web.1 lines above)", err=True)
                return EXIT_ERROR
        now = time.monotonic()
        text = status_text(autoscaler.reading, pool.running(), autoscaler.desired, autoscaler.spec.max_replicas)
        if out.live and now - shown_at >= STATUS_EVERY:
            out.status(text)
            shown_at = now
        elif not out.live and ready and text != shown and now - shown_at >= PLAIN_STATUS_EVERY:
            out.line(SOURCE, text)
            shown, shown_at = text, now
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


def banner(state: dict[str, Any], kinds: list[str], max_workers: int) -> str:
    api, key = state["api_url"], state["api_key"]
    formation_text = f"{', '.join(kinds)} and 0 to {max_workers} autoscaled worker(s)"
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
        f"  Kafka        {state['kafka_bootstrap']}",
        f"  state        {Path(state['data_dir']) / 'state.json'}",
        "",
        "Submit a job, then wait (up to 30 s) for its routes:",
        f"  JOB=$(curl -s {api}/v1/jobs -H {auth} -H 'Content-Type: application/json' \\",
        f"        -d {body} | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])')",
        f"  curl -s \"{api}/v1/jobs/$JOB?wait=30\" -H {auth}",
        "",
    ]
    return "\n".join(lines) + "\n"


def webhook_allowlist(environ: Mapping[str, str]) -> tuple[str, str]:
    """The webhook allowlist in force and the line that says so: the user's when set (even
    empty), else loopback, so that a local farm can call a receiver on this machine."""
    if "ROUTEFARM_WEBHOOK_ALLOWLIST" in environ:
        value = environ["ROUTEFARM_WEBHOOK_ALLOWLIST"]
        if not value:
            return value, "ROUTEFARM_WEBHOOK_ALLOWLIST is set empty: webhooks may reach public addresses only"
        return value, (f"webhook allowlist in force: ROUTEFARM_WEBHOOK_ALLOWLIST={value} (as set); webhooks"
                       " may reach public addresses and these, not loopback unless it is listed")
    return WEBHOOK_ALLOWLIST, (f"webhooks to loopback addresses are allowed ({WEBHOOK_ALLOWLIST}) because"
                               " this is a local farm and ROUTEFARM_WEBHOOK_ALLOWLIST is not set")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
