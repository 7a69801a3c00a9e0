from __future__ import annotations

from .core import app_secret, bot_secret, hash_token
from .models import SandboxApp, SandboxBot, SandboxMessage
from .urls import PLATFORMS

DEMO_APP_IDS = {
    "feishu": "cli_demo0000000001",
    "feishu_project": "MII_DEMO00000001",
    "flashduty": "demo-app-key",
    "freelog": "demo-freelog-user",
    "itrigger": "demo-itrigger",
    "wechat": "wx0000000000demo",
    "wecom": "ww0000000000demo",
    "dingtalk": "dingdemo00000000",
}


def sandbox_app_register(*, provider: str, app_id: str, **settings) -> tuple[SandboxApp, str]:
    """Register (or update) an app with an emulated platform; returns it and its secret."""
    if provider not in PLATFORMS:
        raise LookupError(f"no sandbox for {provider!r}")
    app, _ = SandboxApp.objects.update_or_create(
        provider=provider, app_id=app_id, defaults=settings
    )
    return app, app_secret(provider, app_id)


def sandbox_demo_apps() -> dict[str, tuple[SandboxApp, str]]:
    return {
        provider: sandbox_app_register(provider=provider, app_id=app_id)
        for provider, app_id in DEMO_APP_IDS.items()
    }


DEMO_BOTS = {
    "feishu": "00000000-demo-4a5b-8c9d-feishubot001",
    "dingtalk": "demo0000dingtalkrobot000000000000000000000000000000000000000001",
    "wecom": "00000000-demo-4b5c-9d0e-wecomrobot01",
    "flashduty": "demo0000flashdutyintegration0001",
    "webhook": "demo-receiver",
}


def sandbox_bot_register(*, platform: str, key: str, signed: bool = True) -> tuple[SandboxBot, str]:
    """Register (or update) an emulated bot; returns it and its signing secret."""
    bot, _ = SandboxBot.objects.update_or_create(
        platform=platform, key_hash=hash_token(key), defaults={"signed": signed}
    )
    return bot, bot_secret(platform, key)


def sandbox_bot_messages(platform: str, key: str) -> list[dict]:
    """Every message the bot accepted, oldest first."""
    return list(
        SandboxMessage.objects.filter(
            bot__platform=platform, bot__key_hash=hash_token(key)
        ).values_list("body", flat=True)
    )
