"""The HTTP latency histogram's labels come from fixed sets: made-up methods and paths sent
to the real app add no label values (method: the standard ones or "other"; route: a rule of
the app or "<unmatched>")."""

from __future__ import annotations

import random
import string

from prometheus_client.parser import text_string_to_metric_families

from api.metrics import METHODS, UNMATCHED

FAMILY = "routefarm_http_request_duration_seconds"


def label_values(http, label: str) -> set[str]:
    text = http.get("/metrics").get_data(as_text=True)
    return {sample.labels[label] for family in text_string_to_metric_families(text) if family.name == FAMILY
            for sample in family.samples if label in sample.labels}


def test_made_up_methods_and_paths_add_no_label_values(http, auth, app):
    _, headers = auth()
    earlier = label_values(http, "route")  # the process's registry: other tests' apps had other rules
    rng = random.Random(5)
    sent = set()
    for _ in range(50):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        path = "/" + "".join(rng.choices(string.ascii_lowercase + "/", k=rng.randint(1, 30)))
        sent.add(method)
        for target in (path, "/v1/jobs"):
            assert http.open(target, method=method, headers=headers).status_code in (404, 405)
    assert http.get("/v1/jobs", headers=headers).status_code == 200
    methods = label_values(http, "method")
    assert methods <= METHODS | {"other"}
    assert "other" in methods and "GET" in methods
    assert not methods & sent
    routes = label_values(http, "route")
    assert routes - earlier <= {rule.rule for rule in app.url_map.iter_rules()} | {UNMATCHED}
    assert {"/v1/jobs", UNMATCHED} <= routes
