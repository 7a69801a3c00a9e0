"""Every console input surface answers 2xx or a clear 4xx, never a 500: hypothesis over the
builder's fields, the preview and curl import, plus the inputs that used to end in a 500
(a header outside Latin-1, JSON nested 100,000 levels deep, a body over the upload limit,
dot segments in the path)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = "[" * 100_000 + "]" * 100_000
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(max_size=300) | st.sampled_from(
    [DEEP, "é: ü", "X-A: 值", "a: b\r\nc", "%2e%2e", "/../../healthz", "\x00", "{" * 5000]
)


def _form(**overrides):
    data = {
        "credential": "fs",
        "method": "GET",
        "path": "/open-apis/contact/v3/users",
        "query": "",
        "headers": "",
        "body": "",
    }
    data.update(overrides)
    return data


def _ok_or_clear(response, *phrases):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.content.strip()


@pytest.fixture
def developer(client_as, feishu):
    return client_as("developer")


@HYPOTHESIS
@given(
    path=text,
    query=text,
    headers=text,
    body=text,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "BREW"]),
)
def test_the_preview_never_answers_500(developer, path, query, headers, body, method):
    response = developer.post(
        "/console/preview/",
        _form(path=path, query=query, headers=headers, body=body, method=method),
        HTTP_HX_REQUEST="true",
    )
    _ok_or_clear(response)


@HYPOTHESIS
@given(
    curl=text
    | st.builds(
        lambda h, d: f"curl -X POST 'https://open.feishu.cn/x' -H '{h}' -d '{d}'", text, text
    )
)
def test_curl_import_never_answers_500(developer, curl):
    response = developer.post(
        "/console/import/", {"curl": curl, "credential": "fs"}, HTTP_HX_REQUEST="true"
    )
    _ok_or_clear(response)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("headers", "X-Name: 张三", "Latin-1"),
        ("headers", "名字: x", "Header name"),
        ("body", DEEP, "nested more than"),
        ("path", "/open-apis/../../healthz", ". or .."),
        ("path", "/open-apis/%2e%2e/%2E%2E/admin/", ". or .."),
    ],
)
def test_inputs_that_used_to_500_get_a_clear_message_and_send_nothing(
    developer, field, value, message, settings
):
    from apps.console.models import ConsoleCall

    developer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = developer.post("/console/send/", _form(**{field: value}), HTTP_HX_REQUEST="true")
    assert response.status_code in (200, 422), response.status_code
    assert message in response.content.decode()
    assert not ConsoleCall.objects.exists()


def test_a_deep_body_in_curl_import_is_kept_as_text(developer):
    response = developer.post(
        "/console/import/",
        {
            "curl": f"curl -X POST https://open.feishu.cn/open-apis/x -d '{DEEP}'",
            "credential": "fs",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200


def test_a_body_over_the_upload_limit_replaces_the_result_with_why(developer, settings):
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = developer.post(
        "/console/send/", _form(body=big), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="result"
    )
    assert response.status_code == 422  # swapped by htmx (responseHandling) into the target
    assert response["HX-Retarget"] == "#result" and response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.startswith('<div id="result"') and "请求过大" in html
    plain = developer.post("/console/send/", _form(body=big))
    assert plain.status_code == 413 and "请求过大" in plain.content.decode()


def test_an_upstream_body_nested_100000_levels_deep_is_shown_safely(developer, feishu):
    from apps.sandbox.models import SandboxFault

    # The emulator answers the next call with a body nested 100,000 levels deep.
    SandboxFault.objects.create(
        provider="feishu",
        path_prefix="/open-apis/contact",
        kind=SandboxFault.Kind.DEEP,
        remaining=1,
    )
    response = developer.post("/console/send/", _form(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "JSON 嵌套过深" in response.content.decode()


@pytest.fixture
def feishu_on_upstream(upstream, users):
    from apps.vault.services import credential_create

    base = f"http://127.0.0.1:{upstream.server_port}"
    credential_create(
        by=users.admin,
        provider="feishu",
        name="up",
        slug="up",
        environment="test",
        base_url=base,
        public={"app_id": "cli_up"},
        secrets={"app_secret": "s"},
        allowed_users=[users.developer],
    )
    upstream.token_path = "/open-apis/auth/v3/tenant_access_token/internal"
    upstream.token_body = b'{"code":0,"msg":"ok","tenant_access_token":"t-up","expire":7200}'
    return upstream


header_names = st.sampled_from(
    ["X-Tt-Logid", "x-ogw-ratelimit-reset", "Content-Type", "Retry-After", "X-Custom"]
) | st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True)
header_values = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=80
)
upstream_bodies = st.binary(max_size=600) | st.sampled_from(
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"code": 99991672, "error": {"permission_violations": '
        b'[{"type": "x"}], "helps": [{"url": "javascript:alert(1)"}], "troubleshooter": 7}}',
        b'{"code": "x", "error": []}',
        b"<html>502</html>",
        b"\xff\xfe",
    ]
)


@HYPOTHESIS
@given(
    status=st.integers(100, 599).filter(lambda s: s not in (101, 204, 304) and s >= 200),
    headers=st.dictionaries(header_names, header_values, max_size=4),
    body=upstream_bodies,
)
def test_any_upstream_reply_renders_on_the_console(
    client_as, feishu_on_upstream, status, headers, body
):
    import uuid

    feishu_on_upstream.reply = (status, headers, body)
    # A path of its own each time: the console's rate limiter counts per token and API.
    response = client_as("developer").post(
        "/console/send/",
        _form(credential="up", path=f"/open-apis/probe/{uuid.uuid4().hex}"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assert 'href="javascript:' not in html and 'data-testid="result-' in html


@HYPOTHESIS
@given(as_user=text, send=st.booleans())
def test_any_send_as_value_is_answered(developer, as_user, send):
    from apps.console.models import ConsoleCall

    url = "/console/send/" if send else "/console/preview/"
    response = developer.post(url, _form(as_user=as_user), HTTP_HX_REQUEST="true")
    _ok_or_clear(response)
    if as_user.strip() and "\x00" not in as_user:  # no user is connected: nothing is sent
        assert not ConsoleCall.objects.filter(request_spec__as_user=as_user.strip()).exists()
