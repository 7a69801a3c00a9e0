"""The API catalogue: generated from the official SDKs (reproducibly, whole), searchable,
filling typed forms, and every entry the sandbox emulates round-trips through the console."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.console import catalogue
from apps.console.catalogue import parse_limit
from apps.console.catalogue_build import (
    DINGTALK_NOT_APP_CALLS,
    DINGTALK_TOP,
    DINGTALK_TOP_FILE,
    LARK_NODE,
    LARK_NODE_FILE,
    SDKS,
    sdk_root,
)
from apps.console.models import ConsoleCall
from apps.providers.registry import get_provider
from apps.sandbox.platforms import feishu as feishu_emulator
from apps.sandbox.urls import PLATFORMS
from tests.console.conftest import LIST_USERS

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def lark_node_sdk() -> Path:
    """The official Feishu Node.js SDK's npm tarball, as `make catalogue` fetches it."""
    target = ROOT / "var" / "sdk" / LARK_NODE_FILE
    if not target.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed (apt-get install npm)")
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "pack", "--silent", LARK_NODE, "--pack-destination", str(target.parent)],
            check=True,
            timeout=300,
            capture_output=True,
        )
    return target


@pytest.fixture(scope="session")
def dingtalk_top_sdk() -> Path:
    """DingTalk's TOP SDK wheel (the classic API), as `make catalogue` fetches it."""
    target = ROOT / "var" / "sdk" / DINGTALK_TOP_FILE
    if not target.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--only-binary=:all:", "--python-version", "2.7", DINGTALK_TOP]
            + ["-d", str(target.parent)],
            check=True,
            timeout=300,
            capture_output=True,
        )
    return target


def _top_count(wheel: Path) -> int:
    """How many classic APIs (`dingtalk.oapi.*`) the TOP SDK's request classes name."""
    with zipfile.ZipFile(wheel) as archive:
        names = {
            name
            for member in archive.namelist()
            if member.startswith("dingtalk/api/rest/")
            for name in re.findall(r"'dingtalk\.oapi\.([\w.]+)'", archive.read(member).decode())
        }
    return len(names - DINGTALK_NOT_APP_CALLS)


def _node_count(tarball: Path) -> int:
    """How many APIs (method and path) the Node.js SDK's compiled code calls."""
    with tarfile.open(tarball) as archive:
        code = archive.extractfile("package/lib/index.js").read().decode("utf-8")
    calls = re.findall(
        r"fillApiPath\(`\$\{this\.domain\}(/open-apis/[^`]+)`, path\),\s*method: \"(\w+)\"", code
    )
    return len({(method.upper(), path) for path, method in calls})


def _source_counts() -> dict[str, int]:
    """How many APIs each SDK describes, counted straight from its sources."""
    lark = sdk_root("lark_oapi")
    ding = sdk_root("alibabacloud_dingtalk")
    feishu = sum(
        1
        for f in (lark / "api").glob("*/*/model/*_request.py")
        if '.uri = "' in f.read_text(encoding="utf-8")
    )
    dingtalk = sum(
        len(
            re.findall(
                r"\n    def \w+_with_options\((?:.|\n)*?pathname=", f.read_text(encoding="utf-8")
            )
        )
        for f in ding.glob("*/client.py")
    )
    return {"feishu": feishu, "dingtalk": dingtalk}


def test_the_catalogue_holds_every_api_its_source_describes(lark_node_sdk, dingtalk_top_sdk):
    counts = _source_counts()
    described_by_node = _node_count(lark_node_sdk)
    assert described_by_node > 1500
    classic = _top_count(dingtalk_top_sdk)
    assert classic > 1000
    assert len(catalogue.entries("dingtalk", "old")) >= classic
    assert len(catalogue.entries("dingtalk", "new")) >= counts["dingtalk"]
    feishu_keys = {(a.method, a.path) for a in catalogue.entries("feishu")}
    assert len(feishu_keys) >= described_by_node
    assert counts["feishu"] > 700 and counts["dingtalk"] > 2500
    for platform, described in counts.items():
        assert len(catalogue.entries(platform)) >= described, platform
    assert len(catalogue.entries("wechat")) > 200 and len(catalogue.entries("wecom")) > 80
    for platform in ("feishu_project", "flashduty", "freelog", "itrigger"):
        assert catalogue.entries(platform)  # the adapters' documented endpoints
    with_path_params = [a for a in catalogue.entries("feishu") if a.path_params]
    assert len(with_path_params) > 300
    assert all("{" + p.name + "}" in a.path for a in with_path_params for p in a.path_params)
    upload = next(a for a in catalogue.entries("feishu") if a.id == "im.v1.create_image")
    assert upload.body_type == "multipart" and "image" in upload.body
    user = next(a for a in catalogue.entries("dingtalk") if a.id == "contact_1_0.GetUser")
    assert (user.method, user.path, user.source) == (
        "GET",
        "/v1.0/contact/users/{union_id}",
        "alibabacloud_dingtalk 2.2.65",
    )


def test_the_generated_files_are_reproducible(tmp_path, lark_node_sdk, dingtalk_top_sdk):
    call_command(
        "build_catalogue",
        out=str(tmp_path),
        lark_node_sdk=lark_node_sdk,
        dingtalk_top_sdk=dingtalk_top_sdk,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    for platform in sorted(SDKS):
        assert filecmp.cmp(
            tmp_path / f"{platform}.jsonl", catalogue.DATA / f"{platform}.jsonl", shallow=False
        ), platform


def test_search_finds_by_either_title_path_or_resource():
    def paths(platform, query):
        return [a.path for a in catalogue.search(platform, query)]

    assert "/v1.0/contact/users/{union_id}" in paths("dingtalk", "获取用户信息")
    assert "/v1.0/contact/users/{union_id}" in paths("dingtalk", "contact get user")
    assert "/open-apis/im/v1/messages" in paths("feishu", "发送消息")
    assert paths("feishu", "im v1 messages")[0].startswith("/open-apis/im/v1/messages")
    assert "/cgi-bin/user/info" in paths("wechat", "获取用户基本信息")
    assert len(catalogue.search("dingtalk", "")) == catalogue.MAX_RESULTS
    assert catalogue.search("feishu", "zz-no-such-api") == []


def test_feishu_entries_carry_the_node_sdks_chinese_titles_docs_and_required_marks():
    apis = {(a.method, a.path): a for a in catalogue.entries("feishu")}
    send = apis[("POST", "/open-apis/im/v1/messages")]
    assert send.title_zh == "发送消息" and "apiName=create&project=im" in send.docs
    assert [(q.name, q.required) for q in send.query] == [("receive_id_type", True)]
    # An API lark-oapi does not describe, taken from the Node.js SDK with its parameters.
    blocks = apis[("POST", "/open-apis/docx/v1/documents/{document_id}/blocks/{block_id}/children")]
    assert blocks.title_zh == "创建块" and set(blocks.body) >= {"children", "index"}
    assert [p.name for p in blocks.path_params] == ["document_id", "block_id"]
    # Where the SDK's docs state an API's limit, the entry carries it.
    batch = apis[("PATCH", "/open-apis/docx/v1/documents/{document_id}/blocks/batch_update")]
    assert batch.limit == "3/s"
    titled = [a for a in apis.values() if a.title_zh]
    assert len(titled) / len(apis) > 0.95
    found = [a.path for a in catalogue.search("feishu", "删除部门")]
    assert "/open-apis/contact/v3/departments/{department_id}" in found


def test_the_search_partial_follows_the_credential(client_as, feishu):
    client = client_as("developer")
    found = client.get("/console/catalogue/", {"credential": "fs", "q": "发送消息"})
    assert found.status_code == 200
    assert "?credential=fs&amp;api=im.v1.create_message" in found.content.decode()
    none = client.get("/console/catalogue/", {"credential": "fs", "q": "zz-no-such-api"})
    assert "zz-no-such-api" in none.content.decode()
    assert 'data-testid="api-option"' not in none.content.decode()
    other = client.get("/console/catalogue/", {"credential": "not-mine", "q": "x"})
    assert other.status_code == 200 and 'data-testid="api-option"' not in other.content.decode()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=300), credential=st.text(max_size=50))
def test_any_search_input_answers(client_as, feishu, query, credential):
    client = client_as("developer")
    for slug in ("fs", credential):
        answer = client.get("/console/catalogue/", {"credential": slug, "q": query})
        assert answer.status_code == 200


def test_a_path_parameter_is_a_field_and_fills_the_path(client_as, sandbox_credential):
    sandbox_credential("dingtalk", "ding_console_01", "dt")
    client = client_as("developer")
    page = client.get("/console/", {"credential": "dt", "api": "contact_1_0.GetUser"})
    html = page.content.decode()
    assert 'data-testid="path-param-union_id"' in html and "获取用户信息（新版 API）" in html
    form = {
        "credential": "dt",
        "method": "GET",
        "path": "/v1.0/contact/users/{union_id}",
        "query": "",
        "headers": "",
        "body": "",
    }
    missing = client.post("/console/send/", form, HTTP_HX_REQUEST="true").content.decode()
    assert "union_id" in missing and 'data-testid="form-errors"' in missing
    dots = client.post(
        "/console/send/", {**form, "path_param.union_id": ".."}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="form-errors"' in dots
    sent = client.post(
        "/console/send/", {**form, "path_param.union_id": "on 1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="result-ok"' in sent and "/v1.0/contact/users/on%201" in sent
    # A value is one path segment: a slash in it is encoded, not a new segment.
    sent = client.post(
        "/console/send/", {**form, "path_param.union_id": "a/b"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "/v1.0/contact/users/" + quote("a/b", safe="") in sent


def _emulated(platform: str) -> dict[str, tuple[str, ...]]:
    """The platform's emulated routes, each parameter written {}, with the methods their
    views answer."""
    return {
        "/" + re.sub(r"<(?:\w+:)?\w+>", "{}", str(p.pattern)): p.callback.methods
        for p in PLATFORMS[platform].urlpatterns
    }


SAMPLES = {
    "user_id": feishu_emulator.USERS[0]["open_id"],
    "union_id": "on_sample",
    "project_key": "demo",
}


@pytest.mark.parametrize(
    ("platform", "public"),
    [("feishu", {}), ("dingtalk", {}), ("dingtalk", {"api": "old"}), ("feishu_project", {})],
)
def test_every_catalogued_api_the_sandbox_emulates_round_trips(
    client_as, sandbox_credential, platform, public
):
    credential, _ = sandbox_credential(platform, f"{platform}_roundtrip", "rt", **public)
    routes = _emulated(platform)
    client = client_as("developer")
    sent = []
    for api in catalogue.entries(platform, catalogue.family_of(credential)):
        route = re.sub(r"{\w+}", "{}", api.path)
        if api.method not in routes.get(route, ()) or "token" in api.path.lower():
            continue
        if api.token_types == ("user",):
            continue  # sent as the app, it is refused as the platform refuses it
        page = client.get("/console/", {"credential": "rt", "api": api.id})
        assert page.status_code == 200
        initial = page.context["form"].initial
        form = {
            "credential": "rt",
            "method": initial["method"],
            "path": initial["path"],
            "query": initial["query"],
            "headers": "",
            "body": initial["body"],
            "body_type": initial["body_type"],
            **{f"path_param.{p.name}": SAMPLES.get(p.name, "x") for p in api.path_params},
        }
        if initial["body_type"] == "multipart":
            form.update(
                upload_field=initial["upload_field"],
                upload=SimpleUploadedFile("sample.png", b"\x89PNG sample", "image/png"),
                body="\n".join(
                    f"{line}{SAMPLES.get(line.rstrip('='), 'message')}"
                    for line in initial["body"].splitlines()
                ),
            )
        if api.id == "im.v1.create_message":
            form["body"] = json.dumps(
                {
                    "receive_id": SAMPLES["user_id"],
                    "msg_type": "text",
                    "content": json.dumps({"text": "hi"}),
                }
            )
        answer = client.post("/console/send/", form, HTTP_HX_REQUEST="true")
        html = answer.content.decode()
        assert 'data-testid="form-errors"' not in html, (api.id, html[:500])
        assert 'data-testid="result-ok"' in html, (api.id, re.sub(r"\s+", " ", html)[:800])
        sent.append(api.id)
    assert len(sent) >= {"feishu": 4, "feishu_project": 2}.get(platform, 1), sent
    assert platform != "feishu" or "im.v1.create_image" in sent


def test_dingtalk_classic_api_comes_from_its_top_sdk():
    apis = {a.id: a for a in catalogue.entries("dingtalk", "old")}
    user = apis["dingtalk.oapi.v2.user.get"]
    assert (user.method, user.path, user.family) == ("POST", "/topapi/v2/user/get", "old")
    assert set(user.body) == {"userid", "language"} and user.title_zh  # the adapter's title
    assert user.docs.endswith("apiExplorer#/?devType=org&api=dingtalk.oapi.v2.user.get")
    # First-generation APIs live at the root: every GET, and the POSTs the docs show there.
    old_user = apis["dingtalk.oapi.user.get"]
    assert (old_user.method, old_user.path) == ("GET", "/user/get")
    assert [q.name for q in old_user.query] == ["userid"] and old_user.body is None
    assert apis["dingtalk.oapi.role.add_role"].path == "/role/add_role"
    assert apis["dingtalk.oapi.attendance.listschedule"].path == "/topapi/attendance/listschedule"
    upload = apis["dingtalk.oapi.media.upload"]
    assert upload.body_type == "multipart" and set(upload.body) == {"media", "type"}
    assert "dingtalk.oapi.robot.send" not in apis  # the robot's webhook: an alert channel
    new = {a.path for a in catalogue.entries("dingtalk", "new")}
    assert "/v1.0/contact/users/{union_id}" in new and "/topapi/v2/user/get" not in new
    assert [a.path for a in catalogue.search("dingtalk", "v2 user get", family="old")][0] == (
        "/topapi/v2/user/get"
    )


def test_a_platforms_stated_default_limit_shows_where_an_api_states_none(
    client_as, sandbox_credential
):
    ding = {a.id: a for a in catalogue.entries("dingtalk")}
    assert ding["contact_1_0.GetUser"].limit == "20/s"
    assert ding["dingtalk.oapi.user.get"].limit_docs.startswith("https://help.dingtalk.io/")
    wecom = next(a for a in catalogue.entries("wecom") if a.path == "/cgi-bin/user/get")
    assert wecom.limit == "10000/min, 150000/h" and "90454" in wecom.limit_docs
    feishu = {a.id: a for a in catalogue.entries("feishu")}
    assert feishu["im.v1.create_message"].limit == "1000/min, 50/s"  # the API's own
    assert not feishu["im.v1.create_message"].limit_docs
    assert not feishu["contact.v3.get_user"].limit  # Feishu states tiers per API only
    sandbox_credential("dingtalk", "ding_limit_01", "dt")
    page = client_as("developer").get(
        "/console/", {"credential": "dt", "api": "contact_1_0.GetUser"}
    )
    html = page.content.decode()
    assert 'data-testid="api-limit"' in html and "20/s" in html
    assert "平台对每个接口的默认限制" in html and "call-frequency-limit" in html


def test_feishu_projects_catalogue_is_its_docs_api_list_with_their_limits():
    """The docs' API list (82 APIs) with the limits its "服务端 API 调用限制" table states:
    15 QPS per token for each API, 15 QPS + 450 QPM or 10 QPS for the ones it lists."""
    apis = {(a.method, a.path): a for a in catalogue.entries("feishu_project")}
    assert len(apis) == 82
    assert all("{" + p.name + "}" in path for (_, path), a in apis.items() for p in a.path_params)
    across = apis[("POST", "/open_api/work_items/filter_across_project")]
    assert (across.title_zh, across.limit, across.limit_docs) == (
        "获取指定的工作项列表（跨空间）",
        "15/s, 450/min",
        "",
    )
    relation = "/open_api/{project_key}/work_item/{work_item_type_key}/{work_item_id}/"
    assert apis[("POST", relation + "search_by_relation")].limit == "10/s"
    tenant = apis[("GET", "/open_api/tenant/info")]
    assert tenant.limit == "15/s" and tenant.limit_docs  # the default, so marked
    assert apis[("POST", "/open_api/{project_key}/file/upload")].body_type == "multipart"
    spec = get_provider("feishu_project")
    for (method, path), api in apis.items():
        concrete = re.sub(r"{\w+}", "x", path)
        assert parse_limit(api.limit) == spec.rate_limits(method, concrete), path


def test_the_console_keeps_under_the_limit_the_catalogue_states_for_an_api(
    client_as, sandbox_credential
):
    """Feishu's blocks batch update: 3/s by its docs (the Node.js SDK), not the adapter's
    20/s default; the fourth send in a second waits and is not sent."""
    sandbox_credential("feishu", "cli_limit_01", "fs-limit")
    client = client_as("developer")
    form = {
        "credential": "fs-limit",
        "method": "PATCH",
        "path": "/open-apis/docx/v1/documents/doxcn1/blocks/batch_update",
        "query": "",
        "headers": "",
        "body": "{}",
    }
    answers = [
        client.post("/console/send/", form, HTTP_HX_REQUEST="true").content.decode()
        for _ in range(8)
    ]
    waited = [i for i, html in enumerate(answers) if 'data-testid="rate-wait"' in html]
    assert waited and waited[0] <= 6  # at most 3 in each of the (at most) two windows
    assert ConsoleCall.objects.filter(url__endswith=form["path"]).count() == 8 - len(waited)


def test_the_catalogue_follows_the_api_a_dingtalk_credential_is_set_to(
    client_as, sandbox_credential
):
    sandbox_credential("dingtalk", "ding_new_01", "dt-new")
    sandbox_credential("dingtalk", "ding_old_01", "dt-old", api="old")
    client = client_as("developer")

    def found(slug, query):
        html = client.get("/console/catalogue/", {"credential": slug, "q": query}).content
        return html.decode()

    assert "/topapi/v2/user/get" in found("dt-old", "v2 user get")
    assert "(20/s)" not in found("dt-old", "v2 user get")  # a platform default: not per row
    assert "/topapi/v2/user/get" not in found("dt-new", "v2 user get")
    assert "/v1.0/contact/users/" in found("dt-new", "contact users")
    assert "/v1.0/contact/users/" not in found("dt-old", "contact users")
    page = client.get("/console/", {"credential": "dt-old"})
    assert page.context["api_count"] == len(catalogue.entries("dingtalk", "old"))
    assert all(not a.path.startswith("/v1.0/") for a in page.context["apis"])


def test_platform_names_on_the_wire_come_from_the_adapters():
    """The console holds no list of platform headers or secret names: the adapters' own
    auth, secrets and idempotency header, found by running them."""
    from apps.console import curl
    from apps.providers.registry import wire_names

    names = wire_names()
    assert {"authorization", "x-plugin-token", "x-acs-dingtalk-access-token"} <= names.auth_headers
    assert {"access_token", "app_key"} <= names.auth_query
    assert {"secret", "corpsecret", "appsecret", "app_secret", "plugin_secret"} <= names.secret_keys
    assert names.idempotency_headers == {"x-idem-uuid"}
    assert names.auth_headers <= curl.MANAGED_HEADERS and names.secret_keys == curl.SECRET_KEYS


def test_the_idempotency_key_is_offered_only_for_a_platform_that_reads_one(
    client_as, sandbox_credential
):
    sandbox_credential("feishu", "cli_idem_01", "fs-only")
    client = client_as("developer")
    assert "id_idem_uuid" not in client.get("/console/").content.decode()
    sandbox_credential("feishu_project", "fp_idem_01", "fp")
    page = client.get("/console/").content.decode()
    assert "id_idem_uuid" in page and "X-IDEM-UUID" in page
    refused = client.post(
        "/console/send/",
        {
            "credential": "fs-only",
            "method": "POST",
            "path": "/open-apis/im/v1/messages",
            "query": "",
            "headers": "",
            "body": "{}",
            "idem_uuid": "0b9a3f8e-4c1d-4e2f-9a7b-5c6d7e8f9a0b",
        },
        HTTP_HX_REQUEST="true",
    )
    assert 'data-testid="form-errors"' in refused.content.decode()


def test_a_send_brings_the_recent_sends_panel_along(client_as, feishu):
    client = client_as("developer")
    first = client.post("/console/send/", LIST_USERS, HTTP_HX_REQUEST="true")
    html = first.content.decode()
    assert 'id="recent-panel" hx-swap-oob="true"' in html
    assert html.count("/open-apis/contact/v3/users") >= 2  # the result and the new row
    assert 'data-testid="copy-body"' in html
    refused = client.post(
        "/console/send/", {"credential": "fs", "method": "GET", "path": ""}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 422 and "recent-panel" not in refused.content.decode()


def test_a_curl_import_picks_the_credential_its_host_points_at(
    client_as, feishu, sandbox_credential
):
    sandbox_credential("dingtalk", "ding_import_01", "dt")
    client = client_as("developer")
    docs = (
        "curl -X GET 'https://api.dingtalk.com/v1.0/contact/users/me' "
        "-H 'x-acs-dingtalk-access-token: abc'"
    )
    page = client.post("/console/import/", {"credential": "fs", "curl": docs})
    assert page.context["form"].initial["credential"] == "dt"  # the platform's host
    assert "dt" in page.content.decode() and "api.dingtalk.com" in page.content.decode()
    live = feishu[0].effective_base_url  # both sandbox credentials live on this host
    page = client.post("/console/import/", {"credential": "", "curl": f"curl {live}/x"})
    assert page.context["form"].initial["credential"] == ""  # two match: none is guessed
    unknown = client.post(
        "/console/import/", {"credential": "fs", "curl": "curl https://example.com/x"}
    )
    assert unknown.context["form"].initial["credential"] == "fs"  # kept as chosen


def test_a_dingtalk_credential_set_to_the_classic_api_lives_on_its_host(client_as, users):
    """Choosing the classic API is enough: no base URL to set by hand, and a curl example
    from the classic docs finds that credential, not the new-API one."""
    from apps.vault.services import credential_create

    made = {
        slug: credential_create(
            by=users.admin,
            provider="dingtalk",
            name=slug,
            slug=slug,
            environment="test",
            public={"app_key": "ding_host", **public},
            secrets={"app_secret": "s"},
            allowed_users=[users.developer],
        )
        for slug, public in (("dt-new", {}), ("dt-old", {"api": "old"}))
    }
    assert made["dt-old"].effective_base_url == "https://oapi.dingtalk.com"
    assert made["dt-new"].effective_base_url == "https://api.dingtalk.com"
    token = made["dt-old"].platform.token_request(
        made["dt-old"].effective_base_url, made["dt-old"].adapter_values()
    )
    assert token.url == "https://oapi.dingtalk.com/gettoken"
    docs = "curl -X POST 'https://oapi.dingtalk.com/topapi/v2/user/get?access_token=x' -d '{}'"
    page = client_as("developer").post("/console/import/", {"credential": "", "curl": docs})
    assert page.context["form"].initial["credential"] == "dt-old"


def test_a_multipart_upload_goes_out_as_the_platform_reads_it(client_as, feishu):
    from apps.console.models import ConsoleCall

    client = client_as("developer")
    page = client.get("/console/", {"credential": "fs", "api": "im.v1.create_image"})
    initial = page.context["form"].initial
    assert (initial["body_type"], initial["upload_field"]) == ("multipart", "image")
    assert "image_type=" in initial["body"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    form = {
        "credential": "fs",
        "method": "POST",
        "path": "/open-apis/im/v1/images",
        "query": "",
        "headers": "",
        "body_type": "multipart",
        "body": "image_type=message",
        "upload_field": "image",
    }
    sent = client.post(
        "/console/send/",
        {**form, "upload": SimpleUploadedFile("logo.png", png, "image/png")},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-testid="result-ok"' in sent and "img_v2_" in sent
    call = ConsoleCall.objects.latest("pk")
    assert (
        call.request_body == f"multipart/form-data: image_type=message; image=@logo.png "
        f"({len(png)} bytes)"
    )  # never the file itself
    assert call.request_spec["files"] == [{"field": "image", "name": "logo.png", "size": len(png)}]
    assert client.post(f"/console/history/{call.pk}/replay/").status_code == 200
    assert ConsoleCall.objects.count() == 1  # a replay cannot re-send a file it never kept
    missing = client.post(
        "/console/send/", {**form, "body": "image_type=nonsense"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="result-failed"' in missing and "image" in missing
    export = client.post(
        "/console/export/",
        {**form, "upload": SimpleUploadedFile("logo.png", png, "image/png")},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "-F image_type=message" in export and "-F image=@logo.png" in export
    assert "files={&#x27;image&#x27;: (&#x27;logo.png&#x27;" in export


def test_a_form_urlencoded_body_is_encoded_and_exported():
    from apps.console import curl
    from apps.console.parts import RequestParts

    pairs = [("name", "a b&c"), ("n", "中")]
    parts = RequestParts(method="POST", path="/x", body=pairs, body_type="form")
    out = parts.outbound("https://platform.invalid")
    assert out.body == b"name=a+b%26c&n=%E4%B8%AD" and out.json is None
    assert out.headers["Content-Type"] == "application/x-www-form-urlencoded"
    spec = parts.spec()
    assert "--data-urlencode 'name=a b&c'" in curl.as_curl(out, spec)
    assert "data=[('name', 'a b&c'), ('n', '中')]" in curl.as_python(out, spec)
