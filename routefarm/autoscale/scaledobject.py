"""A KEDA ``ScaledObject`` (``keda.sh/v1alpha1``) read into what the replica rule needs.

Pure: takes the parsed YAML document (a dict), does no I/O. Absent fields get KEDA's
defaults (pollingInterval 30 s, cooldownPeriod 300 s, minReplicaCount 0, maxReplicaCount
100) and the HPA's (scale-down stabilization 300 s, scale-up 0 s). Triggers of type
``redis`` (``listName``, ``listLength``, ``activationListLength``) and ``kafka``
(``consumerGroup``, ``topic``, ``lagThreshold``, ``activationLagThreshold``,
``allowIdleConsumers``) are understood; other types are listed in ``skipped`` (the local
autoscaler cannot measure them). Connection fields (``address``, ``bootstrapServers``,
authentication) are left to the caller: locally the farm's own Redis and Kafka are used.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

POLLING_INTERVAL = 30.0
COOLDOWN_PERIOD = 300.0
MIN_REPLICAS = 0
MAX_REPLICAS = 100
SCALE_DOWN_WINDOW = 300.0  # the HPA's default scale-down stabilization
SCALE_UP_WINDOW = 0.0

# trigger type -> (target field, activation field, KEDA's default target)
TARGETS = {"redis": ("listLength", "activationListLength", 5.0),
           "kafka": ("lagThreshold", "activationLagThreshold", 10.0)}
REQUIRED = {"redis": ("listName",), "kafka": ("consumerGroup", "topic")}
METRIC_TYPES = ("AverageValue", "Value")


class ScaledObjectError(ValueError):
    """The document is not a ScaledObject the local autoscaler can apply."""


@dataclass(frozen=True)
class Trigger:
    type: str  # "redis" or "kafka"
    name: str  # the trigger's name, else its type and what it watches
    target: float  # listLength / lagThreshold: the metric one replica is meant to handle
    activation: float  # active when the metric is above this (not equal)
    metric_type: str = "AverageValue"
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def bounded_by_partitions(self) -> bool:
        """Kafka without ``allowIdleConsumers``: no more replicas than the topic has partitions."""
        return self.type == "kafka" and self.metadata.get("allowIdleConsumers", "false").lower() != "true"


@dataclass(frozen=True)
class ScalerSpec:
    name: str
    min_replicas: int
    max_replicas: int
    polling_interval: float
    cooldown_period: float
    scale_down_window: float
    scale_up_window: float
    triggers: tuple[Trigger, ...]
    skipped: tuple[str, ...] = ()  # triggers of types the local autoscaler cannot measure

    def with_overrides(self, *, max_replicas: int | None = None, cooldown_period: float | None = None,
                       polling_interval: float | None = None) -> ScalerSpec:
        """This spec with command-line overrides (None keeps the ScaledObject's value)."""
        changes: dict[str, Any] = {}
        if max_replicas is not None:
            changes["max_replicas"] = max_replicas
            changes["min_replicas"] = min(self.min_replicas, max_replicas)
        if cooldown_period is not None:
            changes["cooldown_period"] = cooldown_period
        if polling_interval is not None:
            changes["polling_interval"] = polling_interval
        return dataclasses.replace(self, **changes)


def pick(documents: Iterable[Any], name: str | None = None) -> Mapping[str, Any]:
    """The ScaledObject among the documents of a YAML stream (the one called ``name`` if given)."""
    found = [d for d in documents if isinstance(d, Mapping) and d.get("kind") == "ScaledObject"
             and (name is None or (d.get("metadata") or {}).get("name") == name)]
    if len(found) != 1:
        what = f"ScaledObject {name!r}" if name else "ScaledObject"
        raise ScaledObjectError(f"expected one {what}, found {len(found)}")
    return found[0]


def parse(document: Mapping[str, Any]) -> ScalerSpec:
    kind = document.get("kind", "ScaledObject")
    if kind != "ScaledObject":
        raise ScaledObjectError(f"kind is {kind!r}, not ScaledObject")
    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        raise ScaledObjectError("spec: missing")
    min_replicas = _count(spec, "minReplicaCount", MIN_REPLICAS)
    max_replicas = _count(spec, "maxReplicaCount", MAX_REPLICAS)
    if max_replicas < 1 or min_replicas > max_replicas:
        raise ScaledObjectError(f"spec: minReplicaCount {min_replicas} and maxReplicaCount "
                                f"{max_replicas} allow no replica")
    behavior = ((spec.get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {}).get("behavior") or {}
    triggers, skipped = [], []
    for index, raw in enumerate(spec.get("triggers") or []):
        kind = raw.get("type") if isinstance(raw, Mapping) else None
        if kind in TARGETS:
            triggers.append(_trigger(raw, index))
        else:
            skipped.append(f"triggers[{index}] (type {kind!r})")
    if not triggers:
        raise ScaledObjectError("spec.triggers: no redis or kafka trigger")
    return ScalerSpec(
        name=str((document.get("metadata") or {}).get("name", "")),
        min_replicas=min_replicas, max_replicas=max_replicas,
        polling_interval=_seconds(spec, "pollingInterval", POLLING_INTERVAL, positive=True),
        cooldown_period=_seconds(spec, "cooldownPeriod", COOLDOWN_PERIOD),
        scale_down_window=_seconds(behavior.get("scaleDown") or {}, "stabilizationWindowSeconds",
                                   SCALE_DOWN_WINDOW),
        scale_up_window=_seconds(behavior.get("scaleUp") or {}, "stabilizationWindowSeconds",
                                 SCALE_UP_WINDOW),
        triggers=tuple(triggers), skipped=tuple(skipped))


def _trigger(raw: Mapping[str, Any], index: int) -> Trigger:
    kind = raw["type"]
    where = f"spec.triggers[{index}]"
    metadata = {str(k): str(v) for k, v in (raw.get("metadata") or {}).items()}
    for key in REQUIRED[kind]:
        if not metadata.get(key):
            raise ScaledObjectError(f"{where}.metadata.{key}: missing")
    target_key, activation_key, default_target = TARGETS[kind]
    target = _number(metadata, target_key, default_target, f"{where}.metadata")
    if target <= 0:
        raise ScaledObjectError(f"{where}.metadata.{target_key}: must be above 0")
    metric_type = raw.get("metricType", "AverageValue")
    if metric_type not in METRIC_TYPES:
        raise ScaledObjectError(f"{where}.metricType: {metric_type!r} is not one of {', '.join(METRIC_TYPES)}")
    watched = metadata["listName"] if kind == "redis" else metadata["topic"]
    return Trigger(type=kind, name=str(raw.get("name") or f"{kind} {watched}"), target=target,
                   activation=_number(metadata, activation_key, 0.0, f"{where}.metadata"),
                   metric_type=metric_type, metadata=metadata)


def _number(values: Mapping[str, Any], key: str, default: float, where: str) -> float:
    raw = values.get(key)
    if raw is None or raw == "":
        return default
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise ScaledObjectError(f"{where}.{key}: {raw!r} is not a number") from None
    if not math.isfinite(number):
        raise ScaledObjectError(f"{where}.{key}: {raw!r} is not a finite number")
    return number


def _count(spec: Mapping[str, Any], key: str, default: int) -> int:
    number = _number(spec, key, default, "spec")
    if number < 0 or number != int(number):
        raise ScaledObjectError(f"spec.{key}: {spec[key]!r} is not a count")
    return int(number)


def _seconds(values: Mapping[str, Any], key: str, default: float, positive: bool = False) -> float:
    number = _number(values, key, default, "spec")
    if number < 0 or (positive and number == 0):
        raise ScaledObjectError(f"{key}: {values[key]!r} must be {'above' if positive else 'at least'} 0")
    return number
