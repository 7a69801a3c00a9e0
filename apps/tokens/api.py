"""The token API for business servers (DESIGN.md): JSON, `Authorization: Bearer <client key>`."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from apps.audit.services import Actor
from apps.vault.models import Credential

from . import services
from .models import ClientKey
from .openapi import DOCUMENT

STATUS = {"unauthorized": 401, "forbidden": 403, "not_found": 404, "rate_limited": 429,
          "upstream_failed": 502, "credential_invalid": 502, "quota_exhausted": 503,
          "backing_off": 503, "blocked": 503, "quota": 503, "refresh_timeout": 503,
          "disabled": 503, "bad_request": 400}


def _error(request: HttpRequest, code: str, message: str, *, retry_after: float | None = None):
    response = JsonResponse({"error": {"code": code, "message": message},
                             "request_id": getattr(request, "request_id", "")},
                            status=STATUS.get(code, 503))
    if retry_after:
        response["Retry-After"] = str(max(1, int(retry_after + 0.999)))
    return _no_store(response)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def _body(row, credential: Credential, token: str) -> dict:
    now = timezone.now()
    return {"credential": credential.slug, "provider": credential.provider,
            "token_type": row.token_type or credential.platform.token_type,
            "access_token": token, "expires_at": row.expires_at.isoformat(),
            "expires_in": max(0, int((row.expires_at - now).total_seconds())),
            "version": row.version}


def _authorise(request: HttpRequest, slug: str):
    """(key, credential) or an error response. Unknown credentials and credentials out of
    the key's scope differ (404 / 403) only for an authenticated key."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    key = services.client_key_authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        return None, _error(request, "unauthorized", "a valid client key is required "
                                                     "(Authorization: Bearer <client key>)")
    window = int(timezone.now().timestamp() // 60)
    counter = f"tokens:api:rl:{key.pk}:{window}"
    cache.add(counter, 0, 61)
    try:
        used = cache.incr(counter)
    except ValueError:
        used = 1
    if used > settings.TOKEN_API_RATE_LIMIT:
        return None, _error(request, "rate_limited", "too many requests for this client key",
                            retry_after=60 - timezone.now().timestamp() % 60)
    credential = Credential.objects.alive().filter(slug=slug).first()
    if credential is None:
        return None, _error(request, "not_found", f"no credential named {slug!r}")
    if not key.credentials.filter(pk=credential.pk).exists():
        return None, _error(request, "forbidden", "this client key may not fetch this token")
    if not credential.enabled:
        return None, _error(request, "disabled", "the credential is disabled")
    if not credential.platform.uses_token_for(credential.public_values):
        return None, _error(request, "not_found", "this credential has no access token")
    return (key, credential), None


def _actor(key: ClientKey) -> Actor:
    return Actor.client_key(key.pk, key.name)


@csrf_exempt
@require_GET
def token_get(request: HttpRequest, slug: str) -> JsonResponse:
    auth, denied = _authorise(request, slug)
    if denied:
        return denied
    key, credential = auth
    try:
        served = services.token_current(credential=credential, actor=_actor(key))
    except services.TokenUnavailable as exc:
        return _error(request, exc.code, str(exc), retry_after=exc.retry_after)
    services.handout_count(client_key_id=key.pk, credential_id=credential.pk)
    return _no_store(JsonResponse(_body(served.row, credential, served.token)))


@csrf_exempt
@require_http_methods(["POST"])
def token_refresh(request: HttpRequest, slug: str) -> JsonResponse:
    auth, denied = _authorise(request, slug)
    if denied:
        return denied
    key, credential = auth
    rejected = None
    if request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return _error(request, "bad_request", "the body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("rejected_token", ""), str):
            return _error(request, "bad_request", '{"rejected_token": "<token>"} expected')
        rejected = body.get("rejected_token") or None
    try:
        row = services.token_refresh(credential_id=credential.pk, rejected_token=rejected,
                                     force=rejected is None, reason="passive",
                                     actor=_actor(key))
        served = services.Served(row.value(), row)
        if not services.is_valid(row, timezone.now()):
            raise services.TokenUnavailable("upstream_failed", "no valid token")
    except services.TokenUnavailable as exc:
        return _error(request, exc.code, str(exc), retry_after=exc.retry_after)
    services.handout_count(client_key_id=key.pk, credential_id=credential.pk)
    return _no_store(JsonResponse(_body(served.row, credential, served.token)))


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(DOCUMENT, json_dumps_params={"ensure_ascii": False})
