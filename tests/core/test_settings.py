"""Production configuration comes from the environment and fails loudly when wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "project.settings",
    "ENV_FILE": "/dev/null/none",
    "SECRET_KEY": "p" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
    "AUDIT_HMAC_KEY": "a" * 10 + "-production-audit-key-0f1e2d3c4b5a69788796a5b4",
    "FIELD_ENCRYPTION_KEYS": "k1:wz5GyN0qWm9G7Ty8yOQ0wQX2A2k5wVZ8R1y3o6D0pN4=",
    "ALLOWED_HOSTS": "zhongkong.example.com",
    "DATABASE_URL": "postgres://zk@127.0.0.1:5432/zhongkong",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_logs_are_json_lines_with_the_request_id():
    code = (
        "import logging, django; django.setup(); "
        "from apps.core.context import RequestMeta, bind; bind(RequestMeta('rid-12345678')); "
        "logging.getLogger('zk').warning('hello')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **PRODUCTION},
        timeout=60,
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello" and line["request_id"] == "rid-12345678"
    assert line["level"] == "WARNING"


@pytest.mark.parametrize(
    "override,needle",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"AUDIT_HMAC_KEY": "short"}, "AUDIT_HMAC_KEY"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"CONN_MAX_AGE": "soon"}, "soon"),
    ],
)
def test_bad_configuration_stops_start_up_with_a_clear_error(override, needle):
    env = {**PRODUCTION, **override}
    if override.get("SECRET_KEY") == "":
        del env["SECRET_KEY"]
    result = _manage("check", **env)
    assert result.returncode != 0
    assert needle in result.stderr


def test_secrets_may_come_from_files(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("f" * 60)
    env = {**PRODUCTION, "SECRET_KEY_FILE": str(secret_file)}
    del env["SECRET_KEY"]
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", **env
    )
    assert result.stdout.strip().splitlines()[-1] == "f" * 60, result.stderr


def test_every_variable_the_settings_read_is_in_env_example():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    settings_py = (root / "project" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_py))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', settings_py))
    example = (root / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert read and read - listed == set()


def test_manage_py_says_which_setting_is_missing(tmp_path):
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        timeout=60,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ENV_FILE": str(tmp_path / "none.env"),
        },
    )
    assert done.returncode == 1
    assert "configuration error: Set the SECRET_KEY environment variable" in done.stderr
    assert "Models aren't loaded" not in done.stderr
