from __future__ import annotations

from django.urls import include, path

from .platforms import dingtalk, feishu, feishu_project, flashduty, freelog, itrigger, wechat, wecom

PLATFORMS = {
    m.P: m for m in (feishu, feishu_project, flashduty, freelog, itrigger, wechat, wecom, dingtalk)
}

urlpatterns = [path(f"{key}/", include(module.urlpatterns)) for key, module in PLATFORMS.items()]
