"""The worker ScaledObject watches what the code writes: the broker's queue hashes, the
re-optimization topic and the ingest group; and KEDA can resolve what it refers to."""

from __future__ import annotations

from urllib.parse import urlparse

import dramatiq.common
from deploy_support import config_data, containers, deployments, one, scaled_object, secret_data

from routefarm.broker import SOLVE_QUEUE
from routefarm.kafka.names import INGEST_GROUP, REOPTIMIZE_TOPIC
from routefarm.settings import Settings


def _triggers(kind: str) -> list[dict]:
    return [t for t in scaled_object()["spec"]["triggers"] if t["type"] == kind]


def _namespace() -> str:
    namespace = config_data()["ROUTEFARM_NAMESPACE"]
    assert namespace == Settings.model_fields["namespace"].default
    return namespace


def test_redis_triggers_read_the_solve_queue_and_its_delayed_retries():
    namespace = _namespace()
    hashes = {t["metadata"]["listName"] for t in _triggers("redis")}
    # the same keys routefarm.broker.queue_depth adds up (queued + in flight, then delayed)
    assert hashes == {f"{namespace}:{SOLVE_QUEUE}.msgs",
                      f"{namespace}:{dramatiq.common.dq_name(SOLVE_QUEUE)}.msgs"}


def test_redis_triggers_read_the_brokers_database_and_server():
    broker = urlparse(secret_data("routefarm-secrets")["ROUTEFARM_REDIS_URL"])
    database = broker.path.lstrip("/") or "0"
    keda = secret_data("routefarm-keda-redis")
    assert keda["address"] == f"{broker.hostname}:{broker.port}"
    assert keda["password"] == broker.password
    for trigger in _triggers("redis"):
        assert trigger["metadata"]["databaseIndex"] == database


def test_kafka_trigger_follows_the_ingest_consumer():
    (trigger,) = _triggers("kafka")
    metadata = trigger["metadata"]
    assert metadata["topic"] == REOPTIMIZE_TOPIC
    assert metadata["consumerGroup"] == INGEST_GROUP
    # routefarm/kafka/clients.py: a group without offsets starts at the earliest message
    assert metadata["offsetResetPolicy"] == "earliest"


def test_env_references_resolve_in_the_scale_target():
    """KEDA resolves ``<parameter>FromEnv`` in the scale target's container environment."""
    spec = scaled_object()["spec"]
    target = deployments()["worker"]
    assert spec["scaleTargetRef"]["name"] == target.name
    (container,) = containers(target)
    env = {e["name"] for e in container.get("env", [])}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            env |= one("ConfigMap", source["configMapRef"]["name"]).body["data"].keys()
    for trigger in spec["triggers"]:
        for key, value in trigger["metadata"].items():
            if key.endswith("FromEnv"):
                assert value in env, f"{trigger['name']}: {key}: {value} is not in the worker's env"


def test_authentication_refs_and_their_secrets_exist():
    for trigger in scaled_object()["spec"]["triggers"]:
        if "authenticationRef" not in trigger:
            continue
        auth = one("TriggerAuthentication", trigger["authenticationRef"]["name"]).body
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["key"] in secret_data(ref["name"]), f"{ref['name']} has no key {ref['key']}"


def test_scaling_bounds_and_windows():
    spec = scaled_object()["spec"]
    assert spec["minReplicaCount"] == 0
    assert spec["maxReplicaCount"] >= 1
    assert 0 < spec["pollingInterval"] <= spec["cooldownPeriod"]
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] > spec["pollingInterval"]
    # one scale-up step may reach the maximum
    assert any(p["type"] == "Pods" and p["value"] >= spec["maxReplicaCount"] for p in behavior["scaleUp"]["policies"])
    for trigger in spec["triggers"]:
        metadata = trigger["metadata"]
        target = metadata.get("listLength") or metadata.get("lagThreshold")
        activation = metadata.get("activationListLength") or metadata.get("activationLagThreshold")
        assert int(target) >= 1 and int(activation) >= 0, trigger["name"]
