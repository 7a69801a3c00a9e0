from __future__ import annotations

import csv
import io
import json
import re
import time
import tracemalloc

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from apps.audit.selectors import detail_text
from apps.audit.services import Actor, record
from tests.audit_seed import seed_audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    seed_audit(1200, days=30)
    return AuditEvent.objects.count()


def _all_pages(client, query: str) -> list[int]:
    seqs, url = [], f"/audit/?{query}"
    while True:
        response = client.get(url)
        assert response.status_code == 200
        seqs += [e.seq for e in response.context["events"]]
        nxt = response.context["next_before"]
        if nxt is None:
            return seqs
        url = f"/audit/?{query}&before={nxt}" if query else f"/audit/?before={nxt}"


FILTERS = [
    ("actor=user03", lambda q: q.filter(actor_label="user03")),
    ("family=credential", lambda q: q.filter(action__startswith="credential.")),
    (
        "credential=wechat-prod-2",
        lambda q: q.filter(target_type="credential", target_id="wechat-prod-2"),
    ),
    ("platform=feishu", lambda q: q.alias(p=detail_text("provider")).filter(p="feishu")),
    ("outcome=failure", lambda q: q.filter(outcome="failure")),
    ("text=scheduled", lambda q: q.filter(details__icontains="scheduled")),
    (
        "family=token&outcome=failure",
        lambda q: q.filter(action__startswith="token.", outcome="failure"),
    ),
]


@pytest.mark.parametrize("query,expected", FILTERS, ids=[f[0] for f in FILTERS])
def test_filters_and_keyset_pages_cover_exactly_the_matching_events(
    client_as, seeded, query, expected
):
    seqs = _all_pages(client_as("auditor"), query)
    wanted = list(expected(AuditEvent.objects.all()).order_by("-seq").values_list("seq", flat=True))
    assert wanted, "the seed should produce matches"
    assert seqs == wanted  # every match once, newest first, across page boundaries


def test_time_range_and_trace_id(client_as, seeded):
    client = client_as("auditor")
    middle = AuditEvent.objects.order_by("seq")[600]
    start = middle.created_at.astimezone().strftime("%Y-%m-%dT%H:%M")
    seqs = _all_pages(client, f"start={start}")
    assert seqs and all(
        AuditEvent.objects.get(seq=s).created_at
        >= middle.created_at.replace(second=0, microsecond=0)
        for s in seqs[-5:]
    )
    by_request = AuditEvent.objects.order_by("seq")[10]
    assert _all_pages(client, f"trace={by_request.request_id}") == [by_request.seq]
    traced = AuditEvent.objects.alias(t=detail_text("trace_id")).exclude(t=None).first()
    assert _all_pages(client, f"trace={traced.details['trace_id']}") == [traced.seq]


def test_page_boundary_of_exactly_one_page(client_as):
    client = client_as("auditor")  # signing in records one event
    for i in range(49):
        record(action="test.event", actor=Actor.system(), details={"i": i})
    response = client.get("/audit/")
    assert len(response.context["events"]) == 50 and response.context["next_before"] is None
    record(action="test.event", actor=Actor.system())
    response = client.get("/audit/")
    assert len(response.context["events"]) == 50 and response.context["next_before"] == 2


def test_detail_drawer_shows_hashes(client_as):
    event = record(action="credential.reveal", actor=Actor.system(), secrets={"s": "value"})
    html = (
        client_as("auditor")
        .get(f"/audit/events/{event.seq}/", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert event.hash in html and event.prev_hash in html and "<html" not in html


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_matches_the_filter_and_is_audited(client_as, seeded, fmt):
    response = client_as("auditor").get(f"/audit/export.{fmt}?family=credential&outcome=success")
    body = b"".join(response.streaming_content).decode()
    wanted = AuditEvent.objects.filter(
        action__startswith="credential.", outcome="success", seq__lte=seeded
    ).count()
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body)))
        assert rows[0]["hash"] and json.loads(rows[0]["details"]) is not None
    else:
        rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == wanted
    assert all(r["action"].startswith("credential.") for r in rows)
    event = AuditEvent.objects.filter(action="audit.export").order_by("-seq").first()
    assert event.details == {
        "format": fmt,
        "filters": {"family": "credential", "outcome": "success"},
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="sized for PostgreSQL")
def test_exporting_100k_events_runs_in_bounded_memory(client_as):
    client = client_as("auditor")
    seed_audit(100_000, batch=10_000)
    tracemalloc.start()
    response = client.get("/audit/export.jsonl")
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert lines == AuditEvent.objects.count() > 100_000  # the seed, sign-in and export
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_verify_page_reports_intact_and_broken(client_as):
    for i in range(5):
        record(action="test.event", actor=Actor.system(), details={"i": i})
    client = client_as("auditor")
    assert 'data-testid="verify-ok"' in client.post("/audit/verify/").content.decode()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE audit_auditevent SET outcome = 'denied' WHERE seq = 3")
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    html = client.post("/audit/verify/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="verify-bad"' in html and "#3" in html


def test_secret_look_up_finds_events_by_fingerprint_only(client_as):
    canary = "leaked-app-secret-5c7e1d"
    hit = record(action="credential.reveal", actor=Actor.system(), secrets={"app_secret": canary})
    record(action="credential.reveal", actor=Actor.system(), secrets={"app_secret": "other"})
    client = client_as("admin")
    response = client.post("/audit/lookup/search/", {"value": canary}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert re.findall(r'href="/audit/events/(\d+)/"', html) == [str(hit.seq)]
    assert canary not in html
    miss = client.post("/audit/lookup/search/", {"value": "never-seen"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="no-match"' in miss.content.decode()
    lookups = AuditEvent.objects.filter(action="audit.secret_lookup")
    assert lookups.count() == 2 and lookups.first().details["matches"] in (0, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM audit_auditevent")
        assert canary not in repr(cursor.fetchall())


@pytest.mark.parametrize(
    "url,method",
    [
        ("/audit/", "get"),
        ("/audit/events/1/", "get"),
        ("/audit/export.csv", "get"),
        ("/audit/verify/", "post"),
        ("/audit/lookup/", "get"),
        ("/audit/lookup/search/", "post"),
    ],
)
def test_developers_cannot_reach_audit_pages(client_as, url, method):
    record(action="test.event", actor=Actor.system())
    assert getattr(client_as("developer"), method)(url).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/audit/lookup/",
        "/credentials/",
        "/credentials/new/",
        "/tokens/",
        "/tokens/keys/",
        "/accounts/users/",
    ],
)
def test_auditors_cannot_reach_admin_credential_or_token_pages(client_as, url):
    assert client_as("auditor").get(url).status_code == 403


def test_the_platform_filter_exports_what_it_lists(client_as, seeded):
    client = client_as("auditor")
    listed = _all_pages(client, "platform=feishu")
    exported = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get("/audit/export.csv?platform=feishu").streaming_content).decode()
            )
        )
    )
    assert [int(row[0]) for row in exported[1:]] == listed and listed


def test_a_reversed_date_range_lists_nothing_and_says_why(client_as, seeded):
    client = client_as("auditor")
    response = client.get("/audit/?start=2026-11-20T10:00&end=2026-11-01T10:00")
    assert response.status_code == 200 and list(response.context["events"]) == []
    assert 'data-testid="filter-errors"' in response.content.decode()
    export = client.get("/audit/export.csv?start=2026-11-20T10:00&end=2026-11-01T10:00")
    assert export.status_code == 400


def test_console_sends_have_their_family_and_platforms_are_choices(client_as, db):
    record(
        action="console.send",
        actor=Actor.system(),
        target_type="credential",
        target_id="fs",
        details={"provider": "feishu", "trace_id": "t1"},
    )
    record(action="token.refresh", actor=Actor.system(), details={"provider": "wechat"})
    client = client_as("auditor")
    assert _all_pages(client, "family=console") == [1]
    html = client.get("/audit/").content.decode()
    assert '<option value="feishu">' in html and '<option value="console">' in html
    unknown = client.get("/audit/?platform=not-a-platform")
    assert list(unknown.context["events"]) == []


def test_secret_look_up_finds_the_hand_outs_of_a_leaked_token(client_as):
    from datetime import timedelta

    from django.utils import timezone

    leaked, later = "t-leaked-token-71c2", "t-next-token-9a0b"
    if timezone.now().second >= 57:  # keep the events inside one clock minute
        time.sleep(4)
    now = timezone.now().replace(second=0, microsecond=0)

    def refresh(token):
        return record(
            action="token.refresh",
            actor=Actor.system(),
            target_type="credential",
            target_id="fs",
            secrets={"token": token},
            details={"reason": "scheduled"},
        )

    def handout(minute_offset, credential="fs"):
        minute = now + timedelta(minutes=minute_offset)
        return record(
            action="token.handout",
            actor=Actor.system(),
            target_type="credential",
            target_id=credential,
            details={"minute": minute.isoformat(), "count": 3},
        )

    refresh("t-before")
    before = handout(-2)  # counted while the previous token was current
    obtained = refresh(leaked)  # the leaked token's life starts this minute
    during = [handout(0), handout(0, credential="fs")]
    other = handout(0, credential="wx")  # another credential's hand-outs
    refresh(later)  # ... and ends when another token is obtained
    after = handout(1)
    html = (
        client_as("admin")
        .post("/audit/lookup/search/", {"value": leaked}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    shown = {int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', html)}
    assert shown == {obtained.seq, *(e.seq for e in during)}
    assert not shown & {before.seq, other.seq, after.seq}


def test_the_csv_export_never_carries_a_spreadsheet_formula(client_as):
    hostile = ["=cmd|'/c calc'!A1", "+SUM(1,1)", "-2+3", '@HYPERLINK("http://x")', "\tTAB", "\rCR"]
    for name in hostile:
        record(action="auth.login_failed", actor=Actor.system(name), details={"username": name})
    exported = b"".join(
        client_as("auditor").get("/audit/export.csv?family=auth").streaming_content
    ).decode()
    rows = list(csv.reader(io.StringIO(exported)))[1:]
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for name in hostile:
        assert f"'{name}" in cells  # kept, behind an apostrophe
