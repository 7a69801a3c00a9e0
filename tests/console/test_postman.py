"""Saved requests to and from a Postman Collection v2.1: folders kept, managed auth and
secrets as empty variables (never values), and the same requests back after a round trip."""

from __future__ import annotations

import json

import pytest

from apps.console.models import SavedRequest
from apps.console.parts import RequestParts
from apps.console.services import saved_request_save
from apps.tokens.services import token_current

pytestmark = pytest.mark.django_db


def _save(user, credential, name, folder, **spec):
    saved_request_save(
        user=user,
        credential=credential,
        name=name,
        folder=folder,
        shared=False,
        spec=RequestParts(
            **{"method": "GET", "path": "/open-apis/contact/v3/users", **spec}
        ).spec(),
    )


def test_export_then_import_gives_the_same_requests_and_no_secret(client_as, feishu, users):
    credential, secret = feishu
    token = token_current(credential=credential).row.value()
    _save(
        users.developer,
        credential,
        "List users",
        "contact/users",
        query=[("page_size", "10"), ("q", "a&b=c d")],
    )
    _save(
        users.developer,
        credential,
        "Send",
        "im",
        method="POST",
        path="/open-apis/im/v1/messages",
        query=[("receive_id_type", "open_id")],
        headers=[("X-Trace", "1")],
        body={"receive_id": "ou_1", "msg_type": "text"},
    )
    client = client_as("developer")
    response = client.get("/console/saved/export.postman.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert secret not in text and token not in text
    collection = json.loads(text)
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    contact = next(i for i in collection["item"] if i["name"] == "contact")
    listed = contact["item"][0]["item"][0]  # contact / users / List users
    assert listed["name"] == "List users"
    assert listed["request"]["url"]["host"] == ["{{fs_base_url}}"]
    assert {"key": "Authorization", "value": "Bearer {{fs_tenant_access_token}}"} in listed[
        "request"
    ]["header"]
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables["fs_base_url"] == credential.effective_base_url
    assert variables["fs_app_secret"] == "" and variables["fs_tenant_access_token"] == ""

    SavedRequest.objects.all().delete()
    answer = client.post("/console/saved/import/", {"collection": text}, follow=True)
    assert answer.status_code == 200
    back = {s.name: s for s in SavedRequest.objects.filter(owner=users.developer)}
    assert set(back) == {"List users", "Send"}
    assert back["List users"].folder == "contact/users" and back["Send"].folder == "im"
    assert back["List users"].credential == credential
    assert back["List users"].request_spec["query"] == [["page_size", "10"], ["q", "a&b=c d"]]
    send = back["Send"].request_spec
    assert (send["method"], send["path"], send["body"]) == (
        "POST",
        "/open-apis/im/v1/messages",
        {"receive_id": "ou_1", "msg_type": "text"},
    )
    assert send["headers"] == [["X-Trace", "1"]]  # Authorization dropped: it is injected
    assert "Authorization" in answer.content.decode()  # ... and the import said so


def test_a_collection_written_elsewhere_imports(client_as, feishu, users):
    """A Postman-style collection with its own variable host, disabled rows, a secret in
    the body and a string URL."""
    collection = {
        "info": {
            "name": "Feishu",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [
            {
                "name": "Auth",
                "item": [
                    {
                        "name": "Token",
                        "request": {
                            "method": "POST",
                            "header": [{"key": "Content-Type", "value": "application/json"}],
                            "body": {
                                "mode": "raw",
                                "raw": '{"app_id": "cli_x", "app_secret": "s3cr3t"}',
                            },
                            "url": {
                                "raw": "{{baseUrl}}/open-apis/auth/v3/tenant_access_token/internal",
                                "host": ["{{baseUrl}}"],
                            },
                        },
                    }
                ],
            },
            {
                "name": "Users",
                "request": {
                    "method": "GET",
                    "url": {
                        "raw": "https://open.feishu.cn/open-apis/contact/v3/users?page_size=5",
                        "query": [
                            {"key": "page_size", "value": "5"},
                            {"key": "user_id_type", "value": "x", "disabled": True},
                        ],
                    },
                },
            },
            {"name": "Plain", "request": "https://open.feishu.cn/open-apis/im/v1/chats"},
        ],
    }
    client = client_as("developer")
    page = client.post(
        "/console/saved/import/", {"collection": json.dumps(collection)}, follow=True
    ).content.decode()
    saved = {s.name: s for s in SavedRequest.objects.filter(owner=users.developer)}
    assert set(saved) == {"Token", "Users", "Plain"}
    assert saved["Token"].folder == "Auth" and "s3cr3t" not in json.dumps(
        saved["Token"].request_spec
    )
    assert saved["Users"].request_spec["query"] == [["page_size", "5"]]
    assert saved["Plain"].request_spec["path"] == "/open-apis/im/v1/chats"
    assert "app_secret" in page  # the dropped secret is reported


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"item": 3}',
        '{"info": {"schema": "https://x/v1.0.0/"}, "item": []}',
        '{"item": []}',
    ],
)
def test_a_bad_collection_is_refused_with_a_reason(client_as, feishu, text):
    client = client_as("developer")
    page = client.post("/console/saved/import/", {"collection": text}, follow=True)
    assert page.status_code == 400
    assert (
        'class="flash flash-error"' in page.content.decode()
        or "flash-error" in page.content.decode()
    )
    assert not SavedRequest.objects.exists()


WRONG_TYPES = [
    ({"info": 5}, "info: an object expected"),
    ({"info": "x"}, "info: an object expected"),
    ({"item": [{"name": "r", "request": {"header": 5}}]}, "item[0].request.header"),
    ({"item": [{"name": "r", "request": {"url": {"raw": 5}}}]}, "item[0].request.url.raw"),
    ({"item": [{"name": "r", "request": {"url": {"raw": ["a"]}}}]}, "item[0].request.url.raw"),
    ({"item": [{"name": "r", "request": {"url": {"query": 5}}}]}, "item[0].request.url.query"),
    ({"item": [{"name": "r", "request": {"body": {"raw": 5}}}]}, "item[0].request.body.raw"),
    ({"item": [{"name": "r", "request": {"body": {"raw": {}}}}]}, "item[0].request.body.raw"),
    ({"item": [{"name": "r", "request": {"method": "G\r\nX: 1"}}]}, "item[0].request.method"),
    ({"item": [{"name": "r", "request": {"method": "TRACE"}}]}, "item[0].request.method"),
    ({"item": [{"name": "f", "item": [{"request": {"header": [7]}}]}]}, "item[0].item[0]"),
]


@pytest.mark.parametrize(("top", "where"), WRONG_TYPES)
def test_a_collection_of_the_wrong_shape_is_refused_naming_the_item(client_as, top, where):
    client = client_as("developer")
    text = json.dumps({"info": {"name": "c"}, "item": []} | top)
    answer = client.post("/console/saved/import/", {"collection": text})
    assert answer.status_code == 400
    assert where in answer.content.decode().replace("&#x27;", "'")
    assert not SavedRequest.objects.exists()
