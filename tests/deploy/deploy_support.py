"""What the deployment tests read: the manifests in deploy/keda, the Procfile, the Dockerfile."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
KEDA_DIR = ROOT / "deploy" / "keda"
SCALED_OBJECT = KEDA_DIR / "worker-scaledobject.yaml"
# files of deploy/keda that kustomization.yaml leaves out on purpose (their comments say why)
NOT_APPLIED = {"secret.example.yaml"}
MIGRATE_DIR = KEDA_DIR / "migrate"  # the migration Job: a kustomization of its own
MONITORING_DIR = KEDA_DIR / "monitoring"  # PodMonitors: a kustomize component
# Deployment (by its app.kubernetes.io/component label) -> the Procfile process it runs
PROCESSES = {"api": "web", "worker": "worker", "webhook": "webhook", "stream": "stream"}
COMPONENT = "app.kubernetes.io/component"


@dataclass(frozen=True)
class Resource:
    path: Path
    body: dict

    @property
    def kind(self) -> str:
        return self.body["kind"]

    @property
    def name(self) -> str:
        return self.body["metadata"]["name"]

    def __str__(self) -> str:
        return f"{self.path.name}: {self.kind}/{self.name}"


def manifest_paths() -> list[Path]:
    """The manifests of deploy/keda and of its migrate kustomization (core kinds and KEDA's)."""
    return sorted(p for folder in (KEDA_DIR, MIGRATE_DIR) for p in folder.glob("*.yaml")
                  if p.name != "kustomization.yaml")


def monitoring_resources() -> list[Resource]:
    return [r for p in sorted(MONITORING_DIR.glob("*.yaml")) if p.name != "kustomization.yaml"
            for r in read_resources(p)]


def read_resources(path: Path) -> list[Resource]:
    return [Resource(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def all_resources() -> list[Resource]:
    return [r for path in manifest_paths() for r in read_resources(path)]


def kustomization(folder: Path = KEDA_DIR) -> dict:
    return yaml.safe_load((folder / "kustomization.yaml").read_text())


def of_kind(kind: str) -> list[Resource]:
    return [r for r in all_resources() if r.kind == kind]


def one(kind: str, name: str) -> Resource:
    found = [r for r in of_kind(kind) if r.name == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def scaled_object() -> dict:
    (resource,) = read_resources(SCALED_OBJECT)
    return resource.body


def deployments() -> dict[str, Resource]:
    """Component label -> its Deployment."""
    return {d.body["spec"]["template"]["metadata"]["labels"][COMPONENT]: d for d in of_kind("Deployment")}


def containers(workload: Resource) -> list[dict]:
    return workload.body["spec"]["template"]["spec"]["containers"]


def config_data() -> dict[str, str]:
    return one("ConfigMap", "routefarm-config").body["data"]


def secret_data(name: str) -> dict[str, str]:
    return one("Secret", name).body["stringData"]


def split_command(line: str) -> tuple[dict[str, str], list[str]]:
    """A Procfile command as (leading NAME=value assignments, argv)."""
    words = shlex.split(line)
    env: dict[str, str] = {}
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return env, words


def module_file(module: str) -> Path | None:
    """The source file of a first-party module (``api.wsgi``), without importing it."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Instruction:
    stage: int  # 0-based index of the FROM it belongs to
    keyword: str
    arguments: str


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    instructions, stage = [], -1
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(stage, keyword, arguments.strip()))
    return instructions
