"""The workers' scaling rules for ``routefarm up``: the ScaledObject to apply (the
checkout's ``deploy/keda/worker-scaledobject.yaml``, another file, or built-in rules of the
same shape), the local maximum of workers, and a one-line description for the output."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from routefarm.autoscale.scaledobject import ScaledObjectError, ScalerSpec, parse, pick

from .common import FarmError

SCALEDOBJECT = Path(__file__).resolve().parents[2] / "deploy" / "keda" / "worker-scaledobject.yaml"
# Used when the checkout has no deploy/keda/worker-scaledobject.yaml: the same shape, values
# for one machine (a worker solves one job at a time, so one replica per message).
FALLBACK: dict[str, Any] = {
    "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "routefarm-worker"},
    "spec": {
        "scaleTargetRef": {"name": "routefarm-worker"},
        "pollingInterval": 5, "cooldownPeriod": 60, "minReplicaCount": 0, "maxReplicaCount": 8,
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
            "scaleDown": {"stabilizationWindowSeconds": 30}}}},
        "triggers": [
            {"type": "redis", "metadata": {"listName": "dramatiq:solve.msgs", "listLength": "1",
                                           "activationListLength": "0"}},
            {"type": "redis", "metadata": {"listName": "dramatiq:solve.DQ.msgs", "listLength": "1",
                                           "activationListLength": "0"}},
            {"type": "kafka", "metadata": {"consumerGroup": "routefarm-ingest", "topic": "routefarm.reoptimize",
                                           "lagThreshold": "10", "activationLagThreshold": "0",
                                           "offsetResetPolicy": "earliest", "allowIdleConsumers": "true"}},
        ],
    },
}


def load_spec(path: Path | None) -> tuple[ScalerSpec, str]:
    """The ScaledObject to apply and where it came from (a FarmError if it cannot be used)."""
    import yaml

    if path is None and not SCALEDOBJECT.is_file():
        return parse(FALLBACK), f"built-in rules ({SCALEDOBJECT} does not exist)"
    path = Path(path or SCALEDOBJECT)
    try:
        with open(path, encoding="utf-8") as handle:
            documents = list(yaml.safe_load_all(handle))
        return parse(pick(documents)), str(path)
    except OSError as exc:
        raise FarmError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise FarmError(f"{path}: not YAML: {exc}") from None
    except ScaledObjectError as exc:
        raise FarmError(f"{path}: {exc}") from None


def local_maximum(spec: ScalerSpec, max_workers: int | None) -> tuple[int, str]:
    """``--max-workers``, else maxReplicaCount but no more than this machine's CPUs."""
    if max_workers is not None:
        return max_workers, "--max-workers"
    cpus = os.cpu_count() or 1
    if spec.max_replicas > cpus:
        return cpus, f"this machine's {cpus} CPUs (maxReplicaCount {spec.max_replicas}; --max-workers overrides)"
    return spec.max_replicas, "maxReplicaCount"


def describe(spec: ScalerSpec) -> str:
    triggers = "; ".join(f"{t.name} (target {t.target:g}, activation above {t.activation:g})"
                         for t in spec.triggers)
    return (f"{spec.min_replicas}..{spec.max_replicas} workers, polling every {spec.polling_interval:g} s, "
            f"cooldown {spec.cooldown_period:g} s; scale-up {spec.scale_up.describe()}; "
            f"scale-down {spec.scale_down.describe()}; triggers: {triggers}")
