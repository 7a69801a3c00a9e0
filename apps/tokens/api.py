"""The token API for business servers (DESIGN.md): JSON, `Authorization: Bearer <client key>`.

The hot path answers from the entries of cache.py, held in process memory (nearcache.py),
and counts the hand-out in this process's ledger (ledger.py): no database, no network
round trip while the token is valid. The token is kept in the shared cache only as the same
ciphertext the database holds."""

from __future__ import annotations

import functools
import json
import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.audit.services import Actor
from apps.core.metrics import RATE_LIMITED
from apps.core.ratelimit import Window, take
from apps.providers.base import loads
from apps.providers.jsapi import page_signature
from apps.vault.models import Credential

from . import cache as token_cache
from . import grants, services, tickets
from .models import AccessToken, ClientKey, UserGrant
from .openapi import DOCUMENT

logger = logging.getLogger(__name__)
SAFETY = services.SAFETY.total_seconds()


def _min_life() -> float:
    """Below this much life left a token is renewed before it is handed out, where the
    platform would issue a new one (otherwise it goes out with the life it has)."""
    return settings.TOKEN_MIN_HANDOUT_LIFE


DEFAULT_RETRY_AFTER = 30.0  # a 503 whose cause names no time (a disabled credential)
STATUS = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "rate_limited": 429,
    "upstream_failed": 502,
    "credential_invalid": 502,
    "quota_exhausted": 503,
    "backing_off": 503,
    "blocked": 503,
    "quota": 503,
    "refresh_timeout": 503,
    "disabled": 503,
    "bad_request": 400,
    "unavailable": 503,
    "refresh_in_progress": 503,
    "method_not_allowed": 405,
    "needs_reauthorisation": 409,
}


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _token_response(body: dict | bytes) -> HttpResponse:
    encoded = body if isinstance(body, bytes) else _encode(body)
    return _no_store(HttpResponse(encoded, content_type="application/json"))


def _error(
    request: HttpRequest, code: str, message: str, *, retry_after: float | None = None, decoded=None
):
    error = {"code": code, "message": message}
    if decoded is not None:  # what the platform said, decoded (never a token)
        error["platform"] = {
            "code": decoded.code,
            "message": decoded.message,
            "classification": str(decoded.classification),
            "trace_id": decoded.trace_id,
            "explanation_zh": decoded.explanation_zh,
            "explanation_en": decoded.explanation_en,
        }
    response = JsonResponse(
        {"error": error, "request_id": getattr(request, "request_id", "")},
        status=STATUS.get(code, 503),
    )
    if retry_after is None and response.status_code == 503:
        retry_after = DEFAULT_RETRY_AFTER  # every 503 says when to come back
    if retry_after:
        response["Retry-After"] = str(max(1, int(retry_after + 0.999)))
    return _no_store(response)


def _over_rate(key_id: int) -> float | None:
    """Seconds until the window resets when the key is over its per-minute limit (the
    cache unreachable: served, uncounted, rather than refused)."""
    window = Window(settings.TOKEN_API_RATE_LIMIT, token_cache.RATE_PER)
    return take(token_cache.rate_name(key_id), (window,)) or None


def _refusal(request: HttpRequest, slug: str, entry: dict | None, key: dict):
    if entry is None:
        return _error(request, "not_found", f"no credential named {slug!r}")
    reason = _out_of_reach(entry, key)
    return _error(request, *reason) if reason else None


def _out_of_reach(entry: dict, key: dict) -> tuple[str, str] | None:
    """Why this key may not have this credential's token, as (code, message)."""
    if entry["credential_id"] not in key["scope"]:
        return "forbidden", "this client key may not fetch this token"
    if not entry["enabled"]:
        return "disabled", "the credential is disabled"
    if not entry["uses_token"]:
        return "not_found", "this credential has no access token"
    return None


def _key_hash(authorization: str) -> str | None:
    """The hash of a client key presented as `Bearer <client key>`."""
    scheme, _, raw = authorization.partition(" ")
    raw = raw.strip()
    if scheme.lower() == "bearer" and raw.startswith(ClientKey.PREFIX) and len(raw) <= 100:
        return ClientKey.hash(raw)
    return None


def _key_valid(key: dict | None) -> bool:
    return (
        key is not None
        and not key["revoked"]
        and not (key["expires_at"] and key["expires_at"] <= time.time())
    )


def handout_from_memory(authorization: str, slug: str) -> bytes | None:
    """The common request, answered from process memory alone (no database, no round trip):
    a valid key within its scope and rate, a token valid past the safety margin; counted in
    the ledger. None for anything else, which `token_get` answers and explains. Served
    before Django's request cycle by tokens/wsgi.py, and first thing by the view."""
    key_hash = _key_hash(authorization)
    if key_hash is None:
        return None
    key, entry = token_cache.in_memory(key_hash, slug)
    if not _key_valid(key) or entry is None or _out_of_reach(entry, key):
        return None
    now = time.time()
    minute = int(now // 60)
    ledger = token_cache.ledger()
    if ledger.requests(key["id"], minute) >= settings.TOKEN_API_RATE_LIMIT:
        return None
    token = token_cache.usable_token(slug, entry, _min_life())
    if token is None:
        return None
    ledger.count(key["id"], entry["credential_id"], minute)
    return _encode(_entry_body(slug, entry, token, now))


def user_handout_from_memory(authorization: str, slug: str, user_id: str) -> bytes | None:
    """A connected user's token, answered from process memory as an app token is: the key
    may read this user's token, the grant's token is valid past the margin and not yet due
    for its refresh; counted in the ledger. None for anything else (the view answers)."""
    key_hash = _key_hash(authorization)
    if key_hash is None or not _plausible(user_id):
        return None
    key, entry, grant = token_cache.user_in_memory(key_hash, slug, user_id)
    if not _key_valid(key) or entry is None or grant is None or _out_of_reach(entry, key):
        return None
    if grant["credential_id"] != entry["credential_id"]:
        return None
    users = key.get("users")
    if users is None or (users and user_id not in users):
        return None
    now = time.time()
    minute = int(now // 60)
    ledger = token_cache.ledger()
    if ledger.requests(key["id"], minute) >= settings.TOKEN_API_RATE_LIMIT:
        return None
    token = token_cache.usable_user_token(grant, SAFETY)
    if token is None:
        return None
    ledger.count(key["id"], entry["credential_id"], minute)
    return _encode(
        {
            "credential": slug,
            "provider": entry["provider"],
            "token_type": "user_access_token",
            "access_token": token,
            "expires_at": grant["expires_iso"],
            "expires_in": max(0, int(grant["expires_at"] - now)),
            "version": grant["version"],
            "user_id": grant["user_id"],
        }
    )


def _entry_body(slug: str, entry: dict, token: str, now: float) -> dict:
    return {
        "credential": slug,
        "provider": entry["provider"],
        "token_type": entry["token_type"],
        "access_token": token,
        "expires_at": entry["expires_iso"],
        "expires_in": max(0, int(entry["expires_at"] - now)),
        "version": entry["version"],
    }


def _encode(body: dict) -> bytes:
    return json.dumps(body).encode()


def _authorise(request: HttpRequest, slug: str):
    """(key entry, token entry) or an error response. An unknown credential and one out of
    the key's scope differ (404 / 403) only for an authenticated key."""
    key_hash = _key_hash(request.headers.get("Authorization", ""))
    key = entry = None
    if key_hash is not None:
        key, entry = token_cache.lookup(key_hash, slug)
    if not _key_valid(key):
        return None, _error(
            request,
            "unauthorized",
            "a valid client key is required (Authorization: Bearer <client key>)",
        )
    refused = _refusal(request, slug, entry, key)
    if refused is None and token_cache.on_redis():
        wait = _count(request, key, entry)
        if wait is None:
            return (key, entry), None  # "last used" comes from the hand-out counts
    else:
        wait = _over_rate(key["id"])
    if wait is not None:
        RATE_LIMITED.labels("token_api").inc()
        return None, _error(
            request, "rate_limited", "too many requests for this client key", retry_after=wait
        )
    services.client_key_used(client_key_id=key["id"])
    return (None, refused) if refused is not None else ((key, entry), None)


def _count(request: HttpRequest, key: dict, entry: dict) -> float | None:
    """Count the request in the ledger (rate window and hand-out at once), or the seconds
    until the window resets when the key is over its limit (nothing counted)."""
    now = time.time()
    minute = int(now // 60)
    ledger = token_cache.ledger()
    if ledger.requests(key["id"], minute) >= settings.TOKEN_API_RATE_LIMIT:
        return 60 - now % 60
    request.counted = (key["id"], entry["credential_id"], minute)
    ledger.count(*request.counted)
    return None


def _uncount(request: HttpRequest) -> None:
    """Take back a request counted up front when no token went out after all."""
    counted = getattr(request, "counted", None)
    if counted:
        token_cache.ledger().count(*counted, by=-1)
        request.counted = None


def _body(slug: str, entry: dict, token: str, expires_at, version: int, token_type: str):
    return {
        "credential": slug,
        "provider": entry["provider"],
        "token_type": token_type,
        "access_token": token,
        "expires_at": expires_at.isoformat(),
        "expires_in": max(0, int((expires_at - timezone.now()).total_seconds())),
        "version": version,
    }


def _from_row(slug: str, entry: dict, row: AccessToken) -> dict:
    return _body(
        slug, entry, row.value(), row.expires_at, row.version, row.token_type or entry["token_type"]
    )


def _counted(request: HttpRequest, key: dict, entry: dict) -> None:
    if not getattr(request, "counted", None):
        services.handout_count(client_key_id=key["id"], credential_id=entry["credential_id"])


def _actor(key: dict) -> Actor:
    return Actor.client_key(key["id"], key["name"])


def api_methods(*methods: str):
    """Like require_http_methods, answering the API's JSON (with Allow) instead of an empty
    HTML 405."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = _error(
                    request,
                    "method_not_allowed",
                    f"{request.method} is not allowed here; use {', '.join(methods)}",
                )
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def json_errors(view):
    """Whatever fails inside (a database or cache down, a bug), the API answers its own JSON
    503 with Retry-After and `no-store`, never an HTML page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Exception:
            logger.exception("token API: %s failed", request.path)
            return _error(
                request,
                "unavailable",
                "Zhongkong cannot serve this now; retry shortly",
                retry_after=5,
            )

    return wrapper


@csrf_exempt
@api_methods("GET", "HEAD")
@json_errors
def token_get(request: HttpRequest, slug: str) -> HttpResponse:
    answered = handout_from_memory(request.headers.get("Authorization", ""), slug)
    if answered is not None:
        return _token_response(answered)
    auth, denied = _authorise(request, slug)
    if denied:
        return denied
    key, entry = auth
    token = token_cache.usable_token(slug, entry, _min_life())
    if token is not None:  # entries just read from the database, or no Redis
        body = _entry_body(slug, entry, token, time.time())
    else:
        try:
            served = services.token_current(
                credential=Credential.objects.get(pk=entry["credential_id"]),
                actor=_actor(key),
                min_life=_min_life(),
            )
        except services.TokenUnavailable as exc:
            _uncount(request)
            return _error(request, exc.code, str(exc), retry_after=exc.retry_after)
        body = _from_row(slug, entry, served.row)
    _counted(request, key, entry)
    return _token_response(body)


@csrf_exempt
@api_methods("POST")
@json_errors
def token_refresh_post(request: HttpRequest, slug: str) -> HttpResponse:
    auth, denied = _authorise(request, slug)
    if denied:
        return denied
    key, entry = auth
    rejected = None
    if request.body:
        try:
            body = loads(request.body)
        except ValueError:  # not JSON, or nested too deeply
            _uncount(request)
            return _error(request, "bad_request", "the body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("rejected_token", ""), str):
            _uncount(request)
            return _error(request, "bad_request", '{"rejected_token": "<token>"} expected')
        rejected = body.get("rejected_token") or None
    try:
        row = services.token_refresh(
            credential_id=entry["credential_id"],
            rejected_token=rejected,
            force=rejected is None,
            reason="passive",
            actor=_actor(key),
        )
        if not services.is_valid(row, timezone.now()):
            raise services.TokenUnavailable("upstream_failed", "no valid token")
    except services.TokenUnavailable as exc:
        _uncount(request)
        return _error(request, exc.code, str(exc), retry_after=exc.retry_after, decoded=exc.decoded)
    _counted(request, key, entry)
    body = _from_row(slug, entry, row)
    # The platform handed back the very token the caller saw rejected: it holds that token
    # current, so the rejection has another cause (Feishu's 99991663 for an API that needs
    # a user token, say) and asking again will not change it.
    body["reissued"] = bool(rejected and row.reissued and body["access_token"] == rejected)
    return _token_response(body)


def _grant_for(request: HttpRequest, slug: str, key: dict, entry: dict, user_id: str):
    """The user's grant's id, or the refusal: a key reads user tokens only when it was granted
    them (and, when it names users, only theirs)."""
    users = key.get("users")
    if users is None or (users and user_id not in users):
        return None, _error(request, "forbidden", "this client key may not read this user's token")
    grant = token_cache.lookup_grant(slug, user_id) if _plausible(user_id) else None
    if grant is None or grant["credential_id"] != entry["credential_id"]:
        return None, _error(request, "not_found", "no such user is connected to this credential")
    return grant["grant_id"], None


def _plausible(user_id: str) -> bool:
    """A platform user id fits its column and holds no NUL (which no database stores)."""
    return len(user_id) <= 128 and "\x00" not in user_id


def _user_body(slug: str, entry: dict, grant: UserGrant) -> dict:
    body = _body(
        slug, entry, grant.access_token(), grant.expires_at, grant.version, "user_access_token"
    )
    body["user_id"] = grant.user_id
    return body


def _user_token(request: HttpRequest, slug: str, user_id: str, *, refresh: bool) -> HttpResponse:
    auth, denied = _authorise(request, slug)
    if denied:
        return denied
    key, entry = auth
    grant_id, refused = _grant_for(request, slug, key, entry, user_id)
    if refused:
        _uncount(request)
        return refused
    rejected = None
    if refresh and request.body:
        try:
            body = loads(request.body)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("rejected_token", ""), str):
            _uncount(request)
            return _error(request, "bad_request", '{"rejected_token": "<token>"} expected')
        rejected = body.get("rejected_token") or None
    try:
        row = grants.grant_refresh(
            grant_id=grant_id,
            rejected_token=rejected,
            force=refresh and rejected is None,
            reason="passive" if refresh else "handout",
            actor=_actor(key),
        )
        if not grants.is_valid(row, timezone.now()):
            raise grants.GrantUnavailable("upstream_failed", "no valid user token")
    except grants.GrantUnavailable as exc:
        _uncount(request)
        return _error(request, exc.code, str(exc), retry_after=exc.retry_after)
    _counted(request, key, entry)
    return _token_response(_user_body(slug, entry, row))


@csrf_exempt
@api_methods("GET", "HEAD")
@json_errors
def user_token_get(request: HttpRequest, slug: str, user_id: str) -> HttpResponse:
    """A connected user's token (Feishu user_access_token), refreshed first when due."""
    answered = user_handout_from_memory(request.headers.get("Authorization", ""), slug, user_id)
    if answered is not None:
        return _token_response(answered)
    return _user_token(request, slug, user_id, refresh=False)


@csrf_exempt
@api_methods("POST")
@json_errors
def user_token_refresh_post(request: HttpRequest, slug: str, user_id: str) -> HttpResponse:
    """Compare-and-refresh of a user's token, as for app tokens."""
    return _user_token(request, slug, user_id, refresh=True)


# --- JS-SDK tickets and page signatures ---------------------------------------------------


def _json_field(request: HttpRequest, name: str, *, required: bool) -> tuple[str | None, bool]:
    """(the body's string field `name` or None, whether the body was acceptable)."""
    if not request.body:
        return None, not required
    try:
        body = loads(request.body)
    except ValueError:
        return None, False
    if not isinstance(body, dict) or not isinstance(body.get(name, ""), str):
        return None, False
    value = body.get(name) or None
    return value, value is not None or not required


def _held_ticket(request, slug: str, kind: str, *, rejected: str | None = None):
    """(key, entry, ticket row) or the error response."""
    auth, denied = _authorise(request, slug)
    if denied:
        return None, denied
    key, entry = auth
    credential = Credential.objects.get(pk=entry["credential_id"])
    try:
        row = tickets.ticket_current(
            credential=credential, kind=kind[:16], rejected=rejected, actor=_actor(key)
        )
    except (tickets.TicketUnavailable, services.TokenUnavailable) as exc:
        _uncount(request)
        return None, _error(request, exc.code, str(exc), retry_after=exc.retry_after)
    _counted(request, key, entry)
    return (key, entry, row, credential), None


def _ticket_answer(request: HttpRequest, slug: str, kind: str, rejected: str | None):
    held, denied = _held_ticket(request, slug, kind, rejected=rejected)
    if denied:
        return denied
    _, entry, row, _ = held
    body = _body(slug, entry, row.value(), row.expires_at, row.version, f"{row.kind}_ticket")
    body["kind"] = row.kind
    body["ticket"] = body.pop("access_token")
    return _token_response(body)


@csrf_exempt
@api_methods("GET", "HEAD")
@json_errors
def ticket_get(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """A JS-SDK ticket (jsapi; wx_card on WeChat, agent_config on WeCom), fetched once."""
    return _ticket_answer(request, slug, kind, None)


@csrf_exempt
@api_methods("POST")
@json_errors
def ticket_refresh_post(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Compare-and-refresh of a ticket the platform rejected: `{"rejected_ticket": "..."}`."""
    rejected, ok = _json_field(request, "rejected_ticket", required=True)
    if not ok:
        return _error(request, "bad_request", '{"rejected_ticket": "<ticket>"} expected')
    return _ticket_answer(request, slug, kind, rejected)


@csrf_exempt
@api_methods("POST")
@json_errors
def jsapi_signature(request: HttpRequest, slug: str) -> HttpResponse:
    """The configuration a page passes to the platform's JS-SDK (`{"url": ...}`, optional
    `"kind"`): app id, timestamp in the platform's unit, nonce, signature; never the ticket."""
    url, ok = _json_field(request, "url", required=True)
    kind, kind_ok = _json_field(request, "kind", required=False)
    if not ok or not kind_ok or not url.startswith(("https://", "http://")) or len(url) > 4096:
        return _error(request, "bad_request", '{"url": "https://..."} expected')
    held, denied = _held_ticket(request, slug, kind or "jsapi")
    if denied:
        return denied
    _, _, row, credential = held
    spec = credential.platform.jsapi
    app_id = str(credential.public_values.get(spec.app_id_field, ""))
    body = page_signature(spec, app_id, row.value(), url, time.time())
    return _token_response(body | {"credential": slug, "kind": row.kind})


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, "not_found", "no such token API path")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request, "unavailable", "Zhongkong cannot serve this now; retry shortly", retry_after=5
    )


@csrf_exempt  # a read-only document: any other method gets the API's JSON 405
@api_methods("GET", "HEAD")
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(DOCUMENT, json_dumps_params={"ensure_ascii": False})
