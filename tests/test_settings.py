"""Settings: durations carry their unit in their name, and an old name left in the
environment is refused with the new one, not silently ignored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from routefarm.settings import RENAMED, Settings


def test_the_renamed_durations_exist_under_their_new_names_only():
    fields = set(Settings.model_fields)
    assert {new.lower() for new in RENAMED.values()} <= fields
    assert not {old.lower() for old in RENAMED} & fields


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_an_old_name_in_the_environment_is_refused_with_the_new_one(monkeypatch, old):
    monkeypatch.setenv(f"ROUTEFARM_{old}", "5")
    with pytest.raises(ValidationError, match=f"ROUTEFARM_{old} is now ROUTEFARM_{RENAMED[old]}"):
        Settings()
