"""The platforms' bot protocols in their adapters: real replies (tests/captures/bots/, each
with its public source) decode as the platform meant them and decide whether a delivery is
retried; the requests carry what the platforms' docs (and an independent client) say."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from dingtalkchatbot.chatbot import DingtalkChatbot

from apps.alerts.services import RETRYABLE
from apps.providers.base import BadWebhook, Notice, webhook_parts
from apps.providers.registry import alert_protocols, get_provider
from apps.providers.webhook import signature

REPLIES = json.loads(
    (Path(__file__).resolve().parent.parent / "captures" / "bots" / "replies.json").read_text()
)
NOTICE = Notice(
    key="stopped:demo-feishu",
    title="凭证已停止 · Credential stopped",
    text="平台拒绝了凭证。\nThe platform refused the credential.",
    link="https://zk.example.com/tokens/demo-feishu/",
)
NOW = 1_764_750_000.25


@pytest.mark.parametrize("case", REPLIES, ids=[f"{c['kind']}-{i}" for i, c in enumerate(REPLIES)])
def test_each_real_bot_reply_decodes_and_decides_the_retry(case):
    assert case["source"].strip()
    protocol = alert_protocols()[case["kind"]]
    decoded = protocol.alert_result(case["status"], {}, case["body"].encode())
    expect = case["expect"]
    assert decoded.ok is expect["ok"], decoded
    for name in ("code", "trace_id", "caller_ip"):
        if name in expect:
            assert getattr(decoded, name) == expect[name], (name, decoded)
    if "classification" in expect:
        assert decoded.classification == expect["classification"]
    if "retry" in expect:
        assert (decoded.classification in RETRYABLE) is expect["retry"]
    if not decoded.ok:
        assert decoded.explanation_zh and decoded.explanation_en


def test_the_bot_catalogues_explain_their_own_codes_in_both_languages():
    feishu = alert_protocols()["feishu"].alert_result(200, {}, REPLIES[0]["body"].encode())
    assert "签名" in feishu.explanation_zh and "clock" in feishu.explanation_en
    wecom = alert_protocols()["wecom"].alert_result(200, {}, REPLIES[8]["body"].encode())
    assert "Webhook" in wecom.explanation_zh and "webhook address" in wecom.explanation_en


def test_feishu_bot_request_is_a_signed_card_as_the_docs_describe():
    url = "https://open.feishu.cn/open-apis/bot/v2/hook/2b1e7c4a-0000-4000-8000-000000000001"
    request = alert_protocols()["feishu"].alert_request(url, "s3cret-value", NOTICE, NOW)
    assert (request.method, request.url) == ("POST", url)
    body = request.json
    assert body["timestamp"] == str(int(NOW))  # seconds, as a string
    # The docs' algorithm: HMAC-SHA256 keyed with "timestamp\nsecret" over an empty message.
    key = f"{int(NOW)}\ns3cret-value".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["template"] == "red"
    assert NOTICE.link in body["card"]["elements"][0]["text"]["content"]
    unsigned = alert_protocols()["feishu"].alert_request(url, "", NOTICE, NOW)
    assert "sign" not in unsigned.json and "timestamp" not in unsigned.json


def test_dingtalk_robot_signature_matches_the_widely_used_client():
    """DingtalkChatbot (zhuifengshen, PyPI), unmodified, computes the signature it puts in
    the address; ours must be the same for the same instant and secret."""
    secret = "SEC" + "a1" * 30
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc123"
    request = alert_protocols()["dingtalk"].alert_request(url, secret, NOTICE, NOW)
    params = dict(request.params)
    client = DingtalkChatbot(url, secret=secret)
    client.start_time = int(params["timestamp"]) / 1000
    client.update_webhook()
    theirs = parse_qs(urlsplit(client.webhook).query)
    assert params["timestamp"] == theirs["timestamp"][0] == str(int(NOW * 1000))
    assert params["sign"] == unquote(theirs["sign"][0])
    assert params["access_token"] == "abc123"
    assert request.url == "https://oapi.dingtalk.com/robot/send"
    assert request.json["msgtype"] == "text" and NOTICE.title in request.json["text"]["content"]


def test_wecom_robot_and_flashduty_push_carry_their_keys_and_documented_fields():
    wecom = alert_protocols()["wecom"].alert_request(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a-91f6", "", NOTICE, NOW
    )
    assert dict(wecom.params) == {"key": "693a-91f6"}
    assert wecom.json["msgtype"] == "text"
    push = alert_protocols()["flashduty"].alert_request(
        "https://api.flashcat.cloud/event/push/alert/standard?integration_key=ik1", "", NOTICE, NOW
    )
    assert dict(push.params) == {"integration_key": "ik1"}
    assert push.json["event_status"] == "Critical"
    assert push.json["alert_key"] == NOTICE.key  # the same key triggers and resolves
    assert push.json["title_rule"] == NOTICE.title
    resolved = Notice(**{**NOTICE.__dict__, "resolved": True})
    closing = alert_protocols()["flashduty"].alert_request(
        "https://api.flashcat.cloud/event/push/alert/standard?integration_key=ik1",
        "",
        resolved,
        NOW,
    )
    assert closing.json["event_status"] == "Ok"
    assert closing.json["alert_key"] == NOTICE.key


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("feishu", "https://open.feishu.cn.evil.example/open-apis/bot/v2/hook/x"),
        ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/"),
        ("feishu", "http://open.feishu.cn/open-apis/bot/v2/hook/x"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send"),
        ("dingtalk", "https://oapi.dingtalk.com/topapi/message?access_token=x"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
        ("flashduty", "https://api.flashcat.cloud/event/push/alert/standard"),
        ("webhook", "ftp://example.com/hook"),
    ],
)
def test_an_address_that_is_not_the_platforms_is_refused(kind, url):
    protocol = alert_protocols()[kind]
    with pytest.raises(BadWebhook):  # by the host and path check, or by the request itself
        if getattr(protocol, "alert_hosts", ()):
            webhook_parts(protocol, url, internal_ok=False)
        protocol.alert_request(url, "", NOTICE, NOW)


def test_generic_webhook_body_is_signed_as_the_readme_documents():
    request = alert_protocols()["webhook"].alert_request(
        "https://hooks.example.com/zk", "k3y", NOTICE, NOW
    )
    header = request.headers["X-Zhongkong-Signature"]
    fields = dict(part.split("=", 1) for part in header.split(","))
    mac = hmac.new(b"k3y", f"{fields['t']}.".encode() + request.body, hashlib.sha256)
    assert fields["v1"] == mac.hexdigest()
    assert header == signature("k3y", int(NOW), request.body)
    assert json.loads(request.body)["status"] == "firing"


def test_only_platforms_with_a_bot_are_alert_kinds():
    kinds = alert_protocols()
    assert set(kinds) == {"feishu", "dingtalk", "wecom", "flashduty", "webhook"}
    assert not get_provider("wechat").has_alerts
