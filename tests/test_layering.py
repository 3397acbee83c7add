"""The layering of DESIGN §3, read from the source: who may import whom, and no cycles.

Every import counts, those under ``if TYPE_CHECKING:`` and inside functions included:
``api -> routefarm -> optimizer`` and ``workers -> routefarm -> optimizer``; ``optimizer``
imports nothing of ours; ``api`` never imports ``workers``; ``routefarm`` neither of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("optimizer", "routefarm", "api", "workers")
FORBIDDEN = {
    "optimizer": {"routefarm", "api", "workers"},
    "routefarm": {"api", "workers"},
    "api": {"workers"},
    "workers": {"api"},
}
ROOT_MODULES_MAX = 10  # modules at the root of routefarm/: the leaves; the rest lives in packages


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ours that ``module`` imports (a ``from x import y`` names ``x.y`` when
    that is a module, else ``x``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_import_cycle_anywhere():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_goes_up_a_layer():
    wrong = sorted(f"{m} -> {t}" for m, targets in _graph().items() for t in targets
                   if t.split(".")[0] in FORBIDDEN[m.split(".")[0]])
    assert wrong == []


def test_the_optimizer_validates_and_checks_without_the_engines():
    graph = _graph()
    reached: set[str] = set()
    todo = ["optimizer.validate", "optimizer.check", "optimizer.model", "optimizer.features"]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(graph.get(module, ()))
    assert sorted(m for m in reached if m.startswith("optimizer.engines")) == []


def test_routefarm_keeps_its_stages_in_packages():
    root = [p.name for p in (ROOT / "routefarm").glob("*.py")]
    assert len(root) <= ROOT_MODULES_MAX, sorted(root)


# routefarm's packages (and root modules), the lowest floor first. A package imports its own
# floor's and the floors below; an import of a higher floor is counted (at most UPWARD_MAX).
FLOORS = (
    ("routefarm", "ids", "settings", "errors", "untrusted", "contract"),  # words and shapes
    ("observability", "db", "cache", "broker", "fairness", "runner", "roads"),  # stores and services
    ("jobs",),  # the one door of job transitions
    ("reoptimize", "webhooks"),  # stages and effects on top of the door
    ("kafka", "decisions", "autoscale"),
    ("farm",),  # the composition root: plugs the effects into the door
    ("local", "cli", "__main__"),  # programs
)
UPWARD_MAX = 2


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _routefarm_edges() -> set[tuple[str, str, str, str]]:
    """(importing package, imported package, module, imported module) across packages."""
    return {(_package(m), _package(t), m, t) for m, targets in _graph().items() if m.startswith("routefarm")
            for t in targets if t.startswith("routefarm") and _package(m) != _package(t)}


def test_every_routefarm_package_has_a_floor():
    floor_of = {p for floor in FLOORS for p in floor}
    packages = {_package(m) for m in _modules() if m.startswith("routefarm")}
    assert packages - floor_of == set(), "place the new package on a floor of FLOORS"


def test_routefarm_imports_stay_on_their_floor_or_below(capsys):
    floor_of = {p: i for i, floor in enumerate(FLOORS) for p in floor}
    up = sorted(f"{m} -> {t}" for a, b, m, t in _routefarm_edges() if floor_of[b] > floor_of[a])
    with capsys.disabled():
        print(f"\nimports up a floor inside routefarm: {len(up)}" + "".join(f"\n  {line}" for line in up))
    assert len(up) <= UPWARD_MAX, up


def test_routefarm_packages_form_no_cycle():
    packages: dict[str, set[str]] = {}
    for a, b, _, _ in _routefarm_edges():
        packages.setdefault(a, set()).add(b)
        packages.setdefault(b, set())
    assert _cycles(packages) == []
