"""KEDA resources against KEDA's own schemas: the CRDs' openAPIV3Schema and the generated
scaler parameter list (``scalers-schema.json``).

The schemas are reference data outside this repository: ``<repo>/../shared/schemas/keda``, or
the folder named by ``ROUTEFARM_KEDA_SCHEMAS``. Without them these tests skip.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import yaml
from deploy_support import ROOT, all_resources, of_kind

KEDA_GROUP = "keda.sh"
SCHEMAS = Path(os.environ.get("ROUTEFARM_KEDA_SCHEMAS") or ROOT.parent / "shared" / "schemas" / "keda")
KEDA_RESOURCES = [r for r in all_resources() if r.body["apiVersion"].split("/")[0] == KEDA_GROUP]


@pytest.fixture(scope="module", autouse=True)
def schemas_present():
    if not (SCHEMAS / "scalers-schema.json").is_file():
        pytest.skip(f"KEDA schemas not found in {SCHEMAS} (CRDs keda.sh_*.yaml and scalers-schema.json); "
                    "set ROUTEFARM_KEDA_SCHEMAS to such a folder")


def _strict(schema):
    """The schema with unknown fields refused. The API server prunes fields a structural CRD
    schema does not declare, so a misspelt field would be dropped without a word."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema of every served version of every KEDA CRD."""
    found = {}
    for path in SCHEMAS.glob("keda.sh_*.yaml"):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                found[(f"{group}/{version['name']}", kind)] = _strict(version["schema"]["openAPIV3Schema"])
    return found


@cache
def scalers() -> dict[str, dict[str, dict]]:
    """Scaler type -> parameter name -> its description in scalers-schema.json."""
    data = json.loads((SCHEMAS / "scalers-schema.json").read_text())
    return {s["type"]: {p["name"]: p for p in s["parameters"]} for s in data["scalers"]}


def test_the_scaled_object_and_its_authentication_are_checked():
    kinds = {r.kind for r in KEDA_RESOURCES}
    assert {"ScaledObject", "TriggerAuthentication"} <= kinds


@pytest.mark.parametrize("resource", KEDA_RESOURCES, ids=str)
def test_keda_resources_validate_against_their_crd(resource):
    key = (resource.body["apiVersion"], resource.kind)
    schema = crd_schemas().get(key)
    assert schema is not None, f"{resource}: no served CRD version for {key}"
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(resource.body), key=str)
    assert not errors, "\n".join(f"{resource}: {'.'.join(map(str, e.path))}: {e.message}" for e in errors)


def _parameter(trigger: dict, key: str) -> tuple[dict, str]:
    """The scaler parameter a metadata key sets, and how (``metadata`` or ``env``)."""
    parameters = scalers()[trigger["type"]]
    if key in parameters and parameters[key].get("metadataVariableReadable"):
        return parameters[key], "metadata"
    base = key.removesuffix("FromEnv")
    if key.endswith("FromEnv") and parameters.get(base, {}).get("envVariableReadable"):
        return parameters[base], "env"
    raise AssertionError(f"{trigger.get('name', trigger['type'])}: {key!r} is not a metadata parameter "
                         f"of the {trigger['type']} scaler")


def _triggers() -> list[dict]:
    return [t for so in of_kind("ScaledObject") for t in so.body["spec"]["triggers"]]


def test_trigger_metadata_uses_known_parameters_and_allowed_values():
    for trigger in _triggers():
        assert trigger["type"] in scalers(), f"unknown scaler type {trigger['type']}"
        for key, value in trigger["metadata"].items():
            parameter, source = _parameter(trigger, key)
            assert isinstance(value, str), f"{key}: KEDA metadata values are strings"
            assert not parameter.get("deprecated"), f"{key}: deprecated ({parameter['deprecated']})"
            allowed = parameter.get("allowedValue")
            if allowed and source == "metadata":
                assert value in allowed, f"{key}: {value!r} is not one of {allowed}"


def test_required_parameters_are_given():
    """Parameters that are neither optional, nor defaulted, nor readable from a
    TriggerAuthentication must be in the metadata (directly or ``FromEnv``)."""
    for trigger in _triggers():
        keys = trigger["metadata"].keys()
        for name, parameter in scalers()[trigger["type"]].items():
            if parameter.get("optional") or "default" in parameter:
                continue
            if parameter.get("triggerAuthenticationVariableReadable") or parameter.get("deprecated"):
                continue
            assert name in keys or f"{name}FromEnv" in keys, f"{trigger['type']}: {name} is required"


def test_trigger_authentication_sets_parameters_its_triggers_read_from_it():
    auths = {r.name: r.body["spec"] for r in of_kind("TriggerAuthentication")}
    used = set()
    for trigger in _triggers():
        if "authenticationRef" not in trigger:
            continue
        name = trigger["authenticationRef"]["name"]
        used.add(name)
        parameters = scalers()[trigger["type"]]
        for ref in auths[name]["secretTargetRef"]:
            parameter = parameters.get(ref["parameter"], {})
            assert parameter.get("triggerAuthenticationVariableReadable"), (
                f"{name}: the {trigger['type']} scaler reads no {ref['parameter']!r} from a TriggerAuthentication")
    assert used == auths.keys(), "a TriggerAuthentication no trigger uses"
