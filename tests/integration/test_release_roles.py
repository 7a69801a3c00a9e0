"""`manage.py release` with a migration role: the application's own role can append to the
audit log but not disable its triggers, delete, update or truncate it."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from .conftest import ROOT

pytestmark = pytest.mark.integration

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def release_database():
    name, role = f"zk_release_{os.getpid()}", f"zk_app_{os.getpid()}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name, role
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_the_application_role_cannot_undo_the_audit_log(release_database, tmp_path):
    name, role = release_database
    app_url = f"postgresql://{role}@127.0.0.1:5432/{name}"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": app_url,
            "VAR_DIR": str(tmp_path),
            "MIGRATION_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        }
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "release"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"granted {role}" in done.stdout
    with psycopg.connect(app_url, autocommit=True) as conn:
        # bootstrap ran as the application and appended to the log
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] >= 1
        for attempt in (
            "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
            "TRUNCATE audit_auditevent",
            "DELETE FROM audit_auditevent",
            "UPDATE audit_auditevent SET action = 'x'",
            "DELETE FROM audit_auditcheckpoint",
            "DROP TABLE audit_auditevent",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(attempt)
        conn.execute("SELECT count(*) FROM vault_credential")  # and it works otherwise
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env={**env, "MIGRATION_DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stderr[-2000:]
