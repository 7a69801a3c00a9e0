from __future__ import annotations

from django.urls import include, path

from . import core
from .platforms import (
    bots,
    dingtalk,
    feishu,
    feishu_project,
    flashduty,
    freelog,
    itrigger,
    wechat,
    wecom,
)

PLATFORMS = {
    m.P: m for m in (feishu, feishu_project, flashduty, freelog, itrigger, wechat, wecom, dingtalk)
}

urlpatterns = [path(f"{key}/", include(module.urlpatterns)) for key, module in PLATFORMS.items()]
urlpatterns.append(
    path(
        "webhook/<str:key>",
        core.endpoint("webhook", ("POST",))(bots.webhook_receiver),
        name="sandbox-webhook",
    )
)
