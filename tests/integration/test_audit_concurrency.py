from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.audit.models import AuditEvent
from apps.audit.services import verify_chain

from .conftest import ROOT, child_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_processes_of_eight_threads_append_2000_events_without_forking_the_chain():
    command = [sys.executable, "-m", "tests.integration.append_events", "8", "125"]
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=child_env(), stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    assert AuditEvent.objects.count() == 2000
    assert verify_chain().ok
    call_command("verify_audit")
    # One head only: every hash is the prev_hash of exactly one later event, but the last.
    prev = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev)) == 2000

    # As the database superuser, with the trigger disabled, alter one event.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 1234")
        cursor.execute("SET session_replication_role = DEFAULT")
    with pytest.raises(CommandError, match="event #1234"):
        call_command("verify_audit")
