from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from apps.audit.models import AppendOnlyError, AuditEvent
from apps.audit.services import GENESIS_HASH, Actor, fingerprint, record, verify_chain

pytestmark = pytest.mark.django_db

CANARY = "canary-secret-7d1f0b1e2c"


def _seed(n: int) -> list[AuditEvent]:
    return [
        record(action="test.event", actor=Actor.system(), details={"n": i, "text": "中文"})
        for i in range(n)
    ]


def test_events_form_a_chain_from_genesis():
    events = _seed(3)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    report = verify_chain()
    assert report.ok and report.checked == 3


def test_verify_command_exits_zero_when_intact(capsys):
    _seed(2)
    call_command("verify_audit")
    assert "intact: 2 events" in capsys.readouterr().out


def test_secrets_are_kept_only_as_fingerprints():
    event = record(
        action="credential.reveal",
        actor=Actor.system(),
        secrets={"app_secret": CANARY},
        details={"field": "app_secret"},
    )
    assert event.secret_fingerprints == {"app_secret": fingerprint(CANARY)}
    assert fingerprint(CANARY) != fingerprint(CANARY + "x")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM audit_auditevent")
        assert CANARY not in repr(cursor.fetchall())


def test_the_application_cannot_update_or_delete_events():
    event = _seed(1)[0]
    event.action = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(action="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_an_event_rolls_back_with_the_act_it_records():
    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="test.rolled_back", actor=Actor.system())
        raise RuntimeError("the act failed")
    assert not AuditEvent.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "sql", ["UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"]
)
def test_postgresql_trigger_rejects_update_and_delete(sql):
    _seed(1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


def _as_superuser_without_trigger(sql: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            for statement in sql.split(";"):
                cursor.execute(statement)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


@pytest.mark.parametrize(
    "tamper,bad_seq,reason",
    [
        ("UPDATE audit_auditevent SET details = '{\"n\": 99}' WHERE seq = 3", 3, "content"),
        ("UPDATE audit_auditevent SET outcome = 'failure' WHERE seq = 2", 2, "content"),
        ("DELETE FROM audit_auditevent WHERE seq = 3", 4, "missing"),
        (
            "UPDATE audit_auditevent SET seq = -1 WHERE seq = 2; "
            "UPDATE audit_auditevent SET seq = 2 WHERE seq = 4; "
            "UPDATE audit_auditevent SET seq = 4 WHERE seq = -1",
            2,
            "",
        ),
    ],
)
def test_tampering_is_found_and_named(tamper, bad_seq, reason):
    _seed(5)
    _as_superuser_without_trigger(tamper)
    report = verify_chain()
    assert not report.ok
    assert report.bad_seq == bad_seq
    assert reason in report.reason
    with pytest.raises(CommandError, match=f"event #{bad_seq}") as excinfo:
        call_command("verify_audit")
    assert excinfo.value.returncode == 2


def test_deleting_the_newest_events_is_found_after_a_verification():
    _seed(5)
    assert verify_chain().ok  # leaves a checkpoint of the head, #5
    _as_superuser_without_trigger("DELETE FROM audit_auditevent WHERE seq >= 4")
    report = verify_chain()
    assert not report.ok and report.bad_seq == 4 and "newest events were deleted" in report.reason
    with pytest.raises(CommandError, match="event #4"):
        call_command("verify_audit")


def test_a_rewritten_head_is_found_against_its_checkpoint():
    _seed(3)
    assert verify_chain().ok
    _as_superuser_without_trigger("DELETE FROM audit_auditevent WHERE seq = 3")
    record(action="test.forged", actor=Actor.system())  # a valid-looking new #3
    report = verify_chain()
    assert not report.ok and report.bad_seq == 3 and "checkpoint" in report.reason


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE audit_auditevent",
        "TRUNCATE audit_auditcheckpoint",
        "DELETE FROM audit_auditcheckpoint",
        "UPDATE audit_auditcheckpoint SET seq = 0",
    ],
)
def test_truncate_and_checkpoint_changes_are_refused(sql):
    _seed(2)
    assert verify_chain().ok
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
