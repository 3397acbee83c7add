"""KEDA's replica rule for one ScaledObject, as a state machine over measurements (no I/O).

Each poll passes one measurement per trigger (None: it could not be read) and the time;
the answer is the replica count to run. KEDA splits the work between its operator
(activation, 0 <-> 1) and the HPA it creates (1 <-> N); both halves are here:

- **Activation.** A trigger is active when its metric is above its activation threshold
  (not equal). With ``minReplicaCount`` >= 1 the ScaledObject is always active.
- **From zero.** Active at 0 replicas: KEDA sets ``max(1, minReplicaCount)`` replicas and
  the HPA takes over from there; locally both happen in the same poll.
- **1 <-> N (the HPA).** Per trigger ``ceil(metric / target)`` (``AverageValue``; ``Value``:
  ``ceil(replicas * metric / target)``); a Kafka trigger without ``allowIdleConsumers`` has
  its metric capped at ``partitions * lagThreshold``. The recommendation is the maximum
  over triggers. Stabilization: a recommendation at or above the current count becomes the
  lowest recommendation of the scale-up window (0 s by default: at once), one below it the
  highest of the scale-down window (300 s by default). Then the rate policies (how many
  pods, or what percentage, may be added or removed per period, counting the changes
  already made in that period) and ``[max(1, minReplicaCount), maxReplicaCount]`` bound
  the change. A trigger that could not be read never lets the HPA scale down.
- **To zero.** No trigger active, ``minReplicaCount`` 0, and ``cooldownPeriod`` passed
  since the last poll with an active trigger (at once when none ever was): 0 replicas,
  whatever the stabilization window and the policies say. Not while a trigger cannot be read.

Not modelled: the HPA's 10 % tolerance, fallback replicas, idleReplicaCount,
initialCooldownPeriod, scalingModifiers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .scaledobject import Rules, ScalerSpec, Trigger


@dataclass(frozen=True)
class Measurement:
    value: float  # the trigger's metric: a list's length, a consumer group's total lag
    partitions: int | None = None  # Kafka: the topic's partitions (bounds the metric)
    scaling: float | None = None  # Kafka: the lag the HPA sees, when it differs (persistent lag left out)


@dataclass(frozen=True)
class Decision:
    replicas: int  # before this poll
    desired: int
    active: bool
    reason: str

    @property
    def changed(self) -> bool:
        return self.desired != self.replicas


def scaling_metric(trigger: Trigger, measurement: Measurement) -> float:
    """The metric the HPA sees for ``trigger`` (Kafka's partition bound applied)."""
    value = measurement.value if measurement.scaling is None else measurement.scaling
    if trigger.bounded_by_partitions and measurement.partitions is not None:
        value = min(value, measurement.partitions * trigger.target)
    return value


def recommendation(trigger: Trigger, measurement: Measurement, replicas: int) -> int:
    """``ceil(metric / target)`` for ``AverageValue``, ``ceil(replicas * metric / target)`` for ``Value``."""
    ratio = scaling_metric(trigger, measurement) / trigger.target
    if trigger.metric_type == "Value":
        ratio *= max(replicas, 1)
    return max(0, math.ceil(round(ratio, 9)))  # 20 / 5 is 4, not 4.000000001 -> 5


def scale_limit(rules: Rules, replicas: int, changed_in: dict[float, int], up: bool) -> int:
    """The HPA's bound on the next count: ``changed_in[period]`` replicas were added (``up``)
    or removed in each policy's period already."""
    if rules.select == "Disabled":
        return replicas
    proposals = []
    for policy in rules.policies:
        if up:
            start = replicas - changed_in[policy.period]
            proposals.append(start + policy.value if policy.type == "Pods"
                             else math.ceil(round(start * (1 + policy.value / 100), 9)))
        else:
            start = replicas + changed_in[policy.period]
            proposals.append(start - policy.value if policy.type == "Pods"
                             else int(start * (1 - policy.value / 100)))
    widest = max if up else min  # "Max": the policy allowing the largest change wins
    return (widest if rules.select == "Max" else (min if up else max))(proposals)


class Decider:
    """Keeps the replica count it decided, the last active time, and the HPA's recent
    recommendations and scale events; ``decide`` is called once per polling interval."""

    def __init__(self, spec: ScalerSpec, replicas: int = 0):
        self.spec = spec
        self.replicas = replicas
        self.last_active: float | None = None
        self.recommendations: list[tuple[float, int]] = []  # (time, recommendation)
        self.events: list[tuple[float, int]] = []  # (time, replicas added (+) or removed (-)) by the HPA

    def decide(self, measurements: Sequence[Measurement | None], now: float) -> Decision:
        spec = self.spec
        if len(measurements) != len(spec.triggers):
            raise ValueError(f"{len(measurements)} measurements for {len(spec.triggers)} triggers")
        pairs = list(zip(spec.triggers, measurements, strict=True))
        failed = [t.name for t, m in pairs if m is None]
        active_by = [f"{t.name} {_num(m.value)} > {_num(t.activation)}" for t, m in pairs
                     if m is not None and m.value > t.activation]
        active = bool(active_by) or spec.min_replicas >= 1
        if active:
            self.last_active = now
        replicas = self.replicas
        if replicas == 0:
            if not active:
                return self._settle(0, False, _unreadable(failed) or "no trigger active")
            start = max(1, spec.min_replicas)  # KEDA activates; the HPA goes on from there
            self.recommendations, self.events = [], []
            desired, why = self._hpa(pairs, start, failed, now)
            return self._settle(desired, True, f"active ({'; '.join(active_by) or 'minReplicaCount'}); {why}")
        if not active and spec.min_replicas == 0:
            if failed:
                return self._settle(replicas, False, f"{_unreadable(failed)}; not scaling to zero")
            idle = None if self.last_active is None else now - self.last_active
            if idle is None or idle > spec.cooldown_period:
                self.recommendations, self.events = [], []
                since = "never active" if idle is None else f"inactive for {idle:.1f} s"
                return self._settle(0, False, f"no trigger active ({since}, "
                                    f"cooldownPeriod {_num(spec.cooldown_period)} s)")
        desired, why = self._hpa(pairs, replicas, failed, now)
        if active_by:
            state = f"active ({'; '.join(active_by)})"
        else:
            state = "no trigger active" + (", cooling down" if spec.min_replicas == 0 else "")
        return self._settle(desired, active, f"{state}; {why}")

    def _hpa(self, pairs, current: int, failed: list[str], now: float) -> tuple[int, str]:
        """The HPA's answer from ``current`` replicas: recommend, stabilize, limit the rate."""
        parts, raw = [], 0
        for trigger, measurement in pairs:
            if measurement is None:
                continue
            count = recommendation(trigger, measurement, current)
            raw = max(raw, count)
            parts.append(f"{trigger.name} {_num(scaling_metric(trigger, measurement))}/"
                         f"{_num(trigger.target)} -> {count}")
        why = [", ".join(parts) or "no metric"]
        if failed and raw < current:
            raw = current
            why.append(f"{_unreadable(failed)}, not scaling down")
        desired = self._stabilize(raw, current, now)
        if desired != raw:
            up = raw >= current
            window = (self.spec.scale_up if up else self.spec.scale_down).window
            why.append(f"held at {desired} by the {_num(window)} s {'scale-up' if up else 'scale-down'} "
                       "stabilization window")
        bounded, limit = self._bound(desired, current, now)
        if bounded != desired:
            why.append(f"{'at most' if bounded < desired else 'at least'} {bounded} ({limit})")
        if bounded != current:
            self.events.append((now, bounded - current))
        return bounded, "; ".join(why)

    def _stabilize(self, raw: int, current: int, now: float) -> int:
        spec = self.spec
        up = raw >= current
        window = spec.scale_up.window if up else spec.scale_down.window
        recent = [r for t, r in self.recommendations if t > now - window]
        stabilized = min([raw, *recent]) if up else max([raw, *recent])
        horizon = now - max(spec.scale_up.window, spec.scale_down.window)
        self.recommendations = [(t, r) for t, r in self.recommendations if t >= horizon] + [(now, raw)]
        return stabilized

    def _bound(self, desired: int, current: int, now: float) -> tuple[int, str]:
        """``desired`` within the rate policies and ``[max(1, min), max]``, and what bounded it."""
        spec = self.spec
        floor = max(1, spec.min_replicas)
        if current > spec.max_replicas:  # maxReplicaCount was lowered
            return spec.max_replicas, "maxReplicaCount"
        if desired > current:
            rules = spec.scale_up
            added = {p.period: sum(n for t, n in self.events if n > 0 and t > now - p.period)
                     for p in rules.policies}
            limit = max(scale_limit(rules, current, added, up=True), current)
            if spec.max_replicas <= limit:
                return min(desired, spec.max_replicas), "maxReplicaCount"
            return min(desired, limit), "the scale-up policies"
        if desired < current:
            rules = spec.scale_down
            removed = {p.period: sum(-n for t, n in self.events if n < 0 and t > now - p.period)
                       for p in rules.policies}
            limit = min(scale_limit(rules, current, removed, up=False), current)
            if floor >= limit:
                return max(desired, floor), "minReplicaCount, at least 1 while active"
            return max(desired, limit), "the scale-down policies"
        return desired, ""

    def _settle(self, desired: int, active: bool, reason: str) -> Decision:
        decision = Decision(replicas=self.replicas, desired=desired, active=active, reason=reason)
        self.replicas = desired
        return decision


def _unreadable(failed: list[str]) -> str:
    return f"cannot read {', '.join(failed)}" if failed else ""


def _num(value: float) -> str:
    return f"{value:g}"
