"""Saved requests, the redacted auth preview and the pinned X-IDEM-UUID."""

from __future__ import annotations

import json
import logging
import re

import pytest

from apps.audit.models import AuditEvent
from apps.console.models import ConsoleCall, SavedRequest
from apps.tokens.models import AccessToken
from tests.helpers import all_rows

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"receive_id": "ou_1", "msg_type": "text", "content": json.dumps({"text": "hi"})}


def _builder(**overrides):
    data = {
        "credential": "fs",
        "method": "POST",
        "path": "/open-apis/im/v1/messages",
        "query": "receive_id_type=open_id",
        "headers": "",
        "body": json.dumps(BODY),
    }
    data.update(overrides)
    return data


def _save(client, name, folder="", shared=False, **builder):
    data = {**_builder(**builder), "save-name": name, "save-folder": folder}
    if shared:
        data["save-shared"] = "on"
    return client.post("/console/saved/save/", data, HTTP_HX_REQUEST="true")


def test_a_saved_request_loads_back_into_the_builder(client_as, feishu):
    client = client_as("developer")
    response = _save(client, "Send hello", folder=" im / messages ")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="saved-notice"' in html
    assert 'id="saved-panel" hx-swap-oob="true"' in html and "Send hello" in html
    saved = SavedRequest.objects.get()
    assert (saved.folder, saved.shared, saved.credential.slug) == ("im/messages", False, "fs")
    assert saved.request_spec["body"] == BODY
    assert saved.request_spec["query"] == [["receive_id_type", "open_id"]]
    page = client.get(f"/console/?saved={saved.pk}").content.decode()
    assert 'value="/open-apis/im/v1/messages"' in page and "receive_id_type=open_id" in page
    assert "&quot;msg_type&quot;: &quot;text&quot;" in page
    assert re.search(r'<option value="fs" selected>', page)
    event = AuditEvent.objects.get(action="console.saved")
    assert event.details["name"] == "Send hello" and event.details["created"] is True
    # Nothing was sent to the platform.
    assert not ConsoleCall.objects.exists()


def test_saving_the_same_name_replaces_and_bad_input_keeps_everything(client_as, feishu):
    client = client_as("developer")
    _save(client, "Hello", folder="im")
    replaced = _save(client, "Hello", folder="im", path="/open-apis/im/v1/chats", method="GET")
    assert "已替换" in replaced.content.decode()
    saved = SavedRequest.objects.get()
    assert saved.request_spec["path"] == "/open-apis/im/v1/chats"
    missing = _save(client, "   ")
    assert missing.status_code == 422 and 'data-testid="form-errors"' in missing.content.decode()
    invalid = _save(client, "Broken", body='{"a": 1,}')
    assert invalid.status_code == 422 and "第 1 行第 9 列" in invalid.content.decode()
    assert SavedRequest.objects.count() == 1


def test_private_requests_are_the_owners_and_shared_ones_the_teams(client_as, feishu, users):
    developer = client_as("developer")
    _save(developer, "Mine")
    _save(developer, "Ours", folder="team", shared=True)
    mine, ours = SavedRequest.objects.get(name="Mine"), SavedRequest.objects.get(name="Ours")
    admin = client_as("admin")
    listing = admin.get("/console/saved/").content.decode()
    assert "Ours" in listing and "Mine" not in listing
    assert admin.get(f"/console/?saved={mine.pk}").status_code == 404
    assert admin.get(f"/console/?saved={ours.pk}").status_code == 200
    assert client_as("auditor").get("/console/saved/").status_code == 403
    # Search by name or folder.
    assert "Ours" not in developer.get("/console/saved/?q=zzz").content.decode()
    assert "Ours" in developer.get("/console/saved/?q=tea").content.decode()
    # Deleting: an admin may remove a shared one; nobody else's private one is reachable.
    assert admin.post(f"/console/saved/{mine.pk}/delete/").status_code == 404
    asked = admin.post(f"/console/saved/{ours.pk}/delete/")
    assert 'data-testid="confirm"' in asked.content.decode()
    assert admin.post(f"/console/saved/{ours.pk}/delete/", {"confirm": "yes"}).status_code == 302
    assert list(SavedRequest.objects.values_list("name", flat=True)) == ["Mine"]
    assert AuditEvent.objects.filter(action="console.saved_delete").count() == 1


def test_a_developer_cannot_delete_a_colleagues_shared_request(client_as, feishu, users, make_user):
    colleague = make_user("colleague", "developer")
    SavedRequest.objects.create(
        owner=colleague,
        name="Theirs",
        shared=True,
        request_spec={"method": "GET", "path": "/", "query": [], "headers": [], "body": None},
    )
    theirs = SavedRequest.objects.get()
    response = client_as("developer").post(f"/console/saved/{theirs.pk}/delete/")
    assert response.status_code == 403 and SavedRequest.objects.exists()


def test_saved_requests_and_exports_never_keep_a_live_secret(client_as, feishu, caplog):
    credential, secret = feishu
    client = client_as("developer")
    client.post("/console/send/", _builder(), HTTP_HX_REQUEST="true")  # a live token exists
    token = AccessToken.objects.get().value()
    body = {**BODY, "content": json.dumps({"text": f"{secret} and {token}"})}
    with caplog.at_level(logging.DEBUG):
        _save(client, "Leaky", body=json.dumps(body), headers=f"X-Debug: {token}")
        saved = SavedRequest.objects.get()
        page = client.get(f"/console/?saved={saved.pk}").content.decode()
        listing = client.get("/console/saved/").content.decode()
        exported = client.post("/console/export/", _builder(), HTTP_HX_REQUEST="true")
    stored = json.dumps(saved.request_spec, ensure_ascii=False)
    assert "«redacted»" in stored
    for place in (stored, page, listing, exported.content.decode(), all_rows(), caplog.text):
        assert secret not in place and token not in place


def test_the_preview_shows_injected_auth_without_secrets(client_as, feishu):
    credential, secret = feishu
    client = client_as("developer")
    empty = client.post(
        "/console/preview/",
        _builder(path="/open-apis/contact/v3/users", method="GET", body=""),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Authorization: Bearer &lt;tenant_access_token&gt;" in empty
    assert "由中控台添加" in empty
    client.post("/console/send/", _builder(), HTTP_HX_REQUEST="true")
    held = AccessToken.objects.get()
    html = client.post("/console/preview/", _builder(), HTTP_HX_REQUEST="true").content.decode()
    assert f"&lt;tenant_access_token {held.fingerprint} v{held.version}&gt;" in html
    assert held.value() not in html and secret not in html
    assert "receive_id_type=open_id" in html and "&quot;msg_type&quot;: &quot;text&quot;" in html
    # The preview checks the JSON before anything is sent.
    broken = client.post(
        "/console/preview/", _builder(body='{\n "a": }'), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="preview-errors"' in broken and "第 2 行第 7 列" in broken
    assert ConsoleCall.objects.count() == 1  # only the one real send
    # A form nobody has filled in yet is waiting, not wrong: no red "not ready".
    for untouched in (_builder(path=""), _builder(credential="")):
        waiting = client.post("/console/preview/", untouched, HTTP_HX_REQUEST="true")
        html = waiting.content.decode()
        assert 'data-testid="preview-waiting"' in html and "preview-errors" not in html


@pytest.fixture
def project(sandbox_credential):
    return sandbox_credential("feishu_project", "MII_PROJECT_01", "fp")


def _work_item(name, **overrides):
    data = {
        "credential": "fp",
        "method": "POST",
        "path": "/open_api/demo/work_item/create",
        "body": json.dumps({"work_item_type_key": "story", "name": name}),
    }
    data.update(overrides)
    return data


def test_a_pinned_idempotency_key_is_sent_and_a_new_one_otherwise(client_as, project):
    client = client_as("developer")
    preview = client.post("/console/preview/", _work_item("A"), HTTP_HX_REQUEST="true")
    text = preview.content.decode()
    assert "X-IDEM-UUID: &lt;new UUID for each send&gt;" in text
    assert "X-USER-KEY: 7000000000000000001" in text  # from the credential
    # Without a pinned key each send is new: two different bodies both succeed.
    for name in ("A", "B"):
        html = client.post("/console/send/", _work_item(name), HTTP_HX_REQUEST="true")
        assert 'data-testid="result-ok"' in html.content.decode()
    keys = {c.request_headers["X-IDEM-UUID"] for c in ConsoleCall.objects.all()}
    assert len(keys) == 2
    # Pinned: the same key goes out; a different body under it is the platform's 10430.
    pinned = "0b9a3f8e-4c1d-4e2f-9a7b-5c6d7e8f9a0b"
    first = client.post(
        "/console/send/", _work_item("C", idem_uuid=pinned), HTTP_HX_REQUEST="true"
    ).content.decode()
    again = client.post(
        "/console/send/", _work_item("C", idem_uuid=pinned), HTTP_HX_REQUEST="true"
    ).content.decode()
    other = client.post(
        "/console/send/", _work_item("D", idem_uuid=pinned), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="result-ok"' in first and 'data-testid="result-ok"' in again
    assert re.search(r'data-testid="code">10430<', other)
    assert (
        ConsoleCall.objects.filter(request_headers__contains={"X-IDEM-UUID": pinned}).count() == 3
    )
    # X-USER-KEY from the form wins over the credential's.
    client.post(
        "/console/send/",
        _work_item("E", headers="X-USER-KEY: 7000000000000000009"),
        HTTP_HX_REQUEST="true",
    )
    assert (
        ConsoleCall.objects.order_by("-id").first().request_headers["X-USER-KEY"]
        == "7000000000000000009"
    )


def test_a_pinned_key_and_the_same_header_twice_is_refused(client_as, project):
    response = client_as("developer").post(
        "/console/send/",
        _work_item(
            "A", idem_uuid="0b9a3f8e-4c1d-4e2f-9a7b-5c6d7e8f9a0b", headers="X-IDEM-UUID: abc"
        ),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422 and not ConsoleCall.objects.exists()
    bad = client_as("developer").post(
        "/console/send/", _work_item("A", idem_uuid="nope"), HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 422 and 'data-testid="form-errors"' in bad.content.decode()


def test_a_shared_request_does_not_show_a_credential_not_shared_with_the_viewer(
    client_as, users, make_user
):
    from apps.vault.services import credential_create

    private = credential_create(
        by=users.admin,
        provider="feishu",
        name="secret-project",
        slug="secret-project",
        environment="prod",
        public={"app_id": "cli_p"},
        secrets={"app_secret": "s-1234567"},
    )
    SavedRequest.objects.create(
        owner=users.admin,
        name="Admin's",
        shared=True,
        credential=private,
        request_spec={"method": "GET", "path": "/", "query": [], "headers": [], "body": None},
    )
    html = client_as("developer").get("/console/saved/").content.decode()
    assert "Admin&#x27;s" in html or "Admin's" in html
    assert "secret-project" not in html
