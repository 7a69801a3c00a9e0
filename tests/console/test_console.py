from __future__ import annotations

import json
import logging
import re

import pytest

from apps.audit.models import AuditEvent
from apps.console.models import ConsoleCall
from apps.sandbox.core import invalidate_tokens
from apps.sandbox.models import SandboxApp
from apps.tokens.models import AccessToken
from apps.vault.services import credential_create
from tests.helpers import all_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _message(**overrides):
    data = {
        "credential": "fs",
        "method": "POST",
        "path": "/open-apis/im/v1/messages",
        "query": "receive_id_type=open_id",
        "headers": "",
        "body": json.dumps(
            {"receive_id": "ou_1", "msg_type": "text", "content": json.dumps({"text": "你好"})}
        ),
    }
    data.update(overrides)
    return data


def test_a_developer_sends_a_message_and_sees_the_logid(client_as, feishu, caplog):
    _, secret = feishu
    client = client_as("developer")
    with caplog.at_level(logging.DEBUG):
        response = client.post("/console/send/", _message(), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'data-testid="result-ok"' in html, html[:3000]
    logid = re.search(r'data-testid="trace-id"[^>]*>([^<]+)<', html).group(1)
    assert re.fullmatch(r"\d{14}[0-9A-F]{20}", logid)
    call = ConsoleCall.objects.get()
    assert call.ok and call.trace_id == logid and call.trace_source == "header:x-tt-logid"
    token = AccessToken.objects.get().value()
    for place in (html, all_rows(), caplog.text):
        assert secret not in place and token not in place
    assert "«redacted»" in call.request_headers["Authorization"]
    event = AuditEvent.objects.get(action="console.send")
    assert event.details["trace_id"] == logid and event.outcome == "success"
    assert "你好" not in json.dumps(event.details, ensure_ascii=False)  # no bodies in the audit


def test_a_bad_call_is_decoded_and_explained(client_as, feishu):
    body = json.dumps({"receive_id": "ou_1", "msg_type": "nonsense", "content": "{}"})
    html = (
        client_as("developer")
        .post("/console/send/", _message(body=body), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert 'data-testid="result-failed"' in html
    assert re.search(r'data-testid="code">99992402<', html)
    assert "请求参数校验失败" in html and "Field validation failed" in html
    assert re.search(r'data-testid="field-violation"><code>msg_type</code>', html)


def test_invalid_json_is_reported_with_line_and_column(client_as, feishu):
    response = client_as("developer").post(
        "/console/send/", _message(body='{\n  "a": 1,\n}'), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "第 3 行第 1 列" in response.content.decode()  # line 3, column 1
    assert not ConsoleCall.objects.exists()


def test_a_rejected_token_is_refreshed_once_and_the_call_retried(client_as, feishu):
    client = client_as("developer")
    client.post("/console/send/", _message(), HTTP_HX_REQUEST="true")
    first = AccessToken.objects.get()
    invalidate_tokens(SandboxApp.objects.get(app_id="cli_console_01"), "tenant_access_token")
    html = client.post("/console/send/", _message(), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="result-ok"' in html and 'data-testid="retried"' in html
    assert AccessToken.objects.get().version == first.version + 1


@pytest.mark.parametrize("role", ["auditor", "nobody"])
def test_console_is_for_developers_and_admins(client_as, feishu, role):
    client = client_as(role)
    refused = 403 if role == "auditor" else 302  # without a role: the waiting page
    assert client.get("/console/").status_code == refused
    assert client.post("/console/send/", _message()).status_code == refused
    assert not ConsoleCall.objects.exists()


def test_a_credential_not_shared_cannot_be_used(client_as, feishu, users):
    credential_create(
        by=users.admin,
        provider="feishu",
        name="private",
        slug="private",
        environment="test",
        public={"app_id": "x"},
        secrets={"app_secret": "y"},
    )
    response = client_as("developer").post(
        "/console/send/", _message(credential="private"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and not ConsoleCall.objects.exists()


def test_import_fills_the_builder_and_export_hides_secrets(client_as, feishu):
    _, secret = feishu
    client = client_as("developer")
    page = client.post(
        "/console/import/",
        {
            "credential": "fs",
            "curl": (
                "curl -X POST "
                "'https://open.feishu.cn/open-apis/im/v1/messages?receive_id_type=open_id' "
                "-H 'Authorization: Bearer t-abc' -d '{\"msg_type\": \"text\"}'"
            ),
        },
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'value="/open-apis/im/v1/messages"' in html
    assert "receive_id_type=open_id" in html and 'data-testid="import-warnings"' in html
    exported = client.post("/console/export/", _message(), HTTP_HX_REQUEST="true")
    text = exported.content.decode()
    assert "&lt;tenant_access_token&gt;" in text and secret not in text
    assert not ConsoleCall.objects.exists()


def test_history_filters_pages_and_replays_with_the_current_token(client_as, feishu, users):
    from apps.console.selectors import PAGE_SIZE

    client = client_as("developer")
    client.post("/console/send/", _message(), HTTP_HX_REQUEST="true")
    bad = json.dumps({"receive_id": "ou_1", "msg_type": "nonsense", "content": "{}"})
    client.post("/console/send/", _message(body=bad), HTTP_HX_REQUEST="true")
    failed = client.get("/console/history/?outcome=failed&code=99992402")
    assert [c.code for c in failed.context["calls"]] == ["99992402"]
    ok_call = ConsoleCall.objects.get(ok=True)
    by_trace = client.get(f"/console/history/?trace={ok_call.trace_id}")
    assert [c.pk for c in by_trace.context["calls"]] == [ok_call.pk]
    # Replay after the token changed: it goes out with the new token and succeeds.
    invalidate_tokens(SandboxApp.objects.get(app_id="cli_console_01"), "tenant_access_token")
    AccessToken.objects.all().delete()
    replayed = client.post(f"/console/history/{ok_call.pk}/replay/")
    assert 'data-testid="result-ok"' in replayed.content.decode()
    assert ConsoleCall.objects.filter(ok=True).count() == 2
    # Pages: exactly one page, then one more row makes a second.
    for _ in range(PAGE_SIZE - 3):
        ConsoleCall.objects.create(
            user=users.developer, credential=feishu[0], method="GET", url="x", request_spec={}
        )
    page = client.get("/console/history/")
    assert len(page.context["calls"]) == PAGE_SIZE and page.context["next_before"] is None
    ConsoleCall.objects.create(user=users.developer, method="GET", url="x")
    page = client.get("/console/history/")
    assert page.context["next_before"] is not None
    rest = client.get(f"/console/history/?before={page.context['next_before']}")
    assert len(rest.context["calls"]) == 1


def test_developers_see_and_replay_only_their_own_sends(client_as, feishu, users, make_user):
    other = make_user("dev-two", "developer")
    call = ConsoleCall.objects.create(
        user=other,
        credential=feishu[0],
        method="GET",
        url="x",
        request_spec={"method": "GET", "path": "/", "query": [], "headers": [], "body": None},
    )
    client = client_as("developer")
    assert client.get("/console/history/").context["calls"] == []
    assert client.post(f"/console/history/{call.pk}/replay/").status_code == 404
    assert [c.pk for c in client_as("admin").get("/console/history/").context["calls"]] == [call.pk]


def test_the_catalogue_fills_the_builder(client_as, feishu):
    page = (
        client_as("developer")
        .get("/console/?credential=fs&api=im.v1.create_message")
        .content.decode()
    )
    assert 'value="/open-apis/im/v1/messages"' in page and "receive_id_type=open_id" in page
    assert "1000/min, 50/s" in page and "发送消息" in page  # the adapter's documented row
    assert '"receive_id": ""' not in page or "msg_type" in page


def test_next_page_follows_the_platforms_own_paging(client_as, feishu):
    client = client_as("developer")
    first = client.post(
        "/console/send/",
        _message(method="GET", path="/open-apis/contact/v3/users", query="page_size=10", body=""),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-testid="next-page"' in first
    token = re.search(r'name="query" value="([^"]*)"', first).group(1)
    assert "page_token=10" in token
    second = client.post(
        "/console/send/",
        _message(
            method="GET",
            path="/open-apis/contact/v3/users",
            query=token.replace("&#x0A;", "\n").replace("\\n", "\n"),
            body="",
        ),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "u0011" in second and "u0001" not in second


def test_a_leaked_token_leads_to_the_sends_that_used_it(client_as, feishu):
    from apps.audit.selectors import events_with_fingerprint
    from apps.audit.services import fingerprint

    client_as("developer").post("/console/send/", _message(), HTTP_HX_REQUEST="true")
    token = AccessToken.objects.get().value()
    actions = [e.action for e in events_with_fingerprint(fingerprint(token))]
    assert "console.send" in actions and "token.refresh" in actions


def test_every_encoded_echo_of_a_secret_or_token_is_redacted_before_it_is_kept(
    client_as, users, upstream
):
    """An upstream that echoes what it got (the Authorization header, a secret in the body)
    in raw, JSON-escaped, URL-encoded, \\u-escaped and base64 form; a secret with `"` and
    `\\`; a token typed into the path. None of it reaches the page, the history or the
    audit log."""
    import base64
    import html
    from urllib.parse import quote

    from apps.vault.services import credential_create

    secret = 'q"uo\\te-secret-✓-value-1234'
    token = "t-echoed-token-0123456789abcdef"
    base = f"http://127.0.0.1:{upstream.server_port}"
    credential_create(
        by=users.admin,
        provider="feishu",
        name="echo",
        slug="echo",
        environment="test",
        base_url=base,
        public={"app_id": "cli_echo"},
        secrets={"app_secret": secret},
        allowed_users=[users.developer],
    )
    upstream.token_path = "/open-apis/auth/v3/tenant_access_token/internal"
    upstream.token_body = json.dumps(
        {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}
    ).encode()
    basic = base64.b64encode(f"cli_echo:{secret}".encode()).decode()
    echo = {
        "code": 99991672,
        "msg": f"denied for Bearer {token} ({quote(token)})",
        "error": {
            "log_id": "log-1",
            "message": f"see {json.dumps(secret)}",
            "helps": [
                {
                    "url": f"https://open.feishu.cn/h?t={quote(secret, safe='')}",
                    "description": basic,
                }
            ],
            "permission_violations": [{"type": "x", "subject": token}],
        },
        "echo": {
            "b64": base64.urlsafe_b64encode(token.encode()).decode(),
            "u": json.dumps(secret, ensure_ascii=True),
        },
    }
    upstream.reply = (
        400,
        {"X-Echo": f"Bearer {token}"},
        json.dumps(echo, ensure_ascii=False).encode(),
    )
    response = client_as("developer").post(
        "/console/send/",
        {
            "credential": "echo",
            "method": "POST",
            "path": f"/open-apis/x/{token}",
            "query": f"k={secret}",
            "headers": "",
            "body": json.dumps({"s": secret}),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    kept = [response.content.decode(), all_rows()]
    for value in (secret, token):
        for form in (
            value,
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=True)[1:-1],
            quote(value, safe=""),
            base64.b64encode(value.encode()).decode(),
            base64.urlsafe_b64encode(value.encode()).decode(),
            html.escape(value),
            html.escape(json.dumps(value)[1:-1]),
        ):
            for place in kept:
                assert form not in place, (form, place[:200])
    assert base64.b64encode(f"cli_echo:{secret}".encode()).decode()[8:] not in kept[1]
