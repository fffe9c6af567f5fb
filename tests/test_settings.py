"""Settings come from the environment, with safe defaults."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def settings_in_subprocess(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", "import ocsc.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_secret_key_is_required_when_debug_is_off() -> None:
    result = settings_in_subprocess()
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_production_settings_start_with_a_secret_key() -> None:
    result = settings_in_subprocess(SECRET_KEY="x" * 50, ALLOWED_HOSTS="ocsc.example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['ocsc.example.org']"


def test_a_malformed_boolean_is_refused_with_its_name() -> None:
    result = settings_in_subprocess(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe'" in result.stderr


def test_a_merge_size_that_is_not_a_whole_number_above_zero_is_refused_with_its_name() -> None:
    for value in ("0", "-3", "many"):
        result = settings_in_subprocess(DEBUG="1", TASK_MERGE_MAX=value)
        assert result.returncode != 0
        assert f"TASK_MERGE_MAX={value!r}: expected a whole number above 0." in result.stderr
