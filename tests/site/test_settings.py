from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from biliup_site import settings


@pytest.mark.parametrize(
    ("helper", "value"),
    [
        (settings.envbool, "yes"),
        (settings.envint, "ten"),
        (settings.envint, "-1"),
        (settings.envfloat, "0"),
        (settings.envurl, "bilibili.com"),
    ],
)
def test_bad_values_fail_loudly(
    monkeypatch: pytest.MonkeyPatch, helper: object, value: str
) -> None:
    monkeypatch.setenv("BILIUP_X", value)
    with pytest.raises(ImproperlyConfigured, match="BILIUP_X"):
        helper("BILIUP_X", "1")  # type: ignore[operator]


def test_good_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILIUP_X", "True")
    assert settings.envbool("BILIUP_X", "False") is True
    monkeypatch.setenv("BILIUP_X", "https://fake.local:8000/")
    assert settings.envurl("BILIUP_X", "https://x") == "https://fake.local:8000"
    monkeypatch.setenv("BILIUP_X", "a, b,,c")
    assert settings.envlist("BILIUP_X", "") == ["a", "b", "c"]


def test_an_unknown_database_kind_fails_at_start(tmp_path: object) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "BILIUP_DB": "mysql", "BILIUP_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Unexpected value BILIUP_DB=mysql" in result.stderr
