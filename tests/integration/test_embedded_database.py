"""The embedded default's database: the audit review's tests, the input-surface property
tests (console, curl import, token API, platform sign-in) and the sign-in flows (platforms,
second factor) run again on SQLite, the database `make run` uses, in a process of their own."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import ROOT


def test_the_review_and_input_surface_tests_pass_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/review.sqlite3",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CI", None)  # one test is sized for PostgreSQL and skips itself here
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/audit/test_review.py",
            "tests/console/test_input_surfaces.py",
            "tests/tokens/test_api_input.py",
            "tests/signin/test_sign_in_input.py",
            "tests/signin/test_platform_sign_in.py",
            "tests/accounts/test_second_factor.py",
            "-q",
            "-p",
            "no:randomly",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout
