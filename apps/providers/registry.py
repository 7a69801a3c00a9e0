"""The one list of platforms. Everything outside apps/providers asks here."""

from __future__ import annotations

from .base import Provider
from .dingtalk import DingTalk
from .feishu import Feishu
from .feishu_project import FeishuProject
from .flashduty import Flashduty
from .freelog import Freelog
from .itrigger import ITrigger
from .wechat import WeChat
from .wecom import WeCom

PROVIDERS: dict[str, Provider] = {p.key: p for p in (
    Feishu(), FeishuProject(), Flashduty(), Freelog(), ITrigger(), WeChat(), WeCom(), DingTalk(),
)}


def get_provider(key: str) -> Provider:
    try:
        return PROVIDERS[key]
    except KeyError:
        raise LookupError(f"unknown platform {key!r}") from None


def provider_choices() -> list[tuple[str, str]]:
    return [(p.key, f"{p.name_zh} · {p.name_en}") for p in PROVIDERS.values()]
