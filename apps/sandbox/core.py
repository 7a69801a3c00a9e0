"""What every emulated platform shares: derived secrets, token issuing with each platform's
reissue rule, fetch counters and daily caps, injected faults, rate windows, trace ids."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.core.ratelimit import Window, take

from .models import (
    SandboxApp,
    SandboxBot,
    SandboxCounter,
    SandboxFault,
    SandboxMessage,
    SandboxToken,
)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"zhongkong-sandbox", hashlib.sha256).digest()


def _mac(message: str) -> str:
    return hmac.new(_key(), message.encode(), hashlib.sha256).hexdigest()


def app_secret(provider: str, app_id: str) -> str:
    """The one secret the emulated platform accepts for this app (derived, never stored)."""
    return _mac(f"secret:{provider}:{app_id}")[:32]


def bot_secret(platform: str, key: str) -> str:
    """The signing secret of an emulated bot (derived, never stored)."""
    prefix = {"dingtalk": "SEC"}.get(platform, "")
    return prefix + _mac(f"bot:{platform}:{key}")[:40]


def find_bot(platform: str, key: Any) -> SandboxBot | None:
    if not isinstance(key, str) or not key:
        return None
    return SandboxBot.objects.filter(platform=platform, key_hash=hash_token(key)).first()


def bot_received(bot: SandboxBot, body: Any) -> None:
    SandboxMessage.objects.create(bot=bot, body=body)


def secret_matches(app: SandboxApp, secret: Any) -> bool:
    return isinstance(secret, str) and hmac.compare_digest(
        secret.encode(), app_secret(app.provider, app.app_id).encode()
    )


def find_app(provider: str, app_id: Any) -> SandboxApp | None:
    if not isinstance(app_id, str) or not app_id:
        return None
    return SandboxApp.objects.filter(provider=provider, app_id=app_id).first()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def jsonr(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(obj, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def body_json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


# --- trace ids in each platform's format ---------------------------------------------------


def feishu_logid() -> str:
    return timezone.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def ulid() -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(26))


def wechat_rid() -> str:
    return f"{int(time.time()):08x}-{secrets.randbits(32):08x}-{secrets.randbits(32):08x}"


def uuid_upper() -> str:
    raw = secrets.token_hex(16).upper()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


# --- fetch counters and caps ---------------------------------------------------------------


def count_fetch(app: SandboxApp) -> int:
    """Record one call of the token endpoint; return today's count including it."""
    today = timezone.localdate()
    counter, _ = SandboxCounter.objects.get_or_create(app=app, day=today)
    SandboxCounter.objects.filter(pk=counter.pk).update(fetches=F("fetches") + 1)
    return SandboxCounter.objects.values_list("fetches", flat=True).get(pk=counter.pk)


def fetches(provider: str, app_id: str) -> int:
    """Total token-endpoint calls for an app (what tests assert on)."""
    return sum(
        SandboxCounter.objects.filter(app__provider=provider, app__app_id=app_id).values_list(
            "fetches", flat=True
        )
    )


def cap_reached(app: SandboxApp, count: int) -> bool:
    return app.daily_cap is not None and count > app.daily_cap


# --- tokens --------------------------------------------------------------------------------

REUSE_UNTIL_WINDOW = "reuse_until_window"  # Feishu: same token until < window remains
REUSE_WHILE_VALID = "reuse_while_valid"  # same token until it expires
EXTEND = "extend"  # DingTalk: same token, validity extended on every fetch
ROTATE = "rotate"  # every fetch issues a new token


def token_value(app: SandboxApp, kind: str, serial: int, shape: Callable[[str], str]) -> str:
    return shape(
        _mac(f"token:{app.provider}:{app.pk}:{kind}:{serial}")
        + _mac(f"token2:{app.pk}:{kind}:{serial}")
    )


def issue_token(
    app: SandboxApp,
    kind: str,
    *,
    mode: str,
    shape: Callable[[str], str],
    old_grace: int | None = None,
) -> tuple[str, int]:
    """Hand out a token under the platform's rule. Returns (token, seconds until expiry).

    `old_grace` (ROTATE): previous tokens stay valid this many more seconds (WeChat: 300);
    None keeps them valid until their own expiry (iTrigger).
    """
    now = timezone.now()
    lifetime = timedelta(seconds=app.token_lifetime)
    with transaction.atomic():
        SandboxApp.objects.select_for_update().filter(pk=app.pk).first()
        latest = SandboxToken.objects.filter(app=app, kind=kind).order_by("-serial").first()
        live = latest is not None and latest.valid_until > now
        if live and mode == EXTEND:
            SandboxToken.objects.filter(pk=latest.pk).update(
                expires_at=now + lifetime, valid_until=now + lifetime
            )
            return token_value(app, kind, latest.serial, shape), app.token_lifetime
        if live and (
            mode == REUSE_WHILE_VALID
            or (
                mode == REUSE_UNTIL_WINDOW
                and (latest.expires_at - now).total_seconds() >= app.reissue_window
            )
        ):
            remaining = int((latest.expires_at - now).total_seconds())
            return token_value(app, kind, latest.serial, shape), remaining
        if mode == ROTATE and old_grace is not None:
            SandboxToken.objects.filter(app=app, kind=kind, valid_until__gt=now).update(
                valid_until=now + timedelta(seconds=old_grace)
            )
        serial = (latest.serial + 1) if latest else 1
        value = token_value(app, kind, serial, shape)
        SandboxToken.objects.create(
            app=app,
            kind=kind,
            serial=serial,
            token_hash=hash_token(value),
            issued_at=now,
            expires_at=now + lifetime,
            valid_until=now + lifetime,
        )
        return value, app.token_lifetime


def invalidate_tokens(app: SandboxApp, kind: str) -> None:
    SandboxToken.objects.filter(app=app, kind=kind).update(valid_until=timezone.now())


def check_token(provider: str, token: Any, kinds: tuple[str, ...] = ()) -> tuple[str, Any]:
    """('valid', SandboxToken) | ('expired', SandboxToken) | ('missing', None) | ('unknown', None)."""
    if not isinstance(token, str) or not token:
        return "missing", None
    found = (
        SandboxToken.objects.select_related("app")
        .filter(token_hash=hash_token(token), app__provider=provider)
        .first()
    )
    if found is None or (kinds and found.kind not in kinds):
        return "unknown", None
    return ("valid" if found.valid_until > timezone.now() else "expired"), found


# --- rate windows --------------------------------------------------------------------------


def over_limit(key: str, limit: int, per: int = 1) -> tuple[bool, int]:
    """The emulated platform's limit (the product's one rate limiter). Returns (over,
    seconds until the window resets)."""
    wait = take(f"sandbox:{key}", (Window(limit, per),))
    if wait:
        return True, max(1, math.ceil(wait))
    return False, max(1, math.ceil(per - time.time() % per))


# --- faults --------------------------------------------------------------------------------


def _take_fault(provider: str, path: str) -> SandboxFault | None:
    with transaction.atomic():
        for fault in SandboxFault.objects.select_for_update().filter(provider=provider):
            if not path.startswith(fault.path_prefix):
                continue
            if fault.remaining is not None:
                if fault.remaining == 0:
                    continue
                SandboxFault.objects.filter(pk=fault.pk).update(remaining=F("remaining") - 1)
            return fault
    return None


def _dropped_connection():
    yield b'{"partial": '
    raise ConnectionResetError("sandbox fault: connection reset")


def _huge(megabytes: int):
    yield b'{"data": ["'
    chunk = b"x" * 65536
    for _ in range(megabytes * 16):
        yield chunk
    yield b'"]}'


def fault_response(fault: SandboxFault) -> HttpResponse | None:
    kind = fault.kind
    if kind == SandboxFault.Kind.DELAY:
        time.sleep(min(fault.value, 120_000) / 1000)
        return None
    if kind == SandboxFault.Kind.STATUS:
        return HttpResponse(
            f"<html><body><h1>{fault.value or 502} Bad Gateway</h1></body></html>",
            status=fault.value or 502,
            content_type="text/html",
        )
    if kind == SandboxFault.Kind.HTML:
        return HttpResponse(
            "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
            "<body><center><h1>502 Bad Gateway</h1></center></body></html>",
            status=502,
            content_type="text/html",
        )
    if kind == SandboxFault.Kind.TRUNCATED:
        return HttpResponse(
            b'{"code": 0, "msg": "success", "data": {"items": [{"id": 1}, {"i',
            content_type="application/json",
        )
    if kind == SandboxFault.Kind.DEEP:
        return HttpResponse(
            b'{"code": 0, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            content_type="application/json",
        )
    if kind == SandboxFault.Kind.NOT_JSON:
        return HttpResponse(b"upstream said: OK but not JSON", content_type="text/plain")
    if kind == SandboxFault.Kind.RESET:
        return StreamingHttpResponse(_dropped_connection(), content_type="application/json")
    if kind == SandboxFault.Kind.HUGE:
        return StreamingHttpResponse(_huge(max(1, fault.value)), content_type="application/json")
    return None


def endpoint(provider: str, methods: tuple[str, ...] = ("GET", "POST")):
    """Decorate an emulated platform endpoint: no CSRF (machines call it), faults first."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            path = request.path.split(f"/sandbox/{provider}", 1)[-1] or "/"
            fault = _take_fault(provider, path)
            if fault is not None and fault.kind == SandboxFault.Kind.LOST_REPLY:
                if request.method in methods:
                    view(request, *args, **kwargs)  # the platform acts; its reply is lost
                return StreamingHttpResponse(_dropped_connection(), content_type="application/json")
            if fault is not None:
                response = fault_response(fault)
                if response is not None:
                    return response
            if request.method not in methods:
                # A method the emulator does not serve here is a path the platform does not
                # serve (DingTalk's reply says "check your url and method"): its unknown-path
                # answer, not a bare 405.
                from .platforms.unknown import reply

                return reply(provider, request)
            return view(request, *args, **kwargs)

        wrapper.methods = methods  # what the emulated platform answers here
        return wrapper

    return decorator


def bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else ""
