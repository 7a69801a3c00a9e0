"""An exported curl, replayed by the real `curl` binary against the sandbox, does what the
console's send does: a JSON body goes out as JSON (curl's -d alone would send a form, and
Flashduty refuses anything but application/json), a form as a form, a multipart upload as
multipart. The export holds placeholders; the test puts the live values in, as a person
would."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest

from apps.audit.services import Actor
from apps.tokens.services import token_for_use

pytestmark = pytest.mark.django_db(transaction=True)


def _export(client, **fields) -> str:
    data = {"method": "POST", "query": "", "headers": "", "body_type": "json", **fields}
    answer = client.post("/console/export/", data, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200, answer.content.decode()[:2000]
    return answer.context["export"]["curl"]


def _replay(text: str, live: dict[str, str], cwd) -> tuple[int, dict]:
    for placeholder, value in live.items():
        text = text.replace(placeholder, value)
    assert "<" not in text, text  # every placeholder filled
    argv = shlex.split(text.replace("\\\n", " "))
    assert argv[0] == "curl"
    done = subprocess.run(
        [shutil.which("curl"), "-sS", "-w", "\n%{http_code}", *argv[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
        check=True,
    )
    body, status = done.stdout.rsplit("\n", 1)
    return int(status), json.loads(body)


def test_a_json_body_replays_as_json(client_as, sandbox_credential, tmp_path):
    _, app_key = sandbox_credential("flashduty", "fd-curl", "fd")
    text = _export(
        client_as("developer"), credential="fd", path="/incident/list", body='{"p": 1, "limit": 2}'
    )
    assert "Content-Type: application/json" in text
    status, body = _replay(text, {"<app_key>": app_key}, tmp_path)
    assert status == 200 and len(body["data"]["items"]) == 2, body


def test_a_feishu_json_body_replays_with_its_content_type(client_as, sandbox_credential, tmp_path):
    credential, _ = sandbox_credential("feishu", "cli_curl_json", "fs")
    token = token_for_use(credential=credential, actor=Actor.system())
    message = {"receive_id": "ou_1", "msg_type": "text", "content": '{"text":"hi"}'}
    text = _export(
        client_as("developer"),
        credential="fs",
        path="/open-apis/im/v1/messages",
        query="receive_id_type=open_id",
        body=json.dumps(message),
    )
    assert "-H 'Content-Type: application/json'" in text  # curl -d alone sends a form
    status, body = _replay(text, {"<tenant_access_token>": token}, tmp_path)
    assert status == 200 and body["code"] == 0 and body["data"]["message_id"], body


def test_a_form_body_replays_as_a_form(client_as, sandbox_credential, tmp_path):
    credential, secret = sandbox_credential("feishu", "cli_curl_form", "fs")
    token = token_for_use(credential=credential, actor=Actor.system())
    form = "grant_type=client_credentials\nclient_id=cli_curl_form\nclient_secret=S"
    text = _export(
        client_as("developer"),
        credential="fs",
        path="/open-apis/authen/v2/oauth/token",
        body_type="form",
        body=form,
    )
    assert "--data-urlencode client_id=cli_curl_form" in text
    status, body = _replay(
        text.replace("client_secret=S", f"client_secret={secret}"),
        {"<tenant_access_token>": token},
        tmp_path,
    )
    # The emulator read the client from the form (a wrong or unread one is 20002) and says
    # what it says to a real client asking for a grant it does not offer.
    assert status == 400 and body["code"] == 20001, body


def test_a_multipart_upload_replays_as_multipart(client_as, sandbox_credential, tmp_path):
    credential, _ = sandbox_credential("feishu", "cli_curl_upload", "fs")
    token = token_for_use(credential=credential, actor=Actor.system())
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with png.open("rb") as upload:
        text = _export(
            client_as("developer"),
            credential="fs",
            path="/open-apis/im/v1/images",
            body_type="multipart",
            body="image_type=message",
            upload=upload,
            upload_field="image",
        )
    assert "-F image=@logo.png" in text and "Content-Type" not in text
    status, body = _replay(text, {"<tenant_access_token>": token}, tmp_path)
    assert status == 200 and body["data"]["image_key"].startswith("img_v2_"), body
