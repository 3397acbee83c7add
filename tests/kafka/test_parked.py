"""The relay never stops on one row: an event too large whole is published cut down, a row
Kafka refuses for good or that cannot be encoded is parked with its reason, and the outbox
keeps draining; operators list, re-send and drop parked rows. Real Postgres and Kafka."""

from __future__ import annotations

import uuid

from click.testing import CliRunner
from kafka_support import TopicReader, outbox_rows, per_job, scrape, wait_until
from psycopg.types.json import Jsonb
from support import Processes, free_port, settings_env, solved_job
from test_outbox import problem, relay_for

from routefarm.cli.main import main
from routefarm.kafka import parked
from routefarm.kafka.names import JOB_EVENTS_TOPIC
from routefarm.kafka.relay import backlog

LIFECYCLE = ["queued", "running", "succeeded"]


def insert_event(farm, client_id: str, job_id: str, status: str, **data) -> int:
    """An outbox row written straight into the client's shard (as an older farm may have left it)."""
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        return conn.execute(
            "INSERT INTO outbox (client_id, job_id, type, data) VALUES (%s, %s, %s, %s) RETURNING id",
            (client_id, job_id, f"routefarm.job.{status}",
             Jsonb({"job_id": job_id, "client_id": client_id, "status": status, **data}))).fetchone()[0]


def row(farm, client_id: str, row_id: int) -> dict | None:
    return next((r for r in outbox_rows(farm, client_id) if r["id"] == row_id), None)


def cli(farm, *args: str):
    return CliRunner().invoke(main, list(args), env=settings_env(farm.settings))


def test_a_row_kafka_refuses_is_parked_and_the_outbox_keeps_draining(farm, client_factory, kafka_settings):
    bootstrap = kafka_settings.kafka_bootstrap
    client_id, _ = client_factory()
    shard = farm.directory.shard_of(client_id)
    first, _ = solved_job(farm, client_id, problem(1))
    poisoned_job = str(uuid.uuid4())
    poison = insert_event(farm, client_id, poisoned_job, "queued", metadata={"blob": "x" * 300_000})
    insert_event(farm, client_id, poisoned_job, "running")  # the same job's next event
    second, _ = solved_job(farm, client_id, problem(2))
    # the producer takes 100 kB, the relay cuts events down at 900 kB only: as when the topic's
    # max.message.bytes is below ROUTEFARM_RELAY_MAX_EVENT_BYTES
    narrow = relay_for(farm, bootstrap, **{"message.max.bytes": 100_000})
    reader = TopicReader(bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    try:
        result, more = narrow.run_once()
        assert (result.published, result.failed, result.parked, more) == (7, 0, {"too_large": 1}, False)
        events = reader.wait_for(lambda v: len(v) >= 7)
        assert per_job(events) == {first: LIFECYCLE, poisoned_job: ["running"], second: LIFECYCLE}
        stuck = row(farm, client_id, poison)
        assert stuck["sent_at"] is None and stuck["parked_at"] is not None
        assert stuck["parked_reason"].startswith("too_large: Kafka refused it (produce): MSG_SIZE_TOO_LARGE")
        assert all(r["sent_at"] is not None for r in outbox_rows(farm, client_id) if r["id"] != poison)
        assert backlog(farm.db)[shard] == 0 and parked.counts(farm.db)[shard] == 1

        third, _ = solved_job(farm, client_id, problem(3))  # a later pass: later rows go, the parked one waits
        result, _ = narrow.run_once()
        assert (result.published, result.parked) == (3, {})
        assert per_job(reader.wait_for(lambda v: len(v) >= 10))[third] == LIFECYCLE

        listed = cli(farm, "outbox", "parked")
        assert listed.exit_code == 0, listed.output
        assert f"{shard}: 1 parked" in listed.output
        assert f"{shard} {poison} " in listed.output and f"job {poisoned_job}" in listed.output
        assert "too_large: Kafka refused it" in listed.output
        for wrong, message in [(["outbox", "retry", str(poison)], "give --shard"),
                               (["outbox", "drop"], "--all"),
                               (["outbox", "retry", "--shard", "shard9", "1"], "no shard 'shard9'")]:
            refused = cli(farm, *wrong)
            assert refused.exit_code == 2 and message in refused.output, refused.output

        retried = cli(farm, "outbox", "retry", "--shard", shard, str(poison))
        assert retried.exit_code == 0 and "1 parked row(s) handed back" in retried.output, retried.output
        result, _ = relay_for(farm, bootstrap).run_once()  # a producer that takes it
        assert (result.published, result.parked) == (1, {})
        late = reader.wait_for(lambda v: len(v) >= 11)[-1]
    finally:
        reader.stop()
    assert late["id"] == str(stuck["event_id"]) and late["data"]["metadata"]["blob"] == "x" * 300_000
    assert row(farm, client_id, poison)["sent_at"] is not None and parked.counts(farm.db)[shard] == 0

    again = insert_event(farm, client_id, str(uuid.uuid4()), "queued", metadata={"blob": "y" * 300_000})
    assert narrow.run_once()[0].parked == {"too_large": 1}
    dropped = cli(farm, "outbox", "drop", "--all")
    assert dropped.exit_code == 0 and "1 parked row(s) deleted" in dropped.output, dropped.output
    assert row(farm, client_id, again) is None


def test_an_event_too_large_whole_is_published_without_its_largest_members(farm, client_factory, kafka_settings):
    client_id, _ = client_factory()
    job_id = str(uuid.uuid4())
    big = insert_event(farm, client_id, job_id, "succeeded", metadata={"notes": "n" * 1_100_000},
                       summary={"distance": 12}, attempt=1)
    reader = TopicReader(kafka_settings.kafka_bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    try:
        relay = relay_for(farm, kafka_settings.kafka_bootstrap)
        result, _ = relay.run_once()
        assert (result.published, result.trimmed, result.parked) == (1, 1, {})
        (record,) = reader.wait_for(lambda v: len(v) >= 1) and reader.records
    finally:
        reader.stop()
    data = record["value"]["data"]
    assert record["bytes"] <= relay.max_event_bytes
    assert data == {"job_id": job_id, "client_id": client_id, "status": "succeeded", "summary": {"distance": 12},
                    "attempt": 1, "omitted": ["metadata"]}
    assert row(farm, client_id, big)["sent_at"] is not None


def test_the_stream_process_parks_a_row_it_cannot_decode_and_counts_it(farm, client_factory, kafka_settings,
                                                                       tmp_path):
    """A row whose data nests deeper than the JSON decoder goes (written before the API's depth
    limit) failed every pass of the relay, for every row of its shard; now it is parked."""
    client_id, _ = client_factory()
    shard = farm.directory.shard_of(client_id)
    before, _ = solved_job(farm, client_id, problem(4))
    with farm.db.shard(shard) as conn:
        poison = conn.execute(
            "INSERT INTO outbox (client_id, job_id, type, data) VALUES (%s, gen_random_uuid(), 'routefarm.job.queued',"
            " jsonb_build_object('status', 'queued', 'metadata', %s::jsonb)) RETURNING id",
            (client_id, "[" * 3000 + "]" * 3000)).fetchone()[0]
    after, _ = solved_job(farm, client_id, problem(5))
    port = free_port()
    procs = Processes(kafka_settings.model_copy(update={"metrics_port": port, "relay_interval_s": 0.2}), tmp_path)
    reader = TopicReader(kafka_settings.kafka_bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    try:
        procs.stream()
        events = reader.wait_for(lambda v: len(per_job(v)) == 2, timeout=60)
        wait_until(lambda: parked.counts(farm.db)[shard] == 1 and backlog(farm.db)[shard] == 0, 30,
                   "the row parked, the others sent")
        families = scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        reader.stop()
        procs.stop_all()
    assert per_job(events) == {before: LIFECYCLE, after: LIFECYCLE}
    (listed,) = parked.listing(farm.db, 10, shard)  # (its data is read as text only)
    assert listed.id == poison and listed.reason.startswith("unencodable: the event cannot be encoded")
    counted = {s.labels["reason"]: s.value for s in families["routefarm_outbox_parked"] if s.name.endswith("_total")}
    assert counted == {"too_large": 0, "invalid": 0, "unencodable": 1}
    rows = {s.labels["shard"]: s.value for s in families["routefarm_outbox_parked_rows"]}
    assert rows[shard] == 1
