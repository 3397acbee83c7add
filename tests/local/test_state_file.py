"""``state.json`` holds the demo client's API key: it is created readable and writable by its
owner only (mode 0600), whatever the umask, a leftover temporary file or an older state file."""

from __future__ import annotations

import os
import stat

import pytest

from routefarm.local.state import read_state, state_path, write_state


@pytest.fixture
def permissive_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_state_file_is_the_owners_only(tmp_path, permissive_umask):
    path = write_state(tmp_path / "farm", {"api_key": "rf_secret"})
    assert path == state_path(tmp_path / "farm")
    assert mode(path) == 0o600
    assert read_state(tmp_path / "farm") == {"api_key": "rf_secret"}


def test_a_leftover_or_an_older_file_does_not_lend_its_mode(tmp_path, permissive_umask):
    path = state_path(tmp_path)
    path.write_text("{}")
    os.chmod(path, 0o644)
    leftover = path.with_suffix(".tmp")
    leftover.write_text("{}")
    os.chmod(leftover, 0o666)
    write_state(tmp_path, {"api_key": "rf_secret", "n": 1})
    assert mode(path) == 0o600 and not leftover.exists()
    write_state(tmp_path, {"api_key": "rf_secret", "n": 2})
    assert mode(path) == 0o600 and read_state(tmp_path)["n"] == 2
