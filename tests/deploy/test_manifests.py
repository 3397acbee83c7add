"""The Kubernetes manifests in deploy/keda: they parse, core kinds validate against a fixed
Kubernetes version, and what they say agrees with itself and with the code's settings."""

from __future__ import annotations

import os
import re

import kubernetes_validate
import pytest
from deploy_support import (
    COMPONENT,
    KEDA_DIR,
    NOT_APPLIED,
    all_resources,
    config_data,
    containers,
    deployments,
    kustomization,
    manifest_paths,
    of_kind,
    one,
    read_resources,
    scaled_object,
    secret_data,
)

from routefarm.settings import Settings

KUBERNETES = "1.33.0"  # the version core kinds are validated against (offline, strict)
KEDA_GROUP = "keda.sh/"
IMAGE = "routefarm"
EXTRA_SETTINGS: set[str] = set()  # every ROUTEFARM_* variable is a field of Settings
# set by each Deployment beside its probes' port; a local farm's folder (routefarm up only)
PER_PROCESS = {"ROUTEFARM_METRICS_PORT", "ROUTEFARM_DATA_DIR"}
CLUSTER_VALUES = {"kafka_bootstrap"}  # the ConfigMap's only value that is not the default


def test_every_file_parses_into_named_resources():
    paths = manifest_paths()
    assert paths, f"no manifests in {KEDA_DIR}"
    for path in paths:
        resources = read_resources(path)
        assert resources, f"{path.name}: no document"
        for resource in resources:
            assert {"apiVersion", "kind", "metadata"} <= resource.body.keys(), str(resource)
            assert resource.name, str(resource)


def test_kustomization_lists_every_manifest_but_the_documented_exceptions():
    listed = kustomization()["resources"]
    assert len(listed) == len(set(listed)), "a resource is listed twice"
    on_disk = {path.name for path in manifest_paths() if path.parent == KEDA_DIR}
    assert set(listed) <= on_disk, f"listed but missing: {set(listed) - on_disk}"
    assert set(listed) | NOT_APPLIED == on_disk
    assert not set(listed) & NOT_APPLIED


def test_names_are_unique_per_kind():
    seen: set[tuple[str, str]] = set()
    for resource in all_resources():
        key = (resource.kind, resource.name)
        assert key not in seen, f"{resource}: defined twice"
        seen.add(key)


@pytest.mark.parametrize("resource", [r for r in all_resources() if not r.body["apiVersion"].startswith(KEDA_GROUP)],
                         ids=str)
def test_core_kinds_validate(resource):
    body = dict(resource.body)
    body["metadata"] = {**body["metadata"], "namespace": body["metadata"].get("namespace", "routefarm")}
    try:
        kubernetes_validate.validate(body, KUBERNETES, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(part) for part in exc.path)
        pytest.fail(f"{resource}: {where}: {exc.message}", pytrace=False)


def test_deployments_run_the_one_image_as_a_non_root_user():
    images = {entry["name"] for entry in kustomization()["images"]}
    assert images == {IMAGE}
    for workload in of_kind("Deployment") + of_kind("Job"):
        pod = workload.body["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, str(workload)
        assert pod["securityContext"]["runAsUser"] != 0, str(workload)
        assert pod["automountServiceAccountToken"] is False, str(workload)
        for container in pod["containers"]:
            # kustomize sets the tag (the Job's kustomization too: deploy/keda/migrate)
            assert container["image"] == IMAGE, str(workload)
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, str(workload)
            assert security["readOnlyRootFilesystem"] is True, str(workload)
            assert security["capabilities"]["drop"] == ["ALL"], str(workload)
            mounted = {m["mountPath"] for m in container.get("volumeMounts", [])}
            if workload.kind == "Deployment":  # Prometheus' multiprocess files and gunicorn's live in /tmp
                assert "/tmp" in mounted, f"{workload}: /tmp is not writable"


def test_every_container_has_requests_and_a_memory_limit():
    for workload in of_kind("Deployment") + of_kind("Job"):
        for container in containers(workload):
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys(), str(workload)
            assert "memory" in resources["limits"], str(workload)


def test_autoscaled_deployments_leave_the_replica_count_to_their_autoscaler():
    targets = {hpa.body["spec"]["scaleTargetRef"]["name"] for hpa in of_kind("HorizontalPodAutoscaler")}
    targets.add(scaled_object()["spec"]["scaleTargetRef"]["name"])
    names = {d.name for d in of_kind("Deployment")}
    assert targets <= names, f"autoscaler targets without a Deployment: {targets - names}"
    for workload in of_kind("Deployment"):
        if workload.name in targets:
            assert "replicas" not in workload.body["spec"], f"{workload}: re-applying would reset the autoscaler"
        else:
            assert workload.body["spec"]["replicas"] >= 1, str(workload)


def _port_number(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert numbers, f"{container['name']}: no container port named {port!r}"
    return numbers[0]


def test_probes_use_declared_ports_and_the_metrics_port_is_the_one_served():
    for component, workload in deployments().items():
        (container,) = containers(workload)
        probes = [container[k] for k in ("startupProbe", "readinessProbe", "livenessProbe") if k in container]
        assert "livenessProbe" in container, f"{component}: no liveness probe"
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        for probe in probes:
            port = _port_number(container, probe["httpGet"]["port"])
            if component == "api":
                assert port == int(env["PORT"]), "gunicorn binds PORT"
            else:  # worker, webhook and stream serve /metrics on ROUTEFARM_METRICS_PORT
                assert port == int(env["ROUTEFARM_METRICS_PORT"]), component
                assert probe["httpGet"]["path"] == "/metrics", component


def test_service_hpa_and_pdb_select_the_api_pods():
    api = deployments()["api"]
    pod_labels = api.body["spec"]["template"]["metadata"]["labels"]
    service = one("Service", "routefarm-api").body["spec"]
    assert service["selector"].items() <= pod_labels.items()
    (container,) = containers(api)
    assert {p["targetPort"] for p in service["ports"]} <= {p["name"] for p in container["ports"]}
    pdb = one("PodDisruptionBudget", "routefarm-api").body["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    hpa = one("HorizontalPodAutoscaler", "routefarm-api").body["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": api.name}
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    assert hpa["minReplicas"] > pdb["maxUnavailable"], "a voluntary disruption must leave a pod serving"


def test_selectors_match_their_pod_templates():
    for workload in of_kind("Deployment"):
        selector = workload.body["spec"]["selector"]["matchLabels"]
        labels = workload.body["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), str(workload)
        assert COMPONENT in selector, str(workload)


def test_worker_grace_period_outlasts_the_longest_allowed_solve():
    worker = deployments()["worker"].body["spec"]["template"]["spec"]
    configured = float(config_data()["ROUTEFARM_MAX_TIME_LIMIT_S"])
    assert configured == Settings.model_fields["max_time_limit_s"].default
    assert worker["terminationGracePeriodSeconds"] > configured


def _settings_env() -> dict[str, str]:
    return {**config_data(), **secret_data("routefarm-secrets")}


def test_config_and_secret_name_every_setting_once():
    config, secret = config_data(), secret_data("routefarm-secrets")
    fields = {f"ROUTEFARM_{name.upper()}" for name in Settings.model_fields}
    assert not config.keys() & secret.keys(), "a setting is in both the ConfigMap and the Secret"
    named = config.keys() | secret.keys()
    assert named - fields - EXTRA_SETTINGS == set(), "not a setting of routefarm/settings.py"
    assert fields - named - PER_PROCESS == set(), "a setting missing from the example ConfigMap or Secret"
    for key, value in config.items():
        assert not re.search(r"://[^/@]*:[^/@]*@", value), f"{key}: a credential belongs in the Secret"


def test_example_config_is_valid_settings(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ROUTEFARM_"):
            monkeypatch.delenv(name)
    for key, value in _settings_env().items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert len(settings.shards) >= 1
    for key, value in config_data().items():  # the defaults, stated (units in the comments)
        field = key.removeprefix("ROUTEFARM_").lower()
        if field in Settings.model_fields and field not in CLUSTER_VALUES:
            assert getattr(settings, field) == Settings.model_fields[field].default, f"{key}: {value}"


def test_pods_read_config_and_secret_that_exist():
    names = {"configMapRef": {r.name for r in of_kind("ConfigMap")},
             "secretRef": {r.name for r in of_kind("Secret")}}
    for workload in of_kind("Deployment") + of_kind("Job"):
        for container in containers(workload):
            sources = container["envFrom"]
            assert {next(iter(s)) for s in sources} == set(names), str(workload)
            for source in sources:
                (ref, target), = source.items()
                assert target["name"] in names[ref], f"{workload}: unknown {ref} {target['name']}"
