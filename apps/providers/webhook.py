"""The generic alert webhook: a JSON body signed with HMAC-SHA256, for any receiver that is
not a platform's bot (an on-call tool, a company's own alert router).

Signature header (the receiver checks it the same way):
``X-Zhongkong-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.
A receiver should refuse a `t` more than five minutes away from its clock (replays)."""

from __future__ import annotations

import hashlib
import hmac
import json

from .base import Classification, Decoded, Notice, OutboundRequest, by_status, parse_address

SIGNATURE_HEADER = "X-Zhongkong-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class Webhook:
    key = "webhook"
    alert_label_zh = "通用 Webhook（HMAC 签名）"
    alert_label_en = "Generic webhook (HMAC-signed)"
    alert_signed = True
    alert_docs_url = ""

    def alert_request(self, url: str, secret: str, notice: Notice, now: float) -> OutboundRequest:
        parse_address(url)
        body = json.dumps(
            {
                "key": notice.key,
                "status": "resolved" if notice.resolved else "firing",
                "severity": notice.severity,
                "title": notice.title,
                "text": notice.text,
                "link": notice.link,
                "sent_at": int(now),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, int(now), body)
        return OutboundRequest("POST", url.strip(), headers=headers, body=body)

    def alert_result(self, status: int, headers, body: bytes | None) -> Decoded:
        """Any 2xx is a delivery; the body is the receiver's business."""
        classification = by_status(status)
        ok = classification is Classification.OK
        return Decoded(
            ok=ok,
            http_status=status,
            classification=classification,
            code=None if ok else str(status),
            message=(body or b"")[:300].decode("utf-8", "replace") if not ok else "",
        )
