"""Scrapes, metrics ports, the webhook sender's egress and the migration kustomization:
what the manifests say agrees with the pods they select and with the SSRF guard.

PodMonitor is a Prometheus Operator CRD: its documents are validated against the CRD's
schema as the npm package @kubernetes-models/prometheus-operator compiles it (installed by
``.ci/run`` into tests/deploy/podmonitor; skipped with the command to run where Node.js or
the package is missing, failed under CI), and checked against the pods they select."""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_support import (
    COMPONENT,
    MIGRATE_DIR,
    ROOT,
    containers,
    deployments,
    kustomization,
    monitoring_resources,
    of_kind,
    one,
)

PODMONITOR_SPEC = {"selector", "podMetricsEndpoints", "jobLabel", "namespaceSelector", "podTargetLabels"}
ENDPOINT = {"port", "path", "interval", "scrapeTimeout", "relabelings", "metricRelabelings", "scheme"}


def _metrics_port(container: dict) -> int:
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    assert ports.get("metrics") == int(env["ROUTEFARM_METRICS_PORT"]), container["name"]
    return ports["metrics"]


def test_every_process_kind_is_scraped_on_its_metrics_port():
    monitors = monitoring_resources()
    assert {m.kind for m in monitors} == {"PodMonitor"}
    scraped = {}
    for monitor in monitors:
        assert monitor.body["apiVersion"] == "monitoring.coreos.com/v1"
        spec = monitor.body["spec"]
        assert set(spec) <= PODMONITOR_SPEC, set(spec) - PODMONITOR_SPEC
        assert all(set(e) <= ENDPOINT for e in spec["podMetricsEndpoints"])
        labels = spec["selector"]["matchLabels"]
        (workload,) = [d for d in deployments().values()
                       if labels.items() <= d.body["spec"]["template"]["metadata"]["labels"].items()]
        (container,) = containers(workload)
        _metrics_port(container)
        assert [e["port"] for e in spec["podMetricsEndpoints"]] == ["metrics"]
        scraped[labels[COMPONENT]] = monitor.name
    assert set(scraped) == set(deployments()), "every Deployment has a PodMonitor"
    # the scrape jobs the alert rules name
    assert set(scraped.values()) == {"routefarm-web", "routefarm-worker", "routefarm-webhook", "routefarm-stream"}


CHECKER = Path(__file__).resolve().parent / "podmonitor"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _validate(documents: list[dict], folder: Path) -> subprocess.CompletedProcess:
    path = folder / "podmonitors.json"
    path.write_text(json.dumps(documents))
    return subprocess.run(["node", str(CHECKER / "check.mjs"), str(path)], capture_output=True, text=True,
                          timeout=60, cwd=CHECKER)


def test_the_podmonitors_validate_against_the_crd_schema(tmp_path):
    if shutil.which("node") is None or not (CHECKER / "node_modules" / "@kubernetes-models").is_dir():
        reason = f"the PodMonitor schema check needs Node.js and `npm ci --prefix {CHECKER.relative_to(ROOT)}`"
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    documents = [m.body for m in monitoring_resources()]
    checked = _validate(documents, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.split() == [w for m in documents for w in ("ok", m["metadata"]["name"])]
    broken = copy.deepcopy(documents)
    broken[0]["spec"]["podMetricsEndpoints"][0]["port"] = 9100  # a port name, in the CRD: not a number
    refused = _validate(broken, tmp_path)
    assert refused.returncode == 1 and "port must be string" in refused.stdout, refused.stdout


def test_the_public_service_does_not_publish_metrics():
    (api,) = containers(deployments()["api"])
    metrics = _metrics_port(api)
    service = one("Service", "routefarm-api").body["spec"]
    assert all(p["targetPort"] not in ("metrics", metrics) for p in service["ports"])


def _egress_blocks(policy: dict) -> list[tuple[ipaddress._BaseNetwork, list[ipaddress._BaseNetwork]]]:
    return [(ipaddress.ip_network(peer["ipBlock"]["cidr"]),
             [ipaddress.ip_network(c) for c in peer["ipBlock"].get("except", [])])
            for rule in policy["spec"]["egress"] for peer in rule.get("to", []) if "ipBlock" in peer]


def _public_rule_admits(policy: dict, address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == cidr.version and ip in cidr and not any(ip in e for e in excepted)
               for cidr, excepted in _egress_blocks(policy))


def test_the_webhook_sender_reaches_public_addresses_only():
    from tests_ssrf_addresses import FORBIDDEN_IPS

    from routefarm.webhooks.ssrf import forbidden_reason

    assert all(forbidden_reason(ipaddress.ip_address(a)) for a in FORBIDDEN_IPS), "the guard refuses each"
    policy = one("NetworkPolicy", "routefarm-webhook-egress").body
    assert policy["spec"]["podSelector"]["matchLabels"][COMPONENT] == "webhook"
    assert policy["spec"]["policyTypes"] == ["Egress"]
    for address in FORBIDDEN_IPS:
        assert not _public_rule_admits(policy, address), f"{address} is reachable"
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
        assert _public_rule_admits(policy, address), f"{address} (public) is not reachable"
    dns = [r for r in policy["spec"]["egress"] if any(p.get("port") == 53 for p in r.get("ports", []))]
    assert dns and {p["protocol"] for p in dns[0]["ports"]} == {"UDP", "TCP"}


def test_the_migration_is_its_own_kustomization_with_the_image_set_by_kustomize():
    migrate = kustomization(MIGRATE_DIR)
    assert migrate["resources"] == ["job.yaml"] and migrate["namespace"] == "routefarm"
    assert migrate["images"] == kustomization()["images"], "the same image as the Deployments"
    (job,) = of_kind("Job")
    (container,) = containers(job)
    assert container["image"] == "routefarm" and container["command"] == ["routefarm", "db", "migrate"]
