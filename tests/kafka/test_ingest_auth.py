"""An event makes a job only when it is signed with the ingest key of the client its record
key names: a producer credential alone writes no job for anyone. Real Postgres and Kafka."""

from __future__ import annotations

import json

from click.testing import CliRunner
from ingest_support import Running, base_problem, committed, event, reoptimized, signed
from kafka_support import TopicReader, produce, wait_until
from support import settings_env, solved_job

from routefarm.cli.main import main
from routefarm.kafka.authenticate import REFRESH_EVERY
from routefarm.kafka.names import DLQ_TOPIC, REOPTIMIZE_TOPIC
from routefarm.kafka.signing import HEADER, header, sign, verify


def letters_by_offset(reader: TopicReader) -> list[dict]:
    return sorted(reader.values(), key=lambda v: v["source"]["offset"])


def test_signatures_verify_with_the_key_over_the_exact_bytes():
    value = b'{"event_id": "e"}'
    signature = sign("rfik_one", value)
    assert signature.startswith("v1,") and verify(["rfik_one"], value, signature)
    assert verify(["rfik_other", "rfik_one"], value, f"v1,bm9wZQ== {signature}")  # any of several
    assert not verify(["rfik_other"], value, signature)
    assert not verify(["rfik_one"], value + b" ", signature)  # the body changed
    assert not verify(["rfik_one"], value, signature.replace("v1,", "v2,"))
    assert not verify([], value, signature)


def test_only_events_signed_with_their_clients_key_make_jobs(farm, client_factory, kafka_settings, ingest_key):
    bootstrap = kafka_settings.kafka_bootstrap
    a, _ = client_factory("a")
    b, _ = client_factory("b")
    keyless, _ = client_factory("keyless")
    key_a, key_b = ingest_key(a), ingest_key(b)
    base_a, _ = solved_job(farm, a, base_problem(21))
    base_b, _ = solved_job(farm, b, base_problem(22))
    tampered = json.dumps(event("u-6", a, base_a)).encode()
    forged = [
        (a, event("u-1", a, base_a), []),  # no signature
        (a, *signed("rfik_" + "0" * 43, event("u-2", a, base_a))),  # a key that is not A's
        (a, *signed(key_a, event("u-3", b, base_b))),  # A's key, A's record key, but it names client B
        (b, *signed(key_a, event("u-4", b, base_b))),  # A's key for client B's events
        (keyless, *signed(key_a, event("u-5", keyless, base_a))),  # a client without an ingest key
        (a, tampered.replace(b"u-6", b"u-7"), [header(key_a, tampered)]),  # changed after signing
    ]
    good = [
        (a, *signed(key_a, event("s-1", a, base_a))),
        (a, *signed(key_a, {"event_id": "s-2", "base_job_id": base_a, "at": 0})),  # the client from the key
        (b, *signed(key_b, event("s-3", b, base_b))),
    ]
    produce(bootstrap, REOPTIMIZE_TOPIC, forged + good, partition=0)
    reader = TopicReader(bootstrap, DLQ_TOPIC)
    reader.start()
    try:
        with Running(farm, kafka_settings):
            reader.wait_for(lambda v: len(v) >= len(forged))
            wait_until(lambda: committed(bootstrap) == len(forged) + len(good), 30, "every offset committed")
    finally:
        reader.stop()
    letters = letters_by_offset(reader)
    assert [letter["error"]["type"] for letter in letters] == ["unauthenticated"] * len(forged)
    details = [letter["error"]["detail"] for letter in letters]
    assert details[0] == f"the event has no {HEADER} header"
    assert "does not verify" in details[1] and "does not verify" in details[5]
    assert details[2] == f"the event names client {b!r} but is signed for client {a!r} (the record key)"
    assert "does not verify" in details[3] and f"client {b!r}" in details[3]
    assert details[4] == f"client {keyless!r} (the record key) has no ingest key"
    assert sorted(j["event_id"] for j in reoptimized(farm, a)) == ["s-1", "s-2"]
    assert [j["event_id"] for j in reoptimized(farm, b)] == ["s-3"] and reoptimized(farm, keyless) == []


def test_a_rotated_key_verifies_during_its_grace_period_only(farm, client_factory, kafka_settings, ingest_key):
    bootstrap = kafka_settings.kafka_bootstrap
    a, _ = client_factory()
    base, _ = solved_job(farm, a, base_problem(23))
    first = ingest_key(a)

    def send(secret: str, event_id: str) -> None:
        produce(bootstrap, REOPTIMIZE_TOPIC, [(a, *signed(secret, event(event_id, a, base)))], partition=0)

    reader = TopicReader(bootstrap, DLQ_TOPIC)
    reader.start()
    try:
        with Running(farm, kafka_settings):
            send(first, "k1")
            wait_until(lambda: committed(bootstrap) == 1, 30, "the first event taken")
            runner = CliRunner()
            rotated = runner.invoke(main, ["clients", "ingest-key", a],
                                    env={**settings_env(farm.settings), "ROUTEFARM_INGEST_KEY_ROTATION_GRACE_S": "3600"})
            assert rotated.exit_code == 0, rotated.output
            lines = rotated.output.splitlines()
            assert lines[0] == f"client {a}: rotated ingest key (shown once)" and lines[1].startswith("ingest key: ")
            second = lines[1].removeprefix("ingest key: ")
            assert second.startswith("rfik_") and second != first and "previous key verifies until" in lines[2]
            reader.stopping.wait(REFRESH_EVERY)  # the ingest reads a client's keys again at most once a second
            send(second, "k2-new")  # the new key works at once
            send(first, "k1-in-grace")  # and the old one for the grace period
            wait_until(lambda: committed(bootstrap) == 3, 30, "both events taken")
        third = ingest_key(a, grace_s=0)  # rotated again without grace: the second key is done
        with Running(farm, kafka_settings):  # (a new process: nothing cached)
            send(second, "k2-expired")
            send(first, "k1-long-gone")
            send(third, "k3")
            reader.wait_for(lambda v: len(v) >= 2)
            wait_until(lambda: committed(bootstrap) == 6, 30, "every event taken")
    finally:
        reader.stop()
    assert sorted(j["event_id"] for j in reoptimized(farm, a)) == ["k1", "k1-in-grace", "k2-new", "k3"]
    letters = letters_by_offset(reader)
    assert [(letter["event"]["event_id"], letter["error"]["type"]) for letter in letters] == [
        ("k2-expired", "unauthenticated"), ("k1-long-gone", "unauthenticated")]
    unknown = CliRunner().invoke(main, ["clients", "ingest-key", "c_nobody"], env=settings_env(farm.settings))
    assert unknown.exit_code == 2 and "no client 'c_nobody'" in unknown.output
