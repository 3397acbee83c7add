"""KEDA's replica rule for one ScaledObject, as a state machine over measurements (no I/O).

Each poll passes one measurement per trigger (None: it could not be read) and the time;
the answer is the replica count to run. KEDA splits the work between its operator
(activation, 0 <-> 1) and the HPA it creates (1 <-> N); both halves are here:

- **Activation.** A trigger is active when its metric is above its activation threshold
  (not equal). With ``minReplicaCount`` >= 1 the ScaledObject is always active.
- **From zero.** Active at 0 replicas: scale at once to the HPA's recommendation, at least
  ``max(1, minReplicaCount)`` (KEDA sets 1 and the HPA follows at its next sync; locally
  both happen in one poll).
- **1 <-> N (the HPA).** Per trigger ``ceil(metric / target)`` (``AverageValue``; ``Value``:
  ``ceil(replicas * metric / target)``); a Kafka trigger without ``allowIdleConsumers`` has
  its metric capped at ``partitions * lagThreshold``. The maximum over triggers, clamped to
  ``[max(1, minReplicaCount), maxReplicaCount]``, is the recommendation. Scaling up follows
  the lowest recommendation of the scale-up window (0 s by default: at once); scaling down
  follows the highest recommendation of the scale-down window (stabilization, 300 s by
  default). A trigger that could not be read never lets the HPA scale down.
- **To zero.** No trigger active, ``minReplicaCount`` 0, and ``cooldownPeriod`` passed
  since the last poll with an active trigger (at once when none was ever active): 0
  replicas, whatever the stabilization window holds. Not while a trigger cannot be read.

Not modelled: the HPA's 10 % tolerance and its scale-up/down rate policies, fallback
replicas, idleReplicaCount, initialCooldownPeriod, scalingModifiers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .scaledobject import ScalerSpec, Trigger


@dataclass(frozen=True)
class Measurement:
    value: float  # the trigger's metric: a list's length, a consumer group's total lag
    partitions: int | None = None  # Kafka: the topic's partitions (bounds the metric)


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
    value = measurement.value
    if trigger.bounded_by_partitions and measurement.partitions is not None:
        value = min(value, measurement.partitions * trigger.target)
    return value


def recommendation(trigger: Trigger, measurement: Measurement, replicas: int) -> int:
    """``ceil(metric / target)`` for ``AverageValue``, ``ceil(replicas * metric / target)`` for ``Value``."""
    ratio = scaling_metric(trigger, measurement) / trigger.target
    if trigger.metric_type == "Value":
        ratio *= max(replicas, 1)
    return max(0, math.ceil(round(ratio, 9)))  # 20 / 5 is 4, not 4.000000001 -> 5


class Decider:
    """Keeps the replica count it decided, the last active time and the HPA's recent
    recommendations; ``decide`` is called once per polling interval."""

    def __init__(self, spec: ScalerSpec, replicas: int = 0):
        self.spec = spec
        self.replicas = replicas
        self.last_active: float | None = None
        self.history: list[tuple[float, int]] = []  # (time, recommendation) while replicas > 0

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
            desired, why = self._recommend(pairs, 1, failed)
            self.history = [(now, desired)]
            return self._settle(desired, True, f"active ({'; '.join(active_by) or 'minReplicaCount'}); "
                                f"{why}")
        if not active and spec.min_replicas == 0:
            if failed:
                return self._settle(replicas, False, f"{_unreadable(failed)}; not scaling to zero")
            idle = None if self.last_active is None else now - self.last_active
            if idle is None or idle > spec.cooldown_period:
                self.history = []
                since = "never active" if idle is None else f"inactive for {idle:.1f} s"
                return self._settle(0, False, f"no trigger active ({since}, "
                                    f"cooldownPeriod {_num(spec.cooldown_period)} s)")
        recommended, why = self._recommend(pairs, replicas, failed)
        desired, why = self._stabilize(recommended, replicas, now, why)
        if active_by:
            state = f"active ({'; '.join(active_by)})"
        else:
            state = "no trigger active" + (", cooling down" if spec.min_replicas == 0 else "")
        return self._settle(desired, active, f"{state}; {why}")

    def _recommend(self, pairs, replicas: int, failed: list[str]) -> tuple[int, str]:
        spec = self.spec
        parts, best = [], 0
        for trigger, measurement in pairs:
            if measurement is None:
                continue
            count = recommendation(trigger, measurement, replicas)
            best = max(best, count)
            parts.append(f"{trigger.name} {_num(scaling_metric(trigger, measurement))}/"
                         f"{_num(trigger.target)} -> {count}")
        floor = max(1, spec.min_replicas)
        clamped = min(max(best, floor), spec.max_replicas)
        why = ", ".join(parts) or "no metric"
        if clamped != best:
            why += f"; clamped to [{floor}, {spec.max_replicas}]"
        if failed and clamped < replicas:
            clamped = replicas
            why += f"; {_unreadable(failed)}, not scaling down"
        return clamped, why

    def _stabilize(self, recommended: int, replicas: int, now: float, why: str) -> tuple[int, str]:
        spec = self.spec
        self.history.append((now, recommended))
        horizon = now - max(spec.scale_down_window, spec.scale_up_window)
        self.history = [(t, r) for t, r in self.history if t > horizon or t == now]
        up = min(r for t, r in self.history if t > now - spec.scale_up_window or t == now)
        down = max(r for t, r in self.history if t > now - spec.scale_down_window or t == now)
        desired = min(max(replicas, up), down)
        if desired > recommended:
            why += f"; held at {desired} by the {_num(spec.scale_down_window)} s stabilization window"
        elif desired < recommended:
            why += f"; held at {desired} by the {_num(spec.scale_up_window)} s scale-up window"
        return desired, why

    def _settle(self, desired: int, active: bool, reason: str) -> Decision:
        decision = Decision(replicas=self.replicas, desired=desired, active=active, reason=reason)
        self.replicas = desired
        return decision


def _unreadable(failed: list[str]) -> str:
    return f"cannot read {', '.join(failed)}" if failed else ""


def _num(value: float) -> str:
    return f"{value:g}"
