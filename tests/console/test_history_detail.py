"""A past send opens as it was: the request that went out and the response, redacted as they
were stored, the error decoded again, the request as code; only its owner (or an admin)
opens it, and it fills the builder to edit and send again."""

from __future__ import annotations

import json

import pytest

from apps.console.models import ConsoleCall
from apps.tokens.models import AccessToken

from .test_console import _message

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failed_send_opens_with_its_request_response_and_decoded_error(client_as, feishu):
    _, secret = feishu
    client = client_as("developer")
    bad = json.dumps({"receive_id": "ou_1", "msg_type": "nonsense", "content": "{}"})
    client.post("/console/send/", _message(body=bad), HTTP_HX_REQUEST="true")
    call = ConsoleCall.objects.get()
    history = client.get("/console/history/").content.decode()
    assert f'href="/console/history/{call.pk}/"' in history
    page = client.get(f"/console/history/{call.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert call.trace_id and call.trace_id in html  # the trace id, first as on the console
    assert html.index(call.trace_id) < html.index('data-testid="decoded"')
    assert "99992402" in html and 'data-testid="decoded"' in html  # decoded again
    assert "nonsense" in html  # the request body as it went out
    assert "«redacted»" in html  # the Authorization header, as stored
    assert 'data-testid="request-sent"' in html
    token = AccessToken.objects.get().value()
    assert secret not in html and token not in html
    # The request as code, in the four languages, auth as placeholders.
    for label in ("curl", "Python (requests)", "Node.js (fetch)", "Go (net/http)"):
        assert label in html
    assert "Bearer &lt;tenant_access_token&gt;" in html
    assert 'href="/console/?from=' in html


def test_a_past_send_fills_the_builder(client_as, feishu):
    client = client_as("developer")
    client.post("/console/send/", _message(), HTTP_HX_REQUEST="true")
    call = ConsoleCall.objects.get()
    page = client.get(f"/console/?from={call.pk}")
    form = page.context["form"]
    assert form.initial["credential"] == "fs"
    assert form.initial["path"] == "/open-apis/im/v1/messages"
    assert form.initial["query"] == "receive_id_type=open_id"
    assert json.loads(form.initial["body"])["content"] == json.dumps({"text": "你好"})


def test_only_the_sender_or_an_admin_opens_a_send(client_as, feishu, make_user):
    other = make_user("dev-other", "developer")
    call = ConsoleCall.objects.create(
        user=other,
        credential=feishu[0],
        method="GET",
        url="https://open.feishu.cn/x",
        status=200,
        response_body='{"code":0}',
        request_spec={"method": "GET", "path": "/x", "query": [], "headers": [], "body": None},
    )
    developer = client_as("developer")
    assert developer.get(f"/console/history/{call.pk}/").status_code == 404
    assert developer.get(f"/console/?from={call.pk}").status_code == 404
    assert client_as("auditor").get(f"/console/history/{call.pk}/").status_code == 403
    assert client_as("admin").get(f"/console/history/{call.pk}/").status_code == 200
    assert developer.get("/console/history/999999/").status_code == 404


@pytest.mark.parametrize(
    "row",
    [
        {},  # a row from before request specs were kept
        {"status": 0, "error": "connection refused"},
        {"status": 502, "response_body": "<html>bad gateway</html>"},
        {"status": 200, "response_body": "{" * 5000},
        {"credential": None},
    ],
)
def test_any_stored_send_opens_without_an_error(client_as, feishu, users, row):
    values = {
        "user": users.developer,
        "credential": feishu[0],
        "method": "GET",
        "url": "https://open.feishu.cn/x",
        **row,
    }
    call = ConsoleCall.objects.create(**values)
    page = client_as("developer").get(f"/console/history/{call.pk}/")
    assert page.status_code == 200
    assert "Go (net/http)" not in page.content.decode()  # no spec: nothing to export
