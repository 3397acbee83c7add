"""routefarm_workers{state="desired"}: on web's /metrics while a local autoscaler publishes
its record, absent otherwise (on Kubernetes the HPA's own metrics say what KEDA wants)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from routefarm.autoscale import record


def workers(http) -> dict[tuple[str, str], float]:
    text = http.get("/metrics").get_data(as_text=True)
    return {(s.labels["state"], s.labels["queue"]): s.value
            for family in text_string_to_metric_families(text) if family.name == "routefarm_workers"
            for s in family.samples}


def test_desired_workers_come_from_the_autoscaler_record(http, farm):
    record.clear(farm.cache.client)
    before = workers(http)
    assert before[("current", "solve")] == 0 and ("desired", "solve") not in before
    record.publish(farm.cache.client, record.ScalerRecord(current=1, desired=3, max=4, queue_depth=7,
                                                          kafka_lag=0, jobs_per_s=0.5))
    try:
        assert workers(http)[("desired", "solve")] == 3
    finally:
        record.clear(farm.cache.client)
    assert ("desired", "solve") not in workers(http)
