"""routefarm_workers{state="desired"}: in the farm-wide gauges (the stream process's export)
while a local autoscaler publishes its record, absent otherwise (on Kubernetes the HPA's own
metrics say what KEDA wants)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from routefarm.observability import scaler as record


def workers(farm) -> dict[tuple[str, str], float]:
    from prometheus_client import generate_latest

    from routefarm.observability.exposition import FarmCollector, registry

    text = generate_latest(registry([FarmCollector(farm)])).decode()
    return {(s.labels["state"], s.labels["queue"]): s.value
            for family in text_string_to_metric_families(text) if family.name == "routefarm_workers"
            for s in family.samples}


def test_desired_workers_come_from_the_autoscaler_record(farm):
    record.clear(farm.cache.client)
    before = workers(farm)
    assert before[("current", "solve")] == 0 and ("desired", "solve") not in before
    record.publish(farm.cache.client, record.ScalerRecord(current=1, desired=3, max=4, queue_depth=7,
                                                          kafka_lag=0, jobs_per_s=0.5))
    try:
        assert workers(farm)[("desired", "solve")] == 3
    finally:
        record.clear(farm.cache.client)
    assert ("desired", "solve") not in workers(farm)
