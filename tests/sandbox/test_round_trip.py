"""Adapter + emulator over real HTTP, for every platform: fetch a token, make an authorised
call, and see a rejected token decoded as "token rejected"."""

from __future__ import annotations

import pytest

from apps.providers.base import Classification, OutboundRequest, ProviderError
from apps.providers.client import fetch_token
from apps.providers.registry import PROVIDERS, get_provider
from apps.providers.sender import send

pytestmark = pytest.mark.django_db(transaction=True)

CALLS = {
    "feishu": ("GET", "/open-apis/contact/v3/users", [("page_size", "5")], None),
    "feishu_project": (
        "POST",
        "/open_api/demo/work_item/filter",
        [],
        {"work_item_type_keys": ["story"], "page_num": 1, "page_size": 10},
    ),
    "flashduty": ("POST", "/incident/list", [], {"p": 1, "limit": 10}),
    "freelog": ("GET", "/v2/resources", [("skip", "0"), ("limit", "10")], None),
    "itrigger": ("GET", "/itrigger-tenant/v1/basic/openAPItest/test/get", [("name", "zk")], None),
    "wechat": ("GET", "/cgi-bin/get_api_domain_ip", [], None),
    "wecom": ("GET", "/cgi-bin/user/get", [("userid", "zhangsan")], None),
    "dingtalk": ("GET", "/v1.0/contact/users/union-123", [], None),
}
BOGUS = {"feishu": "t-g1bogus0000000000000000", "freelog": "eyJ.bogus.token"}


def test_every_registered_platform_has_a_round_trip():
    assert set(CALLS) == set(PROVIDERS)


LOOPBACK = ["127.0.0.1:*", "localhost:*"]  # the live server's port is chosen at random


@pytest.mark.parametrize("key", sorted(CALLS))
def test_token_call_and_rejected_token(key, sandbox_app, sandbox_url):
    provider = get_provider(key)
    _, _, creds = sandbox_app(key)
    base = sandbox_url(key)
    token = None
    if provider.uses_token_for(creds):
        grant = fetch_token(provider, base_url=base, creds=creds, internal=LOOPBACK)
        lifetime = provider.refresh_policy.default_lifetime
        assert grant.access_token and 0 < grant.expires_in <= lifetime
        token = grant.access_token
    method, path, params, body = CALLS[key]
    request = OutboundRequest(method, base + path, params=list(params), json=body)
    authorised = provider.apply_auth(request, creds, token)
    raw = send(authorised, internal=LOOPBACK)
    decoded = provider.decode(raw.status, raw.headers, raw.body, authorised)
    assert decoded.ok, (raw.status, raw.body[:500])
    assert decoded.classification is Classification.OK

    if provider.uses_token_for(creds):
        rejected = provider.apply_auth(request, creds, BOGUS.get(key, "bogus-token-value-0000"))
        raw = send(rejected, internal=LOOPBACK)
        decoded = provider.decode(raw.status, raw.headers, raw.body, rejected)
        assert decoded.token_rejected, (key, raw.status, raw.body[:500])
    else:
        wrong = provider.apply_auth(request, {**creds, "app_key": "not-the-key"}, None)
        raw = send(wrong, internal=LOOPBACK)
        decoded = provider.decode(raw.status, raw.headers, raw.body, wrong)
        assert decoded.classification is Classification.CREDENTIAL_INVALID


@pytest.mark.parametrize("key", sorted(k for k in CALLS if k != "flashduty"))
def test_wrong_secret_is_a_permanent_token_failure(key, sandbox_app, sandbox_url):
    provider = get_provider(key)
    _, secret, creds = sandbox_app(key)
    wrong = {k: ("wrong-" + v if v == secret else v) for k, v in creds.items()}
    with pytest.raises(ProviderError) as excinfo:
        fetch_token(provider, base_url=sandbox_url(key), creds=wrong, internal=LOOPBACK)
    assert excinfo.value.permanent, excinfo.value
    assert (
        excinfo.value.decoded.classification is Classification.CREDENTIAL_INVALID
        or excinfo.value.decoded.classification is Classification.CLIENT_ERROR
    )
