"""A KEDA ``ScaledObject`` (``keda.sh/v1alpha1``) read into what the replica rule needs.

Pure: takes the parsed YAML document (a dict), does no I/O. Absent fields get KEDA's
defaults (pollingInterval 30 s, cooldownPeriod 300 s, minReplicaCount 0, maxReplicaCount
100) and, for ``advanced.horizontalPodAutoscalerConfig.behavior``, the HPA's: scale-up
stabilization 0 s with at most 4 pods or 100 % more per 15 s (the larger), scale-down
stabilization 300 s with at most 100 % fewer per 15 s; a direction given without
``policies`` keeps the default policies, as the Kubernetes API fills them in. Triggers of type
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

from ..errors import OperatorError

POLLING_INTERVAL = 30.0
COOLDOWN_PERIOD = 300.0
MIN_REPLICAS = 0
MAX_REPLICAS = 100

# trigger type -> (target field, activation field, KEDA's default target)
TARGETS = {"redis": ("listLength", "activationListLength", 5.0),
           "kafka": ("lagThreshold", "activationLagThreshold", 10.0)}
REQUIRED = {"redis": ("listName",), "kafka": ("consumerGroup", "topic")}
METRIC_TYPES = ("AverageValue", "Value")
SELECT_POLICIES = ("Max", "Min", "Disabled")
POLICY_TYPES = ("Pods", "Percent")


class ScaledObjectError(OperatorError):
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
class Policy:
    type: str  # "Pods" (a count) or "Percent" (of the replicas at the start of the period)
    value: int
    period: float  # seconds


@dataclass(frozen=True)
class Rules:
    """The HPA's scaling rules for one direction (``HPAScalingRules``)."""

    window: float  # stabilizationWindowSeconds
    select: str = "Max"  # which policy wins: the one allowing the largest change, the smallest, or none
    policies: tuple[Policy, ...] = ()

    def describe(self) -> str:
        if self.select == "Disabled":
            return "disabled"
        rates = f" {self.select.lower()} of " if len(self.policies) > 1 else " "
        rates += " or ".join(f"{p.value}{' pods' if p.type == 'Pods' else ' %'} per {p.period:g} s"
                             for p in self.policies)
        return f"window {self.window:g} s,{rates}"


SCALE_UP = Rules(0.0, "Max", (Policy("Pods", 4, 15.0), Policy("Percent", 100, 15.0)))
SCALE_DOWN = Rules(300.0, "Max", (Policy("Percent", 100, 15.0),))


@dataclass(frozen=True)
class ScalerSpec:
    name: str
    min_replicas: int
    max_replicas: int
    polling_interval: float
    cooldown_period: float
    scale_up: Rules
    scale_down: Rules
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
        scale_up=_rules(behavior.get("scaleUp"), SCALE_UP, "scaleUp"),
        scale_down=_rules(behavior.get("scaleDown"), SCALE_DOWN, "scaleDown"),
        triggers=tuple(triggers), skipped=tuple(skipped))


def _rules(raw: Any, default: Rules, direction: str) -> Rules:
    if raw is None:
        return default
    where = f"spec.advanced.horizontalPodAutoscalerConfig.behavior.{direction}"
    if not isinstance(raw, Mapping):
        raise ScaledObjectError(f"{where}: not a mapping")
    select = raw.get("selectPolicy", "Max")
    if select not in SELECT_POLICIES:
        raise ScaledObjectError(f"{where}.selectPolicy: {select!r} is not one of {', '.join(SELECT_POLICIES)}")
    policies = []
    for index, policy in enumerate(raw.get("policies") or []):
        here = f"{where}.policies[{index}]"
        kind = policy.get("type") if isinstance(policy, Mapping) else None
        if kind not in POLICY_TYPES:
            raise ScaledObjectError(f"{here}.type: {kind!r} is not one of {', '.join(POLICY_TYPES)}")
        value = _number(policy, "value", 0, here)
        period = _number(policy, "periodSeconds", 0, here)
        if value <= 0 or value != int(value) or not 0 < period <= 1800:
            raise ScaledObjectError(f"{here}: value must be a count above 0 and periodSeconds in (0, 1800]")
        policies.append(Policy(kind, int(value), period))
    return Rules(window=_seconds(raw, "stabilizationWindowSeconds", default.window),
                 select=select, policies=tuple(policies) or default.policies)


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
