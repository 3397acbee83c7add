"""schemathesis over every operation of ``/openapi.json``, against the real app over real
PostgreSQL and Redis, with a real client's key: no answer is a 5xx, and every 4xx is RFC
9457 problem details.

The document is the one ``/openapi.json`` serves (built from the API's routes at collection
time, so each operation is its own test; ``test_the_fuzzed_document_is_the_apps`` holds it
against the app's). A case whose path names a resource is sent twice: with the generated
ids (resources that do not exist) and with the ids of resources the client owns (a
succeeded job, a batch, a webhook endpoint, a delivery), so bodies and queries also reach
the code past the lookup. Twelve examples per operation and phase by default
(``ROUTEFARM_FUZZ_SCALE`` multiplies them, see ``fuzz_support``).
"""

from __future__ import annotations

import schemathesis
from fuzz_support import budget, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from support import SMALL_PROBLEM, assert_problem_json, problem_details

from api.routes import spec

EXAMPLES = 12
schema = schemathesis.openapi.from_dict(spec())
schema.config.generation.update(max_examples=budget(EXAMPLES), deterministic=True)


@schema.parametrize()
@fuzz_settings(EXAMPLES)
def test_no_server_error_and_every_error_is_problem_json(case, app, seeded):
    headers, owned = seeded
    sent = [dict(case.path_parameters or {})]
    if case.path_parameters:
        sent.append({name: owned.get(name, value) for name, value in case.path_parameters.items()})
    for path_parameters in sent:
        case.path_parameters = path_parameters
        response = case.call(app=app, headers=headers)
        status = response.status_code
        assert status < 500, (case.as_curl_command(), response.text[:500])
        if status >= 400:
            content_type = response.headers.get("content-type", [""])[0]
            problem_details(status, content_type, response.content)


def test_the_fuzzed_document_is_the_apps(http):
    assert http.get("/openapi.json").get_json() == schema.raw_schema


any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=12,
)


@fuzz_settings(40)
@given(metadata=st.dictionaries(any_text, any_json, max_size=4), key=st.none() | st.text(max_size=12),
       stop_id=any_text.filter(bool))
def test_a_valid_problem_with_arbitrary_metadata_is_accepted_or_refused_never_a_5xx(
        http, seeded, metadata, key, stop_id):
    """Schemathesis seldom writes a valid problem; here every submission has one, so
    metadata, ids and keys of every kind (NUL, unpaired surrogates, huge numbers) reach the
    database. Accepted: the job reads back with its metadata as sent."""
    headers, _ = seeded
    problem = {**SMALL_PROBLEM, "stops": [{**SMALL_PROBLEM["stops"][0], "id": stop_id}]}
    sent = {**headers, **({"Idempotency-Key": key} if key is not None else {})}
    try:
        response = http.post("/v1/jobs", json={"problem": problem, "metadata": metadata}, headers=sent)
    except ValueError:  # a header value the HTTP client itself refuses to send (a newline)
        return
    assert response.status_code in (202, 400, 422), response.get_data(as_text=True)[:500]
    if response.status_code != 202:
        assert_problem_json(response)
        return
    doc = http.get(response.get_json()["links"]["self"], headers=headers).get_json()
    assert same_json(doc["metadata"], metadata)


def same_json(a, b) -> bool:
    """Equal as JSON values: a number is its value (``3.6e+16`` may come back written
    ``36000000000000000``, as PostgreSQL's jsonb stores numbers as decimals)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b) if isinstance(a, float) or isinstance(b, float) else a == b
    return type(a) is type(b) and a == b
