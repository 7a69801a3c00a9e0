"""The console's exports, run by the real tool against the sandbox (`curl`, `node`, `go`),
do what the console's send does: a JSON body goes out as JSON (curl's -d alone would send a
form, and Flashduty refuses anything but application/json), a form as a form, a multipart
upload as multipart. An export holds placeholders; the test puts the live values in, as a
person would. Go's is also formatted as `gofmt` writes it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess

import pytest

from apps.audit.services import Actor
from apps.tokens.services import token_for_use

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ("curl", "node", "go")


def _export(client, **fields) -> dict[str, str]:
    data = {"method": "POST", "query": "", "headers": "", "body_type": "json", **fields}
    answer = client.post("/console/export/", data, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200, answer.content.decode()[:2000]
    shown = answer.content.decode()
    assert "Node.js (fetch)" in shown and "Go (net/http)" in shown
    return answer.context["export"]


def _argv(language: str, text: str, cwd) -> list[str]:
    if language == "curl":
        argv = shlex.split(text.replace("\\\n", " "))
        assert argv[0] == "curl"
        return [shutil.which("curl"), "-sS", "-w", " %{http_code}", *argv[1:]]
    if language == "node":
        (cwd / "request.mjs").write_text(text, encoding="utf-8")
        return [shutil.which("node"), "request.mjs"]
    (cwd / "main.go").write_text(text, encoding="utf-8")
    unformatted = subprocess.run(
        [shutil.which("gofmt"), "-l", "main.go"], cwd=cwd, capture_output=True, text=True
    )
    assert unformatted.returncode == 0 and not unformatted.stdout.strip(), text
    return [shutil.which("go"), "run", "main.go"]


def _run(language: str, text: str, live: dict[str, str], cwd) -> tuple[int, dict]:
    for placeholder, value in live.items():
        text = text.replace(placeholder, value)
    assert "<" not in text, text  # every placeholder filled
    env = {**os.environ, "GOFLAGS": "-buildvcs=false", "GO111MODULE": "off"}
    done = subprocess.run(
        _argv(language, text, cwd),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=True,
        env=env,
    )
    out = done.stdout.strip()
    if language == "curl":  # body, then the status curl writes after it
        body, status = out.rsplit(" ", 1)
    else:  # the program prints the status, then the body
        status, body = out.split(" ", 1)
    return int(status), json.loads(body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_json_body_goes_out_as_json(language, client_as, sandbox_credential, tmp_path):
    _, app_key = sandbox_credential("flashduty", f"fd-{language}", "fd")
    code = _export(
        client_as("developer"), credential="fd", path="/incident/list", body='{"p": 1, "limit": 2}'
    )
    assert "Content-Type: application/json" in code["curl"]
    status, body = _run(language, code[language], {"<app_key>": app_key}, tmp_path)
    assert status == 200 and len(body["data"]["items"]) == 2, body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_feishu_message_with_chinese_text_and_quotes_is_sent(
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
    )
    assert "-H 'Content-Type: application/json'" in code["curl"]  # curl -d alone: a form
    status, body = _run(language, code[language], {"<tenant_access_token>": token}, tmp_path)
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
    )
    assert f"--data-urlencode client_id=cli_{language}_form" in code["curl"]
    text = code[language].replace("client_secret=S", f"client_secret={secret}")
    text = text.replace('"client_secret", "S"', f'"client_secret", "{secret}"')
    status, body = _run(language, text, {"<tenant_access_token>": token}, tmp_path)
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
        )
    assert "-F image=@logo.png" in code["curl"] and "Content-Type" not in code["curl"]
    status, body = _run(language, code[language], {"<tenant_access_token>": token}, tmp_path)
    assert status == 200 and body["data"]["image_key"].startswith("img_v2_"), body
