from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from .models import PlatformSignIn


def platform_sign_ins(request: HttpRequest) -> dict:
    """The platforms the sign-in page offers (only that page asks: lazily)."""

    def offered() -> list[dict]:
        rows = PlatformSignIn.objects.select_related("credential").filter(
            enabled=True, credential__enabled=True, credential__deleted_at__isnull=True
        )
        return [
            {
                "key": r.provider,
                "label": LABELS[r.provider],
                "url": reverse(f"{r.provider_id}_login"),
            }
            for r in sorted(rows, key=lambda r: ORDER.index(r.provider))
        ]

    return {"platform_sign_ins": offered}


ORDER = ["feishu", "dingtalk", "wecom"]
LABELS = {"feishu": "飞书 Feishu", "dingtalk": "钉钉 DingTalk", "wecom": "企业微信 WeCom"}
