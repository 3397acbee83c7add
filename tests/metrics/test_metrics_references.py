"""The dashboard and the alert rules name only metrics the code exports; every required
family is on the dashboard; every rule has a runbook; the Alertmanager example routes to a
chat webhook and to email on example.com."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from metrics_support import family_of, metric_names

from routefarm.observability.metrics import family_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REQUIRED = {
    "routefarm_http_request_duration_seconds", "routefarm_jobs_submitted_total", "routefarm_jobs_finished_total",
    "routefarm_job_solve_seconds", "routefarm_job_e2e_seconds", "routefarm_queue_depth", "routefarm_workers",
    "routefarm_webhook_attempts_total", "routefarm_outbox_backlog",
}


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "routefarm.json").read_text())
    exprs = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            exprs += [t["expr"] for t in inner.get("targets", [])]
    return exprs


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_metric_name_extraction():
    expr = ('histogram_quantile(0.99, sum by (le, outcome) (rate(routefarm_job_e2e_seconds_bucket'
            '{outcome="succeeded", x=~"a|b"}[5m]))) > 1e3 and on (queue) up offset 5m')
    assert metric_names(expr) == {"routefarm_job_e2e_seconds_bucket", "up"}


def test_registered_families_include_the_required_ones():
    names = family_names()
    assert names >= REQUIRED
    assert all(n.startswith("routefarm_") or n.startswith("process_") for n in names)


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_expressions_name_only_exported_metrics(source):
    known = family_names()
    exprs = dashboard_exprs() if source == "dashboard" else [r["expr"] for r in alert_rules()]
    assert exprs
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        unknown = {n for n in names if family_of(n, known) not in known}
        assert not unknown, f"{source}: {expr!r} names metrics the code does not export: {unknown}"


def test_dashboard_covers_every_required_family():
    known = family_names()
    used = {family_of(n, known) for expr in dashboard_exprs() for n in metric_names(expr)}
    assert used >= REQUIRED, REQUIRED - used


def test_alert_rules_have_runbooks_and_cover_the_issue():
    rules = alert_rules()
    for rule in rules:
        assert rule["alert"].startswith("Routefarm")
        assert rule["annotations"]["runbook"].strip(), rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
    names = {r["alert"] for r in rules}
    assert {"RoutefarmBacklogGrowing", "RoutefarmJobFailureRatio", "RoutefarmEndToEndP99High",
            "RoutefarmWebhookRetriesExhausted", "RoutefarmShardDown", "RoutefarmWorkerCPUHigh",
            "RoutefarmOutboxBacklog"} <= names
    by_name = {r["alert"]: r for r in rules}
    assert by_name["RoutefarmBacklogGrowing"]["for"] == "10m"
    assert by_name["RoutefarmWorkerCPUHigh"]["for"] == "5m"
    assert "0.05" in by_name["RoutefarmJobFailureRatio"]["expr"]


def test_alertmanager_example_routes_to_chat_and_email():
    config = yaml.safe_load((DEPLOY / "prometheus" / "alertmanager.example.yaml").read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    routed = {config["route"]["receiver"]} | {r["receiver"] for r in config["route"]["routes"]}
    assert routed <= set(receivers)
    assert any("webhook_configs" in receivers[name] for name in routed)
    assert any("email_configs" in receivers[name] for name in routed)
    text = json.dumps(config)
    for address in [c["to"] for r in receivers.values() for c in r.get("email_configs", [])] + \
            [config["global"]["smtp_from"]]:
        assert address.endswith("@example.com"), address
    for hook in [c["url"] for r in receivers.values() for c in r.get("webhook_configs", [])]:
        assert ".example.com/" in hook, hook
    assert "password" not in text.lower()
