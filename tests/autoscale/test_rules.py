"""KEDA's replica rule against its documented cases: AverageValue (queue 20, target 5 -> 4),
activation above (not at) the threshold, the maximum across triggers, clamping to
min/max, Kafka's partition bound, the cooldown before zero, scale-down stabilization, and
the HPA's rate policies (its defaults, and those a ScaledObject sets)."""

from __future__ import annotations

import pytest

from routefarm.autoscale.rules import Decider, Measurement
from routefarm.autoscale.scaledobject import parse

QUEUE = {"type": "redis", "metadata": {"listName": "dramatiq:solve.msgs", "listLength": "5"}}
LAG = {"type": "kafka", "metadata": {"bootstrapServers": "kafka:9092", "consumerGroup": "routefarm-ingest",
                                     "topic": "routefarm.reoptimize", "lagThreshold": "10",
                                     "allowIdleConsumers": "true"}}


IMMEDIATE_UP = {"policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}]}


def spec(*triggers, stabilization=None, up=None, down=None, **fields):
    """A ScaledObject; ``stabilization``: the scale-down window; ``up``/``down``: behavior rules."""
    document = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "workers"},
                "spec": {"scaleTargetRef": {"name": "worker"}, "triggers": list(triggers or [QUEUE])}}
    behavior = {}
    if up is not None:
        behavior["scaleUp"] = up
    if down is not None or stabilization is not None:
        behavior["scaleDown"] = {**(down or {}), **({"stabilizationWindowSeconds": stabilization}
                                                   if stabilization is not None else {})}
    if behavior:
        document["spec"]["advanced"] = {"horizontalPodAutoscalerConfig": {"behavior": behavior}}
    document["spec"].update(fields)
    return parse(document)


def m(*values):
    return [None if v is None else Measurement(v) for v in values]


def test_average_value_queue_20_target_5_is_4_replicas():
    decider = Decider(spec())
    decision = decider.decide(m(20), now=0)
    assert (decision.replicas, decision.desired, decision.active) == (0, 4, True)
    assert "dramatiq:solve.msgs 20/5 -> 4" in decision.reason
    assert decider.decide(m(21), now=30).desired == 5  # ceil


def test_activation_is_above_the_threshold_not_at_it():
    trigger = {**QUEUE, "metadata": {**QUEUE["metadata"], "activationListLength": "3"}}
    decider = Decider(spec(trigger))
    assert decider.decide(m(3), now=0).desired == 0
    assert not decider.decide(m(3), now=1).active
    assert decider.decide(m(4), now=2).desired == 1
    default = Decider(spec())  # activation 0: one message activates
    assert default.decide(m(0), now=0).desired == 0
    assert default.decide(m(1), now=1).desired == 1


def test_activation_wins_over_the_scaling_target():
    """KEDA's example: threshold 10, activation 50, 40 messages: not active, so zero."""
    trigger = {**QUEUE, "metadata": {**QUEUE["metadata"], "listLength": "10", "activationListLength": "50"}}
    decider = Decider(spec(trigger, cooldownPeriod=60), replicas=4)
    decider.last_active = 0
    assert decider.decide(m(40), now=30).desired == 4  # cooling down: the HPA still wants 4
    decision = decider.decide(m(40), now=61)
    assert (decision.desired, decision.active) == (0, False)
    assert decider.decide(m(40), now=90).desired == 0


def test_maximum_across_triggers():
    decider = Decider(spec(QUEUE, LAG, up=IMMEDIATE_UP))
    assert decider.decide(m(20, 30), now=0).desired == 4  # 20/5 = 4 beats 30/10 = 3
    assert decider.decide(m(20, 70), now=1).desired == 7  # 70/10 = 7 beats 4
    only_lag = Decider(spec(QUEUE, LAG))
    decision = only_lag.decide(m(0, 1), now=0)  # one active trigger is enough
    assert decision.desired == 1 and "routefarm.reoptimize 1 > 0" in decision.reason


def test_clamped_to_min_and_max():
    decider = Decider(spec(maxReplicaCount=3))
    decision = decider.decide(m(40), now=0)
    assert decision.desired == 3 and "at most 3 (maxReplicaCount)" in decision.reason
    floor = Decider(spec(minReplicaCount=2, maxReplicaCount=5))
    decision = floor.decide(m(0), now=0)  # minReplicaCount >= 1: always active
    assert (decision.desired, decision.active) == (2, True)
    assert floor.decide(m(0), now=1000).desired == 2  # never below the minimum, never to zero


def test_kafka_lag_is_bounded_by_partitions_unless_idle_consumers_are_allowed():
    bounded = {**LAG, "metadata": {k: v for k, v in LAG["metadata"].items() if k != "allowIdleConsumers"}}
    decider = Decider(spec(bounded))
    assert decider.decide([Measurement(100, partitions=3)], now=0).desired == 3
    assert Decider(spec(LAG, up=IMMEDIATE_UP)).decide([Measurement(100, partitions=3)], now=0).desired == 10


def test_zero_only_after_the_cooldown_with_no_active_trigger():
    decider = Decider(spec(cooldownPeriod=60, stabilization=0))
    assert decider.decide(m(20), now=0).desired == 4
    decision = decider.decide(m(0), now=30)
    assert (decision.desired, decision.active) == (1, False)  # the HPA's floor while cooling down
    assert "cooling down" in decision.reason
    assert decider.decide(m(0), now=60).desired == 1  # 60 s is not past a 60 s cooldown
    decision = decider.decide(m(0), now=61)
    assert decision.desired == 0 and "inactive for 61.0 s" in decision.reason
    assert decider.decide(m(0), now=90).desired == 0
    assert decider.decide(m(1), now=120).desired == 1  # and back


def test_zero_ignores_the_stabilization_window():
    decider = Decider(spec(cooldownPeriod=10, stabilization=300))
    assert decider.decide(m(20), now=0).desired == 4
    assert decider.decide(m(0), now=5).desired == 4  # stabilized
    assert decider.decide(m(0), now=11).desired == 0  # KEDA's cooldown, not the HPA, scales to zero


def test_scale_up_at_once_scale_down_after_the_stabilization_window():
    decider = Decider(spec(stabilization=60, up=IMMEDIATE_UP, cooldownPeriod=600))
    assert decider.decide(m(20), now=0).desired == 4
    decision = decider.decide(m(5), now=30)
    assert decision.desired == 4 and "held at 4 by the 60 s scale-down stabilization window" in decision.reason
    assert decider.decide(m(5), now=59).desired == 4  # the t=0 recommendation is still in the window
    assert decider.decide(m(5), now=60).desired == 1  # the window is (now - 60 s, now], as the HPA's
    assert decider.decide(m(40), now=61).desired == 8  # up: at once
    assert decider.decide(m(10), now=62).desired == 8


def test_highest_recommendation_of_the_window_wins():
    decider = Decider(spec(stabilization=30, up=IMMEDIATE_UP, cooldownPeriod=600))
    for now, depth in ((0, 10), (10, 30), (20, 15), (30, 5)):
        decider.decide(m(depth), now=now)
    assert decider.replicas == 6  # 30/5 at t=10 is in (0, 30]
    assert decider.decide(m(5), now=41).desired == 3  # t=10 left; 15/5 at t=20 remains
    assert decider.decide(m(5), now=51).desired == 1


def test_an_unreadable_trigger_never_scales_down_or_to_zero():
    decider = Decider(spec(QUEUE, LAG, cooldownPeriod=0, stabilization=0, up=IMMEDIATE_UP))
    assert decider.decide(m(20, 0), now=0).desired == 4
    decision = decider.decide(m(5, None), now=10)
    assert decision.desired == 4 and "cannot read kafka routefarm.reoptimize" in decision.reason
    assert decider.decide(m(50, None), now=20).desired == 10  # up still works
    assert decider.decide(m(0, None), now=30).desired == 10  # not to zero either
    assert decider.decide(m(0, 0), now=40).desired == 0


def test_value_metric_type_multiplies_by_replicas():
    trigger = {**QUEUE, "metricType": "Value"}
    decider = Decider(spec(trigger, stabilization=0), replicas=3)
    decider.last_active = 0
    assert decider.decide(m(10), now=1).desired == 6  # ceil(3 * 10 / 5)


def test_keda_defaults_and_overrides():
    from routefarm.autoscale.scaledobject import SCALE_DOWN, SCALE_UP

    parsed = spec()
    assert (parsed.polling_interval, parsed.cooldown_period, parsed.min_replicas, parsed.max_replicas,
            parsed.scale_up, parsed.scale_down) == (30, 300, 0, 100, SCALE_UP, SCALE_DOWN)
    assert (SCALE_UP.window, SCALE_DOWN.window) == (0, 300)
    assert spec(stabilization=60).scale_down.policies == SCALE_DOWN.policies  # policies kept when absent
    assert parsed.triggers[0].activation == 0 and parsed.triggers[0].target == 5
    changed = parsed.with_overrides(max_replicas=4, cooldown_period=5, polling_interval=1)
    assert (changed.max_replicas, changed.cooldown_period, changed.polling_interval) == (4, 5, 1)
    assert parsed.with_overrides() == parsed


def test_polls_every_interval_with_decisions_that_say_why():
    decider = Decider(spec(pollingInterval=1))
    decision = decider.decide(m(0), now=0)
    assert not decision.changed and decision.reason == "no trigger active"
    decision = decider.decide(m(12), now=1)
    assert decision.changed and decision.reason.startswith("active (redis dramatiq:solve.msgs 12 > 0)")


def test_default_hpa_policies_add_at_most_four_pods_or_double_per_15_s():
    decider = Decider(spec(maxReplicaCount=100, cooldownPeriod=600))
    decision = decider.decide(m(40), now=0)  # KEDA activates 1, the HPA may go to max(1 + 4, 2 * 1)
    assert decision.desired == 5 and "at most 5 (the scale-up policies)" in decision.reason
    assert decider.decide(m(40), now=14).desired == 5  # 4 added within the last 15 s
    assert decider.decide(m(40), now=16).desired == 8  # max(5 + 4, 2 * 5) allows the 8 wanted


def test_scale_down_policies_as_the_deployed_scaled_object_sets_them():
    """At most half the workers go per minute (Percent 50 per 60 s), no stabilization."""
    down = {"stabilizationWindowSeconds": 0, "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]}
    decider = Decider(spec(up=IMMEDIATE_UP, down=down, cooldownPeriod=600))
    assert decider.decide(m(40), now=0).desired == 8
    decision = decider.decide(m(1), now=1)
    assert decision.desired == 4 and "at least 4 (the scale-down policies)" in decision.reason
    assert decider.decide(m(1), now=30).desired == 4  # 4 removed within the last 60 s
    assert decider.decide(m(1), now=62).desired == 2
    assert decider.decide(m(1), now=123).desired == 1


def test_select_policy_min_and_disabled():
    two_ways = {"selectPolicy": "Min", "policies": [{"type": "Pods", "value": 1, "periodSeconds": 15},
                                                    {"type": "Percent", "value": 100, "periodSeconds": 15}]}
    assert Decider(spec(up=two_ways)).decide(m(40), now=0).desired == 2  # min(1 + 1, 2 * 1)
    disabled = {"selectPolicy": "Disabled"}
    decider = Decider(spec(up=disabled, down=disabled, cooldownPeriod=10))
    assert decider.decide(m(40), now=0).desired == 1  # KEDA's activation still happens
    assert decider.decide(m(0), now=5).desired == 1
    assert decider.decide(m(0), now=16).desired == 0  # and so does KEDA's deactivation


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "Deployment"}, "not ScaledObject"),
    ({"spec": {"triggers": []}}, "no redis or kafka trigger"),
    ({"spec": {"maxReplicaCount": 0, "triggers": [QUEUE]}}, "allow no replica"),
    ({"spec": {"pollingInterval": "0", "triggers": [QUEUE]}}, "pollingInterval"),
    ({"spec": {"triggers": [{"type": "redis", "metadata": {"listLength": "5"}}]}}, "listName: missing"),
    ({"spec": {"triggers": [{"type": "redis", "metadata": {"listName": "q", "listLength": "x"}}]}},
     "is not a number"),
    ({"spec": {"triggers": [{**QUEUE, "metricType": "Utilization"}]}}, "metricType"),
    ({"spec": {"triggers": [QUEUE], "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
        "scaleDown": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 60}]}}}}}}, "value must be"),
    ({"spec": {"triggers": [QUEUE], "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
        "scaleUp": {"selectPolicy": "Fastest"}}}}}}, "selectPolicy"),
])
def test_what_cannot_be_applied_is_refused(change, message):
    from routefarm.autoscale.scaledobject import ScaledObjectError

    document = {"kind": "ScaledObject", "spec": {"triggers": [QUEUE]}, **change}
    with pytest.raises(ScaledObjectError, match=message):
        parse(document)


def test_unmeasurable_triggers_are_listed_and_the_scaled_object_is_picked_from_a_stream():
    from routefarm.autoscale.scaledobject import pick

    documents = [{"kind": "Deployment"}, {"kind": "ScaledObject", "metadata": {"name": "w"},
                                         "spec": {"triggers": [{"type": "cpu"}, QUEUE]}}]
    parsed = parse(pick(documents))
    assert parsed.name == "w" and parsed.skipped == ("triggers[0] (type 'cpu')",)
    assert len(parsed.triggers) == 1


def test_persistent_kafka_lag_activates_but_does_not_scale():
    decider = Decider(spec(LAG, up=IMMEDIATE_UP))
    decision = decider.decide([Measurement(50, partitions=6, scaling=0)], now=0)
    assert (decision.desired, decision.active) == (1, True)  # KEDA's activation; the HPA sees no lag
    assert decider.decide([Measurement(50, partitions=6, scaling=30)], now=1).desired == 3


def test_routefarm_up_applies_the_deployed_scaled_object_whole():
    """Every trigger of deploy/keda/worker-scaledobject.yaml is one the local autoscaler measures,
    on the keys, topic and group the code uses."""
    import dramatiq.common

    from routefarm.broker import SOLVE_QUEUE
    from routefarm.kafka.names import INGEST_GROUP, REOPTIMIZE_TOPIC
    from routefarm.local.worker_rules import SCALEDOBJECT, load_spec
    from routefarm.settings import Settings

    parsed, source = load_spec(None)
    assert source == str(SCALEDOBJECT) and not parsed.skipped
    namespace = Settings.model_fields["namespace"].default
    assert {t.metadata["listName"] for t in parsed.triggers if t.type == "redis"} == {
        f"{namespace}:{SOLVE_QUEUE}.msgs", f"{namespace}:{dramatiq.common.dq_name(SOLVE_QUEUE)}.msgs"}
    assert [(t.metadata["consumerGroup"], t.metadata["topic"]) for t in parsed.triggers if t.type == "kafka"] == [
        (INGEST_GROUP, REOPTIMIZE_TOPIC)]


def test_without_the_deploy_folder_built_in_rules_of_the_same_shape_apply(monkeypatch, tmp_path):
    from routefarm.local import worker_rules

    monkeypatch.setattr(worker_rules, "SCALEDOBJECT", tmp_path / "absent.yaml")
    parsed, source = worker_rules.load_spec(None)
    assert source.startswith("built-in rules") and not parsed.skipped
    assert parsed == parse(worker_rules.FALLBACK) and parsed.min_replicas == 0
    assert worker_rules.local_maximum(parsed, 3) == (3, "--max-workers")
