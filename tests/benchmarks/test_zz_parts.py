import json, statistics, time
import pytest, requests
from apps.console import ratelimit
from apps.console.redaction import live_values
from apps.console.sender import send
from apps.providers.base import OutboundRequest
from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register
from apps.tokens.services import token_current
from apps.vault.services import credential_create
from tests.helpers import free_port
from .conftest import procfile_web
pytestmark = pytest.mark.django_db(transaction=True)
BODY = {"receive_id": "ou_1", "msg_type": "text", "content": json.dumps({"text": "bench"})}

def test_parts(settings):
    port = free_port(); base = f"http://127.0.0.1:{port}"
    settings.CONSOLE_INTERNAL_TARGETS = [f"127.0.0.1:{port}"]
    app, secret = sandbox_app_register(provider="feishu", app_id="bench-console")
    values = get_provider("feishu").sample_values(app.app_id, secret)
    credential = credential_create(by=None, provider="feishu", name="bench", slug="bench",
        environment="test", base_url=f"{base}/sandbox/feishu", public={"app_id": values["app_id"]},
        secrets={"app_secret": values["app_secret"]})
    url = f"{base}/sandbox/feishu/open-apis/im/v1/messages"
    with procfile_web(port):
        token = token_current(credential=credential).token
        authed = OutboundRequest("POST", url, params=[("receive_id_type", "open_id")], json=BODY,
                                 headers={"Authorization": f"Bearer {token}"})
        parts = {"direct": lambda: requests.post(url, params={"receive_id_type": "open_id"}, json=BODY, headers={"Authorization": f"Bearer {token}"}, timeout=10),
                 "sender": lambda: send(authed, allowed_hosts={"127.0.0.1"}),
                 "token": lambda: token_current(credential=credential),
                 "ratelimit": lambda: ratelimit.acquire(token="x", api="a", limits=()),
                 "live_values": live_values}
        times = {k: [] for k in parts}
        for _ in range(60):
            for k, f in parts.items():
                t = time.perf_counter(); f(); times[k].append((time.perf_counter() - t) * 1000)
            time.sleep(0.05)
        print()
        for k, v in times.items():
            print(k, round(statistics.median(v), 2))
