"""A path an emulator does not emulate is answered as the platform answers an unknown path
(Feishu's `404 page not found`, DingTalk's `InvalidAction.NotFound`, captured in public
threads), otherwise by a marked JSON 404; never by Zhongkong's HTML page, which a platform
origin cannot render (HTTP 500 before). At each origin and on the `/sandbox/<platform>/` alias,
and through the console, where it reads as the platform's 404, not a gateway error page."""

from __future__ import annotations

import pytest
import requests

from apps.sandbox.origins import PLATFORMS

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "/open-apis/no_such_api/v1/things/om_dc13264520392913993dd051dba21dcf"  # in no catalogue


def _check(provider: str, answer: requests.Response) -> None:
    if provider == "flashduty":  # authenticates first, as Flashduty does, then RouteNotFound
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "Unauthorized"
        return
    assert answer.status_code == 404, (provider, answer.status_code, answer.text[:300])
    assert "text/html" not in answer.headers["Content-Type"]
    assert "<html" not in answer.text.lower() and "Zhongkong" not in answer.text
    assert answer.headers["X-Zhongkong-Sandbox"] == "not-emulated"
    if provider == "feishu":
        assert answer.text == "404 page not found"
        assert answer.headers["Content-Type"].startswith("text/plain")
    elif provider == "dingtalk":
        body = answer.json()
        assert body["code"] == "InvalidAction.NotFound" and sorted(body) == [
            "code",
            "message",
            "requestid",
        ]
    else:
        assert answer.json()["error"] == "not_emulated"


@pytest.mark.parametrize("provider", PLATFORMS)
def test_an_origin_answers_an_unknown_path_as_its_platform(sandbox_origin, provider):
    origin = sandbox_origin(provider)
    for method in ("GET", "POST", "DELETE"):
        _check(provider, requests.request(method, origin + UNKNOWN, json={"a": 1}, timeout=10))


@pytest.mark.parametrize("provider", PLATFORMS)
def test_the_alias_answers_an_unknown_path_the_same(live_server, provider):
    answer = requests.get(f"{live_server.url}/sandbox/{provider}{UNKNOWN}", timeout=10)
    _check(provider, answer)
