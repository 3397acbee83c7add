"""Every exception routefarm raises on purpose is in its tree, and each class of the tree
has one HTTP status (``api/errors.py``): a class without one would answer 500."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import api
import routefarm
import workers
from api.errors import STATUSES, status_row
from routefarm.errors import OperatorError, RequestError, RoutefarmError

PACKAGES = (routefarm, api, workers)
# entry points, whose import does the work: a gunicorn config (points prometheus-client at a
# directory), a WSGI module (makes the app from the environment), programs
ENTRY_POINTS = {"api.gunicorn_conf", "api.wsgi"}


def _import_everything() -> None:
    for package in PACKAGES:
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__") and module.name not in ENTRY_POINTS:
                importlib.import_module(module.name)


def _tree(root: type) -> list[type]:
    found, todo = [], [root]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def _ours(kind: type) -> bool:
    return kind.__module__.split(".")[0] in {p.__name__ for p in PACKAGES}


def test_every_exception_class_of_ours_is_in_the_tree():
    _import_everything()
    strays = sorted(f"{k.__module__}.{k.__qualname__}" for k in _tree(BaseException)
                    if _ours(k) and not issubclass(k, RoutefarmError))
    assert strays == []


ABSTRACT = {RoutefarmError, RequestError}  # never raised themselves: branches of the tree


@pytest.mark.parametrize("kind", [k for k in (_import_everything() or _tree(RoutefarmError)) if k not in ABSTRACT],
                         ids=lambda k: k.__qualname__)
def test_each_class_of_the_tree_has_one_status(kind):
    row = status_row(kind)
    assert row is not None, f"{kind.__qualname__} has no HTTP status in api/errors.py STATUSES"
    status = row[1]
    assert 400 <= status < 600
    assert status != 500 or issubclass(kind, OperatorError)  # only a misconfigured farm is a 500


def test_the_branches_are_never_raised_themselves():
    import ast
    from pathlib import Path

    raised = set()
    for package in PACKAGES:
        for path in Path(package.__path__[0]).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                    raised.add(node.exc.func.id)
    assert raised & {k.__name__ for k in ABSTRACT} == set()


def test_the_rows_are_ordered_so_that_each_is_reachable():
    for i, (kind, *_rest) in enumerate(STATUSES):
        assert status_row(kind) == STATUSES[i], f"{kind.__qualname__} is answered by an earlier, wider row"
