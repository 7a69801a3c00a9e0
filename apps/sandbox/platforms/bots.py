"""Group bots, robots and event pushes of the emulated platforms, and a generic signed
webhook receiver: each checks what its platform checks (key, signature, timestamp, body)
and answers with the platform's own replies; an accepted message is kept (SandboxMessage)
for tests to read.

Written from the platforms' docs and replies quoted in public issue threads, not from
Zhongkong's adapters:
- Feishu custom bot (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): sign =
  base64(HMAC-SHA256(key="timestamp\\nsecret", msg="")), timestamp in seconds within an hour;
  19021 as quoted in feiyu563/PrometheusAlert#422, success with both field sets as public
  webhook test records print it.
- DingTalk robot (open.dingtalk.com/document/orgapp/custom-robot-access): sign =
  base64(HMAC-SHA256(key=secret, msg="timestamp\\nsecret")) in the query, timestamp in
  milliseconds within an hour; 310000 as quoted in qd-today/qd#510 and
  megaease/easeprobe#202.
- WeCom group robot (developer.work.weixin.qq.com/document/path/91770): the key is the only
  check; 93000 as quoted in wes-lin/Cloud189Checkin#175.
- Flashduty standard alert event (flashcatcloud/itrs-geneos internal/flashduty): query
  integration_key, event_status Critical/Warning/Info/Ok, alert_key, title_rule; the
  reply {"request_id", "data": {"alert_key"}}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.http import HttpRequest

from .. import core

HOUR = 3600


def _feishu_sign(timestamp: str, secret: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _dingtalk_sign(timestamp: str, secret: str) -> str:
    message = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _fresh(timestamp: Any, scale: int) -> bool:
    try:
        return abs(int(timestamp) / scale - time.time()) <= HOUR
    except (TypeError, ValueError):
        return False


def feishu_hook(request: HttpRequest, key: str):
    def reply(code: int, msg: str):
        return core.jsonr({"code": code, "data": {}, "msg": msg})

    bot = core.find_bot("feishu", key)
    if bot is None:
        return reply(19001, "param invalid: incoming webhook access token invalid")
    body = core.body_json(request)
    if not isinstance(body, dict):
        return reply(9499, "Bad Request")
    if bot.signed:
        timestamp, sign = str(body.get("timestamp", "")), body.get("sign")
        expected = _feishu_sign(timestamp, core.bot_secret("feishu", key))
        if not (
            _fresh(timestamp, 1)
            and isinstance(sign, str)
            and hmac.compare_digest(sign.encode(), expected.encode())
        ):
            return reply(
                19021, "sign match fail or timestamp is not within one hour from current time"
            )
    if body.get("msg_type") not in ("text", "post", "image", "share_chat", "interactive"):
        return reply(9499, "Bad Request")
    core.bot_received(bot, body)
    return core.jsonr(
        {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
    )


def dingtalk_robot(request: HttpRequest):
    def reply(code: int, msg: str):
        return core.jsonr({"errcode": code, "errmsg": msg})

    key = request.GET.get("access_token", "")
    bot = core.find_bot("dingtalk", key)
    if bot is None:
        return reply(300001, "description:robot 不存在；solution:请确认 token 是否正确；")
    if bot.signed:
        timestamp, sign = request.GET.get("timestamp", ""), request.GET.get("sign", "")
        expected = _dingtalk_sign(timestamp, core.bot_secret("dingtalk", key))
        if not (_fresh(timestamp, 1000) and hmac.compare_digest(sign.encode(), expected.encode())):
            return reply(
                310000,
                "description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都"
                "放在调用的网址中，请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得"
                "具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;",
            )
    body = core.body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("msgtype"), str):
        return reply(40035, "缺少参数 json")
    core.bot_received(bot, body)
    return reply(0, "ok")


def wecom_webhook(request: HttpRequest):
    bot = core.find_bot("wecom", request.GET.get("key", ""))
    if bot is None:
        hint = f"{int(time.time())}{core.secrets.randbelow(10**15):015d}"[:25]
        return core.jsonr(
            {
                "errcode": 93000,
                "errmsg": (
                    f"invalid webhook url, hint: [{hint}], from ip: "
                    f"{request.META.get('REMOTE_ADDR', '')}, more info at "
                    "https://open.work.weixin.qq.com/devtool/query?e=93000"
                ),
            }
        )
    body = core.body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("msgtype"), str):
        return core.jsonr({"errcode": 40008, "errmsg": "invalid message type"})
    core.bot_received(bot, body)
    return core.jsonr({"errcode": 0, "errmsg": "ok"})


STATUSES = ("Critical", "Warning", "Info", "Ok")


def flashduty_event(request: HttpRequest):
    request_id = core.ulid()

    def error(code: str, message: str, status: int):
        return core.jsonr(
            {"request_id": request_id, "error": {"code": code, "message": message}},
            status=status,
            headers={"Flashcat-Request-Id": request_id},
        )

    bot = core.find_bot("flashduty", request.GET.get("integration_key", ""))
    if bot is None:
        return error("Unauthorized", "integration_key is invalid", 401)
    body = core.body_json(request)
    if (
        not isinstance(body, dict)
        or body.get("event_status") not in STATUSES
        or not isinstance(body.get("title_rule"), str)
        or not body["title_rule"]
        or len(body["title_rule"]) > 512
    ):
        return error("InvalidParameter", "event_status or title_rule is invalid", 400)
    core.bot_received(bot, body)
    return core.jsonr(
        {"request_id": request_id, "data": {"alert_key": str(body.get("alert_key") or "")}},
        headers={"Flashcat-Request-Id": request_id},
    )


SIGNATURE_AGE = 300


def webhook_receiver(request: HttpRequest, key: str):
    """A generic receiver checking `X-Zhongkong-Signature: t=<s>,v1=<hex>` over "<t>.<body>"
    (the scheme the README documents for webhook channels)."""
    bot = core.find_bot("webhook", key)
    if bot is None:
        return core.jsonr({"error": "no such receiver"}, status=404)
    if bot.signed:
        fields = dict(
            part.split("=", 1)
            for part in request.headers.get("X-Zhongkong-Signature", "").split(",")
            if "=" in part
        )
        timestamp = fields.get("t", "")
        mac = hmac.new(
            core.bot_secret("webhook", key).encode(),
            f"{timestamp}.".encode() + request.body,
            hashlib.sha256,
        ).hexdigest()
        fresh = timestamp.isdigit() and abs(int(timestamp) - time.time()) <= SIGNATURE_AGE
        if not (fresh and hmac.compare_digest(mac.encode(), fields.get("v1", "").encode())):
            return core.jsonr({"error": "bad signature"}, status=401)
    body = core.body_json(request)
    if not isinstance(body, dict):
        return core.jsonr({"error": "not JSON"}, status=400)
    core.bot_received(bot, body)
    return core.jsonr({"ok": True})
