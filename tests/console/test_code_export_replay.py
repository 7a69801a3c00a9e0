"""The console's Node.js (fetch) and Go (net/http) exports, run by the real `node` and `go`
against the sandbox, do what the console's send does: a JSON body goes out as JSON, a form as
a form, a multipart upload as multipart. The export holds placeholders; the test puts the
live values in, as a person would. Go's is also formatted as `gofmt` writes it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from apps.audit.services import Actor
from apps.tokens.services import token_for_use

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ("node", "go")


def _export(client, **fields) -> dict[str, str]:
    data = {"method": "POST", "query": "", "headers": "", "body_type": "json", **fields}
    answer = client.post("/console/export/", data, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200, answer.content.decode()[:2000]
    shown = answer.content.decode()
    assert "Node.js (fetch)" in shown and "Go (net/http)" in shown
    return answer.context["export"]


def _run(language: str, text: str, live: dict[str, str], cwd) -> tuple[int, dict]:
    for placeholder, value in live.items():
        text = text.replace(placeholder, value)
    assert "<" not in text.replace("<-", ""), text  # every placeholder filled
    if language == "node":
        source = cwd / "request.mjs"
        argv = [shutil.which("node"), str(source)]
    else:
        source = cwd / "main.go"
        argv = [shutil.which("go"), "run", str(source)]
    source.write_text(text, encoding="utf-8")
    if language == "go":
        unformatted = subprocess.run(
            [shutil.which("gofmt"), "-l", str(source)], capture_output=True, text=True, check=True
        ).stdout
        assert not unformatted.strip(), text
    env = {**os.environ, "GOFLAGS": "-buildvcs=false", "GO111MODULE": "off"}
    done = subprocess.run(
        argv, capture_output=True, text=True, cwd=cwd, timeout=120, check=True, env=env
    )
    status, body = done.stdout.strip().split(" ", 1)
    return int(status), json.loads(body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_json_body_goes_out_as_json(language, client_as, sandbox_credential, tmp_path):
    _, app_key = sandbox_credential("flashduty", f"fd-{language}", "fd")
    code = _export(
        client_as("developer"), credential="fd", path="/incident/list", body='{"p": 1, "limit": 2}'
    )[language]
    status, body = _run(language, code, {"<app_key>": app_key}, tmp_path)
    # Flashduty refuses anything but application/json.
    assert status == 200 and len(body["data"]["items"]) == 2, body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_feishu_message_with_chinese_text_is_sent(
    language, client_as, sandbox_credential, tmp_path
):
    credential, _ = sandbox_credential("feishu", f"cli_{language}_json", "fs")
    token = token_for_use(credential=credential, actor=Actor.system())
    message = {"receive_id": "ou_1", "msg_type": "text", "content": '{"text":"你好 `q` \\\\ \\""}'}
    code = _export(
        client_as("developer"),
        credential="fs",
        path="/open-apis/im/v1/messages",
        query="receive_id_type=open_id",
        body=json.dumps(message, ensure_ascii=False),
    )[language]
    assert "<tenant_access_token>" in code
    status, body = _run(language, code, {"<tenant_access_token>": token}, tmp_path)
    assert status == 200 and body["code"] == 0 and body["data"]["message_id"], body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_body_goes_out_as_a_form(language, client_as, sandbox_credential, tmp_path):
    credential, secret = sandbox_credential("feishu", f"cli_{language}_form", "fs")
    token = token_for_use(credential=credential, actor=Actor.system())
    form = f"grant_type=client_credentials\nclient_id=cli_{language}_form\nclient_secret=S"
    code = _export(
        client_as("developer"),
        credential="fs",
        path="/open-apis/authen/v2/oauth/token",
        body_type="form",
        body=form,
    )[language]
    status, body = _run(
        language,
        code.replace('"client_secret", "S"', f'"client_secret", "{secret}"'),
        {"<tenant_access_token>": token},
        tmp_path,
    )
    # The emulator read the client from the form (a wrong or unread one is 20002) and says
    # what it says to a real client asking for a grant it does not offer.
    assert status == 400 and body["code"] == 20001, body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_multipart_upload_goes_out_as_multipart(
    language, client_as, sandbox_credential, tmp_path
):
    credential, _ = sandbox_credential("feishu", f"cli_{language}_upload", "fs")
    token = token_for_use(credential=credential, actor=Actor.system())
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with png.open("rb") as upload:
        code = _export(
            client_as("developer"),
            credential="fs",
            path="/open-apis/im/v1/images",
            body_type="multipart",
            body="image_type=message",
            upload=upload,
            upload_field="image",
        )[language]
    status, body = _run(language, code, {"<tenant_access_token>": token}, tmp_path)
    assert status == 200 and body["data"]["image_key"].startswith("img_v2_"), body
