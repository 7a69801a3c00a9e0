"""The business servers' package (clients/python): the official SDKs, unmodified, take their
token from Zhongkong with no app secret on the business side: a token, an API call, a token
the platform then rejects (the SDK's call goes through again after one compare-and-refresh,
the platform sees one more fetch), and Zhongkong unreachable (a clear error, never a fetch
with a secret)."""

from __future__ import annotations

from datetime import timedelta

import lark_oapi as lark
import pytest
from alibabacloud_dingtalk.contact_1_0 import client as contact_client
from alibabacloud_dingtalk.contact_1_0 import models as contact_models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models
from django.utils import timezone
from lark_oapi.api.contact.v3 import ListUserRequest
from zhongkong_client import ZhongkongError, ZhongkongTokens
from zhongkong_client.dingtalk import ZhongkongDingTalk
from zhongkong_client.lark import PLACEHOLDER_SECRET, ZhongkongLarkCache
from zhongkong_client.wechat import ZhongkongWeChatClient, ZhongkongWeComClient

from apps.sandbox.models import SandboxApp, SandboxCounter, SandboxToken
from apps.vault.services import credential_create

pytestmark = pytest.mark.django_db(transaction=True)


def _credential(provider: str, slug: str, base_url: str, sandbox_app, **public):
    app, secret, _ = sandbox_app(provider, f"{slug}-app")
    from apps.providers.registry import get_provider

    platform = get_provider(provider)
    values = {**platform.sample_values(app.app_id, secret), **public}
    credential_create(
        by=None,
        provider=provider,
        name=slug,
        slug=slug,
        environment="test",
        base_url=base_url,
        public={k: v for k, v in values.items() if k not in platform.secret_fields},
        secrets={k: v for k, v in values.items() if k in platform.secret_fields},
    )
    return app


def _reject_current(app: SandboxApp) -> None:
    """The platform stops honouring the token it issued, before its stated expiry."""
    SandboxToken.objects.filter(app=app).update(valid_until=timezone.now() - timedelta(seconds=1))


def _fetches(app: SandboxApp) -> int:
    """The token endpoint's calls the emulated platform counted."""
    return sum(SandboxCounter.objects.filter(app=app).values_list("fetches", flat=True))


@pytest.fixture(autouse=True)
def _lark_cache_restored():
    """lark-oapi keeps its token cache per process: put its own back for the other tests."""
    from lark_oapi.core.token.manager import TokenManager

    before = TokenManager.cache
    yield
    TokenManager.cache = before


@pytest.fixture
def zhongkong(live_server, client_key):
    def make(*slugs: str) -> ZhongkongTokens:
        from apps.vault.models import Credential

        _, key = client_key(*Credential.objects.filter(slug__in=slugs))
        return ZhongkongTokens(live_server.url, key)

    return make


def test_lark_oapi_takes_its_tenant_token_from_zhongkong(sandbox_app, sandbox_origin, zhongkong):
    base = sandbox_origin("feishu")  # lark-oapi takes an origin only
    app = _credential("feishu", "lark-biz", base, sandbox_app)
    cache = ZhongkongLarkCache(zhongkong("lark-biz"), "lark-biz")
    client = (
        lark.Client.builder()
        .app_id(app.app_id)
        .app_secret(PLACEHOLDER_SECRET)  # the SDK wants one; it is never sent
        .domain(base)
        .cache(cache)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )
    request = ListUserRequest.builder().page_size(2).build()
    reply = cache.call(lambda: client.contact.v3.user.list(request))
    assert reply.success(), (reply.code, reply.msg)
    assert _fetches(app) == 1

    _reject_current(app)
    reply = cache.call(lambda: client.contact.v3.user.list(request))
    assert reply.success(), (reply.code, reply.msg)
    assert _fetches(app) == 2  # one compare-and-refresh, through Zhongkong

    down = ZhongkongLarkCache(
        ZhongkongTokens("http://127.0.0.1:9", "zkck_x", timeout=1), {"cli_other_app": "x"}
    )
    offline = (
        lark.Client.builder()
        .app_id("cli_other_app")
        .app_secret(PLACEHOLDER_SECRET)
        .domain(base)
        .cache(down)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )
    with pytest.raises(ZhongkongError) as unreachable:
        offline.contact.v3.user.list(request)
    assert unreachable.value.code == "unreachable"
    assert _fetches(app) == 2
    with pytest.raises(ZhongkongError):  # an app the cache names no credential for
        down.get(f"self_tenant_token:{app.app_id}")


@pytest.mark.parametrize("corp", [False, True])
def test_wechatpy_takes_its_token_from_zhongkong(live_server, sandbox_app, zhongkong, corp):
    provider = "wecom" if corp else "wechat"
    base = f"{live_server.url}/sandbox/{provider}"
    app = _credential(provider, f"{provider}-biz", base, sandbox_app)
    tokens = zhongkong(f"{provider}-biz")
    if corp:
        client = ZhongkongWeComClient(app.app_id, tokens, f"{provider}-biz")
        call = lambda: client.user.get("zhangsan")  # noqa: E731
    else:
        client = ZhongkongWeChatClient(app.app_id, tokens, f"{provider}-biz")
        call = lambda: client.misc.get_wechat_ips()  # noqa: E731
    client.API_BASE_URL = f"{base}/cgi-bin/"  # the platform's address: the sandbox
    assert call()
    assert _fetches(app) == 1

    _reject_current(app)
    assert call()  # wechatpy's own retry, through Zhongkong's compare-and-refresh
    assert _fetches(app) == 2

    offline = ZhongkongWeChatClient(
        "wx_other", ZhongkongTokens("http://127.0.0.1:9", "zkck_x", timeout=1), "x"
    )
    offline.API_BASE_URL = f"{base}/cgi-bin/"
    with pytest.raises(ZhongkongError):
        offline.misc.get_wechat_ips()
    assert _fetches(app) == 2


def test_the_dingtalk_sdk_takes_its_token_from_zhongkong(sandbox_app, sandbox_origin, zhongkong):
    origin = sandbox_origin("dingtalk")
    app = _credential("dingtalk", "ding-biz", origin, sandbox_app)
    ding = ZhongkongDingTalk(zhongkong("ding-biz"), "ding-biz")
    config = open_api_models.Config(protocol="http", region_id="central")
    config.endpoint = origin.removeprefix("http://")
    contact = contact_client.Client(config)

    def get_user(headers):
        return contact.get_user_with_options("dtunion0001", headers, util_models.RuntimeOptions())

    assert ding.call(get_user, contact_models.GetUserHeaders).body.union_id == "dtunion0001"
    assert _fetches(app) == 1
    _reject_current(app)
    assert ding.call(get_user, contact_models.GetUserHeaders).body.union_id == "dtunion0001"
    assert _fetches(app) == 2

    down = ZhongkongDingTalk(ZhongkongTokens("http://127.0.0.1:9", "zkck_x", timeout=1), "x")
    with pytest.raises(ZhongkongError) as unreachable:
        down.call(get_user, contact_models.GetUserHeaders)
    assert unreachable.value.code == "unreachable"
    assert _fetches(app) == 2


def test_the_package_installs_from_the_checkout(tmp_path):
    """`pip install ./clients/python` (its build backend from the package index, its own
    dependencies left out: the suite has them) builds it and installs a package that
    imports."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    source = tmp_path / "checkout"  # pip builds in the tree it is given: not in ours
    shutil.copytree(root / "clients" / "python", source)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    found = subprocess.run(
        [sys.executable, "-c", "import zhongkong_client, sys; print(zhongkong_client.__file__)"],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.startswith(str(target))
    assert (target / "zhongkong_client" / "lark.py").exists()
