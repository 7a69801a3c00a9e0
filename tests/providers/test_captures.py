"""Real replies (tests/captures/, each with its public source) through the adapters and
through the console page: the code, classification, trace id and where it was found,
permission violations and help links come out as the platform meant them, and the page shows
them with a 200 from a fake upstream on loopback serving the captured bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from apps.providers.registry import get_provider

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def _load() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(CAPTURES.glob("*.json")):
        for item in json.loads(path.read_text()):
            cases.append((item.get("provider", path.stem), item))
    return cases


CASES = _load()
IDS = [f"{p}-{i}-{c['expect'].get('code', 'ok')}" for i, (p, c) in enumerate(CASES)]


def test_the_corpus_covers_each_platform_and_names_every_source():
    counts: dict[str, int] = {}
    for provider, case in CASES:
        assert case["source"].strip(), case
        counts[provider] = counts.get(provider, 0) + 1
    for provider in ("feishu", "wechat", "wecom", "dingtalk"):
        assert counts[provider] >= 10, counts
    for provider in ("feishu_project", "flashduty", "freelog", "itrigger"):
        assert counts[provider] >= 1, counts


@pytest.mark.parametrize(("provider", "case"), CASES, ids=IDS)
def test_each_real_reply_decodes_as_the_platform_meant_it(provider, case):
    platform = get_provider(provider)
    expect = case["expect"]
    decoded = platform.decode(case["status"], case["headers"], case["body"].encode())
    assert not decoded.problem.startswith("decoder_error"), decoded.problem
    assert decoded.ok is expect.get("ok", False)
    for name in (
        "code",
        "classification",
        "trace_id",
        "trace_id_source",
        "caller_ip",
        "troubleshooter",
        "retry_after",
    ):
        if name in expect:
            assert getattr(decoded, name) == expect[name], (name, decoded)
    if "permission_subjects" in expect:
        assert [v["subject"] or v["scope"] for v in decoded.permission_violations] == expect[
            "permission_subjects"
        ]
        assert all(
            set(v) >= {"type", "subject", "scope", "description"}
            for v in decoded.permission_violations
        )
    if "field_names" in expect:
        assert [v["field"] for v in decoded.field_violations] == expect["field_names"]
    if "help_urls" in expect:
        assert [h["url"] for h in decoded.helps] == expect["help_urls"]
    if not decoded.ok and decoded.code not in ("44004",):  # the docs' placeholder code
        assert decoded.code in platform.catalog, f"{provider} {decoded.code} has no catalogue row"
        assert platform.catalog[decoded.code].source
    if "token" in expect:
        grant = platform.parse_token(case["status"], case["headers"], case["body"].encode())
        assert (grant.access_token, grant.expires_in) == (expect["token"], expect["expires_in"])


TOKEN_REPLIES = {
    "feishu": b'{"code":0,"msg":"ok","tenant_access_token":"t-capture","expire":7200}',
    "wechat": b'{"access_token":"wx-capture","expires_in":7200}',
    "wecom": b'{"errcode":0,"errmsg":"ok","access_token":"wc-capture","expires_in":7200}',
    "dingtalk": b'{"accessToken":"dt-capture","expireIn":7200}',
    "itrigger": b'{"code":200,"message":"ok","data":{"accessToken":"it-capture"}}',
    "feishu_project": b'{"data":{"token":"p-capture","expire_time":7200},'
    b'"error":{"code":0,"msg":"success"}}',
}
PROBE_PATHS = {
    "feishu": "/open-apis/contact/v3/users",
    "wechat": "/cgi-bin/get_api_domain_ip",
    "wecom": "/cgi-bin/user/get",
    "dingtalk": "/v1.0/contact/users/me",
    "itrigger": "/api/member/get",
    "feishu_project": "/open_api/projects/detail",
    "flashduty": "/member/list",
    "freelog": "/v2/resources",
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("provider", "case"), CASES, ids=IDS)
def test_each_real_reply_renders_on_the_console_page(provider, case, upstream, users, client_as):
    from apps.vault.services import credential_create

    platform = get_provider(provider)
    base = f"http://127.0.0.1:{upstream.server_port}"
    values = platform.sample_values("capture-app", "capture-secret")
    if provider == "freelog":
        values["auth_mode"] = "app_key"
    secret_names = set(platform.secret_fields)
    credential_create(
        by=users.admin,
        provider=provider,
        name="capture",
        slug="capture",
        environment="test",
        base_url=base,
        public={k: v for k, v in values.items() if k not in secret_names},
        secrets={k: v for k, v in values.items() if k in secret_names},
        allowed_users=[users.developer],
    )
    token_request = (
        platform.token_request(base, values) if platform.uses_token_for(values) else None
    )
    upstream.token_path = token_request.path if token_request else None
    upstream.token_body = TOKEN_REPLIES.get(provider, b"{}")
    upstream.reply = (case["status"], case["headers"], case["body"].encode())

    response = client_as("developer").post(
        "/console/send/",
        {
            "credential": "capture",
            "method": "GET",
            "path": PROBE_PATHS[provider],
            "query": "",
            "headers": "",
            "body": "",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    expected_trace = platform.decode(
        case["status"], case["headers"], case["body"].encode()
    ).trace_id
    if expected_trace:
        shown = re.search(r'data-testid="trace-id"[^>]*>([^<]*)<', html)
        assert shown and shown.group(1) == expected_trace.replace("&", "&amp;"), html[:2000]
    elif provider != "freelog":  # Freelog's trace id is the traceId header we send
        assert 'data-testid="trace-id"' not in html and "平台没有返回追踪 ID。" in html
    for subject in case["expect"].get("permission_subjects", []):
        assert subject in html
    for ip in [case["expect"].get("caller_ip")] if case["expect"].get("caller_ip") else []:
        assert f'data-testid="caller-ip">{ip}<' in html
    assert 'href="javascript:' not in html
