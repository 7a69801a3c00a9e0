"""The common spec every platform adapter implements, and the normalised `Decoded` result."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from .jsapi import JsapiSpec, TicketGrant

# Bodies larger than this are not parsed (the console keeps and shows a prefix).
MAX_DECODE_BYTES = 2 * 1024 * 1024


class Classification(StrEnum):
    OK = "ok"
    TOKEN_REJECTED = "token_rejected"  # refresh the access token once and retry
    CREDENTIAL_INVALID = "credential_invalid"  # the app id / secret is wrong: do not retry
    RATE_LIMITED = "rate_limited"  # wait retry_after, then retry
    QUOTA_EXHAUSTED = "quota_exhausted"  # daily/monthly cap: stop until it resets
    RETRYABLE = "retryable"  # transient platform trouble: back off and retry
    CLIENT_ERROR = "client_error"  # the request itself is wrong: fix it
    MALFORMED = "malformed"  # the response could not be read
    GRANT_INVALID = "grant_invalid"  # a user's grant is gone (revoked, expired, used): re-authorise


@dataclass(frozen=True)
class Field:
    """One credential field as the platform names it."""

    name: str
    label_zh: str
    label_en: str
    secret: bool = False
    required: bool = True
    help_zh: str = ""
    help_en: str = ""
    default: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    demo: str = ""  # value for demo credentials against the sandbox


@dataclass(frozen=True)
class CatalogEntry:
    zh: str
    en: str
    classification: Classification
    source: str = ""  # the published table (or captured reply) this row comes from


@dataclass(frozen=True)
class RateLimit:
    """A documented limit for one token on one API: `limit` calls per `per` seconds."""

    limit: int
    per: float

    def __str__(self) -> str:
        unit = {1: "s", 60: "min", 3600: "h", 86400: "day"}.get(int(self.per))
        return f"{self.limit}/{unit}" if unit else f"{self.limit}/{self.per:g}s"


@dataclass(frozen=True)
class RefreshPolicy:
    """How a platform's tokens live, which the token centre plans refreshes by.

    `refresh_before`: seconds before expiry to fetch a new token. `reissue_window`: a fetch
    returns the *same* token while more seconds than this remain (Feishu: 1800; 0: for as
    long as it is valid, as WeCom and DingTalk say; None: every fetch issues a new one, as
    WeChat's `cgi-bin/token`), with `reissue_source` naming where the platform says so.
    `old_token_grace`: how long the previous token stays valid after a new fetch (None:
    until its own expiry; WeChat classic: 300). `daily_cap`: documented fetch cap per day.
    """

    default_lifetime: int
    refresh_before: int
    reissue_window: int | None = None
    old_token_grace: int | None = None
    daily_cap: int | None = None
    reissue_source: str = ""

    def reissues(self, remaining: float) -> bool:
        """Whether a fetch now would hand back the token that has `remaining` seconds left."""
        return self.reissue_window is not None and remaining > self.reissue_window

    def reissued_until(self, expires_at: float) -> float | None:
        """Until when (Unix time) the platform keeps handing back a token expiring at
        `expires_at`; None when it never does."""
        return None if self.reissue_window is None else expires_at - self.reissue_window


@dataclass(frozen=True)
class Endpoint:
    """A documented API, for the console's catalogue."""

    method: str
    path: str
    title_zh: str
    title_en: str
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None
    limit: str = ""  # the documented rate limit, as the docs state it
    family: str = ""  # the part of the platform it belongs to (see catalogue_family)


# What requests sends unless told otherwise, named so that it is shown and sent as one.
WIRE_DEFAULTS = {
    "User-Agent": "zhongkong/0.1 (+python-requests)",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
    "Connection": "keep-alive",
}


@dataclass
class OutboundRequest:
    method: str
    url: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    body: bytes | None = None

    def copy(self, **changes: Any) -> OutboundRequest:
        base = replace(self, params=list(self.params), headers=dict(self.headers))
        return replace(base, **changes) if changes else base

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def full_url(self, *, safe: str = "") -> str:
        """The URL with its query parameters, each name and value URL-encoded (`safe`: the
        characters left as they are, e.g. the brackets of an export's placeholders)."""
        return self.url + (f"?{urlencode(self.params, safe=safe)}" if self.params else "")

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), None)

    def wire_body(self) -> bytes | None:
        """The body's bytes as they go out (a JSON body serialised as requests would)."""
        if self.json is not None:
            return json.dumps(self.json, allow_nan=False).encode()
        return self.body

    def wire_headers(self) -> dict[str, str]:
        """Every header that goes out, the ones the HTTP library would add included (its
        defaults, the JSON Content-Type, the length), so that what a preview or a history
        entry shows is what was sent; the sender sends exactly these (and Host)."""
        out = dict(WIRE_DEFAULTS)
        body = self.wire_body()
        if self.json is not None:
            out["Content-Type"] = "application/json"
        for name, value in self.headers.items():
            for known in [k for k in out if k.lower() == name.lower()]:
                del out[known]
            out[name] = value
        if body is not None:
            out["Content-Length"] = str(len(body))
        elif self.method not in ("GET", "HEAD"):
            out["Content-Length"] = "0"
        return out


@dataclass(frozen=True)
class Notice:
    """One alert as a channel delivers it: `key` stays the same while the condition holds
    (the dedup key), `resolved` marks the "recovered" message that closes it."""

    key: str
    title: str
    text: str
    severity: str = "critical"  # "critical", "warning" or "info"
    resolved: bool = False
    link: str = ""


class BadWebhook(ValueError):
    """A webhook address that is not the platform's (wrong host or path, no key in it)."""


@dataclass
class TokenGrant:
    access_token: str
    expires_in: int
    token_type: str = "access_token"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserOAuth:
    """How a platform grants tokens that act as a user (the OAuth code flow): its authorise
    page, its token endpoint, whether it takes PKCE, and the scope without which it issues no
    refresh token. `identity_only`: the code yields who the user is, never a token (WeCom)."""

    authorize_url: str  # the page on the platform's sign-in host
    token_path: str
    pkce: bool = False
    offline_scope: str = ""
    default_scopes: tuple[str, ...] = ()
    identity_only: bool = False
    docs_url: str = ""


@dataclass
class UserTokenGrant:
    """What a code exchange or a refresh brought. `refresh_token` is "" when the reply had
    none (keep the one held); `refresh_expires_in` None when the reply did not say."""

    access_token: str
    expires_in: int
    refresh_token: str = ""
    refresh_expires_in: int | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserIdentity:
    user_id: str  # the id business servers name the user by (Feishu open_id, DingTalk unionId)
    name: str = ""
    union_id: str = ""


@dataclass
class Decoded:
    """One platform response in one shape, whatever the platform's envelope looked like."""

    ok: bool
    http_status: int
    classification: Classification
    code: str | None = None
    message: str = ""
    explanation_zh: str = ""
    explanation_en: str = ""
    trace_id: str = ""
    trace_id_source: str = ""
    data: Any = None
    next_page: dict[str, Any] | None = None
    next_page_in: str = ""  # "query" or "body": where next_page's parameters go
    field_violations: list[dict[str, str]] = field(default_factory=list)
    permission_violations: list[dict[str, str]] = field(default_factory=list)
    helps: list[dict[str, str]] = field(default_factory=list)
    troubleshooter: str = ""
    caller_ip: str = ""  # the address the platform saw the call come from (WeCom's "from ip")
    retry_after: float | None = None
    problem: str = ""  # what was wrong with the body itself, if anything

    @property
    def token_rejected(self) -> bool:
        return self.classification is Classification.TOKEN_REJECTED


class ProviderError(Exception):
    """A platform refused or failed. `permanent`: retrying the same thing cannot help."""

    def __init__(self, message: str, *, decoded: Decoded | None = None, permanent: bool = False):
        super().__init__(message)
        self.decoded = decoded
        self.permanent = permanent


# --- body reading shared by every decoder --------------------------------------------------

# Nesting deeper than this is refused wherever Zhongkong parses JSON it was given (form
# bodies, curl pastes, API bodies, platform replies): Python's parser and encoder recurse, so
# a body nested 100,000 levels deep would otherwise end in a RecursionError.
MAX_JSON_DEPTH = 200


class JSONTooDeep(ValueError):
    """The JSON is nested more deeply than MAX_JSON_DEPTH."""

    msg = "nested too deeply"
    lineno = colno = 1


def _too_deep(obj: Any) -> bool:
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def loads(text: str | bytes) -> Any:
    """json.loads that raises JSONTooDeep (a ValueError) instead of recursing without end, and
    for anything nested deeper than MAX_JSON_DEPTH."""
    try:
        obj = json.loads(text)
    except RecursionError:
        raise JSONTooDeep(JSONTooDeep.msg) from None
    if isinstance(obj, (dict, list)) and _too_deep(obj):
        raise JSONTooDeep(JSONTooDeep.msg)
    return obj


@dataclass
class Body:
    obj: Any = None
    problem: str = ""


_HTML = re.compile(rb"^\s*(<!doctype|<html|<\?xml|<head|<body)", re.I)


def read_json(body: bytes | None) -> Body:
    """Parse a body without ever raising; `problem` names what was wrong."""
    if body is None or not body.strip():
        return Body(problem="empty")
    if len(body) > MAX_DECODE_BYTES:
        return Body(problem="too_large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Body(problem="not_utf8")
    try:
        return Body(obj=loads(text))
    except JSONTooDeep:
        return Body(problem="too_deep")
    except json.JSONDecodeError as exc:
        if _HTML.match(body):
            return Body(problem="html")
        stripped = text.rstrip()
        if stripped[:1] in "{[" and exc.pos >= len(stripped) - 1:
            return Body(problem="truncated")
        return Body(problem="not_json")


def lower_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (headers or {}).items():
        try:
            out[str(key).lower()] = str(value)
        except Exception:  # noqa: S112 - a header we cannot even stringify is skipped
            continue
    return out


def dig(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]... or None when any step is missing or of the wrong type."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any, limit: int = 2000) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))[:limit]


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value.strip())
    return None


def to_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == number and 0 <= number < 1e9 else None


def dict_list(value: Any, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """Items of a list of objects, each with every one of `keys` (an empty string where the
    platform left a key out), so that no reader has to guess which keys are there."""
    if not isinstance(value, list):
        return []
    return [
        {k: text(item.get(k), 500) for k in keys} for item in value[:100] if isinstance(item, dict)
    ]


# Every permission violation carries these keys (Feishu's docs show {scope, url}, its replies
# {type, subject}; DingTalk lists requiredScopes).
PERMISSION_KEYS = ("type", "subject", "description", "scope", "url")

_URL = re.compile(r"https?://[^\s<>\"'\]\[),，。]+", re.I)


def web_url(value: Any) -> str:
    """The first http(s) URL in a text (platforms wrap links in prose), or ''. Only such
    URLs may become links: a reply's `javascript:` or `data:` value never does."""
    match = _URL.search(value) if isinstance(value, str) else None
    return match.group(0)[:1000] if match else ""


def by_status(status: int) -> Classification:
    if 200 <= status < 300:
        return Classification.OK
    if status == 429:
        return Classification.RATE_LIMITED
    if status >= 500:
        return Classification.RETRYABLE
    return Classification.CLIENT_ERROR


PROBLEM_TEXT = {
    "empty": ("响应体为空。", "The response body is empty."),
    "too_large": ("响应体过大，未解析。", "The response body is too large to decode."),
    "not_utf8": ("响应体不是 UTF-8 文本。", "The response body is not UTF-8 text."),
    "html": (
        "平台返回了 HTML 页面而不是 JSON（多为网关或代理错误页）。",
        "The platform returned an HTML page instead of JSON (usually a gateway error page).",
    ),
    "truncated": (
        "JSON 不完整，响应可能被截断。",
        "The JSON is incomplete; the response was cut off.",
    ),
    "not_json": ("响应体不是 JSON。", "The response body is not JSON."),
    "no_such_path": (
        "平台没有这个接口：请检查请求方法和路径（含版本号）。",
        "The platform has no API here: check the method and the path (and its version).",
    ),
    "too_deep": ("JSON 嵌套过深。", "The JSON is nested too deeply."),
    "unexpected_shape": (
        "JSON 结构与平台文档不符。",
        "The JSON does not have the platform's documented shape.",
    ),
}


CLASSIFICATION_TEXT = {
    Classification.OK: ("成功。", "Success."),
    Classification.TOKEN_REJECTED: (
        "平台拒绝了访问令牌（过期或无效）：刷新令牌后重试一次。",
        "The platform rejected the access token (expired or invalid): refresh it and retry once.",
    ),
    Classification.CREDENTIAL_INVALID: (
        "凭证无效（App ID 或密钥错误、应用被停用）：请检查凭证，重试无用。",
        "The credential is invalid (wrong id or secret, or the app "
        "is disabled): check it; retrying will not help.",
    ),
    Classification.RATE_LIMITED: ("请求过于频繁：稍后再试。", "Rate limited: wait, then retry."),
    Classification.QUOTA_EXHAUSTED: (
        "调用额度已用尽：等额度重置。",
        "The quota is used up: wait until it resets.",
    ),
    Classification.RETRYABLE: (
        "平台暂时出错：退避后重试。",
        "The platform had a transient failure: back off and retry.",
    ),
    Classification.CLIENT_ERROR: (
        "请求本身有误：请按平台文档修正。",
        "The request itself is wrong: fix it as the platform's docs say.",
    ),
    Classification.MALFORMED: (
        "无法读取平台的响应。",
        "The platform's response could not be read.",
    ),
    Classification.GRANT_INVALID: (
        "用户的授权已失效（被撤销、过期或已被使用）：请该用户重新授权，重试无用。",
        "The user's grant is gone (revoked, expired or already used): the user must "
        "authorise again; retrying will not help.",
    ),
}


class Provider:
    """Base class: a platform is data (the class attributes) plus the little code it needs."""

    key: str = ""
    name_zh: str = ""
    name_en: str = ""
    default_base_url: str = ""
    base_url_choices: tuple[tuple[str, str], ...] = ()
    docs_url: str = ""
    fields: tuple[Field, ...] = ()
    id_field: str | None = None  # the field naming the app (app id, corp id, login name)
    token_type: str | None = None
    refresh_policy: RefreshPolicy | None = None
    catalog: Mapping[str, CatalogEntry] = {}
    default_rate_limits: tuple[RateLimit, ...] = ()
    # Where the platform states that default for every API (then the catalogue shows it for
    # each API without a limit of its own); empty where the default is only ours.
    rate_limit_docs: str = ""
    endpoints: tuple[Endpoint, ...] = ()
    # Alert channel (the platform's group bot or event push), when it has one: the hosts
    # its webhook address may name, the path it starts with, the query parameter or path
    # segment carrying the bot's key, whether a signing secret is used, and where it is set up.
    alert_hosts: tuple[str, ...] = ()
    alert_path: str = ""
    alert_label_zh: str = ""
    alert_label_en: str = ""
    alert_signed: bool = False
    alert_docs_url: str = ""
    alert_catalog: Mapping[str, CatalogEntry] = {}  # the bot's own error codes

    # -- credentials ---------------------------------------------------------------------
    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.secret)

    @property
    def uses_tokens(self) -> bool:
        return self.refresh_policy is not None

    def sample_values(self, app_id: str, secret: str) -> dict[str, str]:
        """A credential's values from an app id and its one secret (demo data, tests)."""
        values = {f.name: f.demo for f in self.fields if f.demo}
        if self.id_field:
            values[self.id_field] = app_id
        values[self.secret_fields[0]] = secret
        return values

    def base_url_for(self, values: Mapping[str, str]) -> str:
        """The base URL of a credential with these public values that names none."""
        return self.default_base_url

    def catalogue_family(self, values: Mapping[str, str]) -> str:
        """Which part of the platform's API a credential with these public values reaches
        (a platform whose hosts serve different APIs); "" for all of it."""
        return ""

    def policy_for(self, values: Mapping[str, str]) -> RefreshPolicy | None:
        """The refresh policy of a credential with these public values (a platform with two
        token endpoints may reissue on one and not the other)."""
        return self.refresh_policy

    def uses_token_for(self, creds: Mapping[str, str]) -> bool:
        """Whether this credential trades its secret for a token (some platforms offer both)."""
        return self.uses_tokens

    # -- requests ------------------------------------------------------------------------
    def token_request(self, base_url: str, creds: Mapping[str, str]) -> OutboundRequest | None:
        return None

    def probe_request(self, base_url: str, creds: Mapping[str, str]) -> OutboundRequest | None:
        """The cheapest authenticated call, for platforms (or modes) without tokens."""
        return None

    def parse_token(
        self, status: int, headers: Mapping[str, str] | None, body: bytes | None
    ) -> TokenGrant:
        raise NotImplementedError

    def apply_auth(
        self, request: OutboundRequest, creds: Mapping[str, str], token: str | None
    ) -> OutboundRequest:
        raise NotImplementedError

    def rate_limits(self, method: str, path: str) -> tuple[RateLimit, ...]:
        return self.default_rate_limits

    def idempotency_header(self, method: str, path: str) -> str | None:
        return None

    # -- JS-SDK tickets ------------------------------------------------------------------
    jsapi: JsapiSpec | None = None

    def ticket_request(
        self, base_url: str, creds: Mapping[str, str], token: str, kind: str
    ) -> OutboundRequest:
        """The call that issues a ticket of `kind`, authorised with the app's token."""
        spec = self.jsapi.kind(kind) if self.jsapi else None
        if spec is None:
            raise ValueError(f"no {kind!r} ticket on {self.key}")
        request = OutboundRequest(
            spec.method, join_url(base_url, spec.path), params=list(spec.params)
        )
        if spec.method == "POST":
            request.headers["Content-Type"] = "application/json; charset=utf-8"
            request.json = {}
        return self.apply_auth(request, creds, token)

    def parse_ticket(self, status, headers, body) -> TicketGrant:
        """The ticket, or a ProviderError (a rejected token: TOKEN_REJECTED)."""
        raise NotImplementedError

    def ticket_from(
        self, status, headers, body, ticket: tuple[str, ...], expires: tuple[str, ...]
    ) -> TicketGrant:
        """A ticket reply read at the platform's field paths (the ticket never travels on in
        the decoded reply)."""
        decoded = self.decode(status, headers, body)
        decoded.data = None
        obj = read_json(body).obj
        value = dig(obj, *ticket) if isinstance(obj, dict) else None
        expires_in = to_int(dig(obj, *expires)) if isinstance(obj, dict) else None
        if decoded.ok and isinstance(value, str) and value and expires_in:
            return TicketGrant(value, expires_in)
        if decoded.ok:
            decoded.ok, decoded.classification = False, Classification.MALFORMED
            decoded.problem = decoded.problem or "unexpected_shape"
        raise self.token_failure(decoded)

    # -- user grants (OAuth code flow) -----------------------------------------------------
    user_oauth: UserOAuth | None = None

    def authorize_url(
        self,
        base_url: str,
        creds: Mapping[str, str],
        *,
        redirect_uri: str,
        state: str,
        scopes: tuple[str, ...],
        code_challenge: str = "",
    ) -> str:
        """The platform's page where a user grants this app access."""
        raise NotImplementedError

    def user_token_request(
        self,
        base_url: str,
        creds: Mapping[str, str],
        *,
        code: str = "",
        refresh_token: str = "",
        redirect_uri: str = "",
        code_verifier: str = "",
    ) -> OutboundRequest:
        """A code exchange (`code`) or a refresh (`refresh_token`)."""
        raise NotImplementedError

    def parse_user_token(
        self, status: int, headers: Mapping[str, str] | None, body: bytes | None
    ) -> UserTokenGrant:
        """The grant, or a ProviderError whose classification says what became of the
        grant: GRANT_INVALID (gone: re-authorise), RETRYABLE (try again later), other."""
        raise NotImplementedError

    def user_identity_request(
        self, base_url: str, token: str, *, code: str = ""
    ) -> OutboundRequest:
        raise NotImplementedError

    def parse_user_identity(
        self, status: int, headers: Mapping[str, str] | None, body: bytes | None
    ) -> UserIdentity:
        raise NotImplementedError

    def apply_user_auth(self, request: OutboundRequest, token: str) -> OutboundRequest:
        """A request sent as the user (the console's "send as")."""
        return self.apply_auth(request, {}, token)

    # -- alerts --------------------------------------------------------------------------
    @property
    def has_alerts(self) -> bool:
        return bool(self.alert_hosts)

    def alert_request(self, url: str, secret: str, notice: Notice, now: float) -> OutboundRequest:
        """The request that posts `notice` to the bot at `url` (signed with `secret` where
        the platform signs; `now`: Unix time in seconds)."""
        raise NotImplementedError

    def alert_result(self, status: int, headers, body: bytes | None) -> Decoded:
        """What the bot answered, in the one shape (its own error codes explained)."""
        decoded = self.decode(status, headers, body)
        entry = self.alert_catalog.get(decoded.code or "")
        if entry is not None and not decoded.ok:
            decoded.classification = entry.classification
            decoded.explanation_zh, decoded.explanation_en = entry.zh, entry.en
        return decoded

    # -- responses -----------------------------------------------------------------------
    def decode(
        self,
        status: int,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        request: OutboundRequest | None = None,
    ) -> Decoded:
        """Never raises: whatever arrives, the result says what it was."""
        try:
            hdrs = lower_headers(headers)
            parsed = read_json(body)
            decoded = self._decode(int(status), hdrs, parsed, request)
        except Exception as exc:  # a decoder bug must not break the caller
            decoded = Decoded(
                ok=False,
                http_status=int(status) if isinstance(status, int) else 0,
                classification=Classification.MALFORMED,
                problem=f"decoder_error:{type(exc).__name__}",
            )
        for name in ("code", "message", "trace_id", "troubleshooter", "caller_ip"):
            value = getattr(decoded, name)
            if isinstance(value, str) and "\x00" in value:  # never storable in PostgreSQL
                setattr(decoded, name, value.replace("\x00", "\ufffd"))
        if decoded.ok:
            decoded.classification = Classification.OK
        elif decoded.classification is Classification.OK:
            by = by_status(decoded.http_status)
            decoded.classification = (
                by if by is not Classification.OK else Classification.CLIENT_ERROR
            )
        return self._explain(decoded)

    def _decode(
        self, status: int, headers: dict[str, str], body: Body, request: OutboundRequest | None
    ) -> Decoded:
        raise NotImplementedError

    def _explain(self, decoded: Decoded) -> Decoded:
        entry = self.catalog.get(decoded.code) if decoded.code is not None else None
        if entry is not None:
            decoded.explanation_zh, decoded.explanation_en = entry.zh, entry.en
        elif decoded.problem in PROBLEM_TEXT:
            decoded.explanation_zh, decoded.explanation_en = PROBLEM_TEXT[decoded.problem]
        elif not decoded.ok:
            decoded.explanation_zh, decoded.explanation_en = CLASSIFICATION_TEXT[
                decoded.classification
            ]
        return decoded

    def classify(self, code: str | None, status: int) -> Classification:
        entry = self.catalog.get(code) if code is not None else None
        return entry.classification if entry else by_status(status)

    def malformed(self, status: int, body: Body, trace: tuple[str, str] = ("", "")) -> Decoded:
        if status in (404, 405) and body.problem in ("not_json", "empty", "html"):
            # Feishu's gateway answers an unknown path with a plain `404 page not found`.
            return Decoded(
                ok=False,
                http_status=status,
                classification=Classification.CLIENT_ERROR,
                problem="no_such_path",
                trace_id=trace[0],
                trace_id_source=trace[1],
            )
        return Decoded(
            ok=False,
            http_status=status,
            classification=(
                Classification.RETRYABLE
                if status >= 500 or status == 429
                else Classification.MALFORMED
            ),
            problem=body.problem or "unexpected_shape",
            trace_id=trace[0],
            trace_id_source=trace[1],
        )

    # Codes that, answered by the token endpoint itself, mean the credential is wrong (a
    # business API answering the same code means the token is).
    token_endpoint_credential_codes: frozenset[str] = frozenset()

    def grant(
        self,
        decoded: Decoded,
        token: Any,
        expires_in: int | None,
        token_type: str,
        problem: str = "unexpected_shape",
        **extra: Any,
    ) -> TokenGrant:
        """The TokenGrant, or the ProviderError saying why the fetch failed. A reply that
        leaves out the lifetime (DingTalk's `gettoken` as its docs print it) gets the
        platform's documented one."""
        if expires_in is None and self.refresh_policy is not None:
            expires_in = self.refresh_policy.default_lifetime
        if decoded.ok and isinstance(token, str) and token and expires_in is not None:
            return TokenGrant(token, expires_in, token_type, extra=extra)
        if decoded.ok:
            decoded.ok, decoded.classification = False, Classification.MALFORMED
            decoded.problem = decoded.problem or problem
        elif decoded.code in self.token_endpoint_credential_codes:
            decoded.classification = Classification.CREDENTIAL_INVALID
        raise self.token_failure(decoded)

    def token_failure(self, decoded: Decoded) -> ProviderError:
        permanent = decoded.classification in {
            Classification.CREDENTIAL_INVALID,
            Classification.CLIENT_ERROR,
            Classification.GRANT_INVALID,
        }
        message = (
            f"{self.key} token fetch failed: {decoded.code or decoded.http_status} "
            f"{decoded.message or decoded.problem}".strip()
        )
        return ProviderError(message, decoded=decoded, permanent=permanent)


def with_query_token(request: OutboundRequest, name: str, token: str | None) -> OutboundRequest:
    """A copy of `request` carrying the token as query parameter `name` (replacing any)."""
    out = request.copy()
    out.params = [(k, v) for k, v in out.params if k != name]
    out.params.append((name, token or ""))
    return out


def first_header(headers: dict[str, str], *names: str) -> tuple[str, str]:
    for name in names:
        value = headers.get(name.lower())
        if value:
            return value[:200], f"header:{name}"
    return "", ""


def catalog(
    *tables: tuple[str, Mapping[Any, tuple[str, str, Classification]]],
) -> dict[str, CatalogEntry]:
    """One catalogue from (source, rows) tables; a later table's row replaces an earlier one."""
    out: dict[str, CatalogEntry] = {}
    for source, rows in tables:
        for code, (zh, en, cls) in rows.items():
            out[str(code)] = CatalogEntry(zh, en, cls, source)
    return out


def parse_address(url: str) -> SplitResult:
    """A webhook address's parts, or BadWebhook when it is not an http(s) address."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise BadWebhook("not a web address") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadWebhook("not an http(s) address")
    return parts


def webhook_parts(provider: Provider, url: str, internal_ok: bool) -> tuple[str, str]:
    """(host, path) of a bot's webhook address, or BadWebhook saying why it is not the
    platform's. `internal_ok`: a non-platform host is allowed (the sandbox's origins)."""
    parts = parse_address(url)
    if parts.hostname not in provider.alert_hosts and not internal_ok:
        raise BadWebhook(f"the host must be {' or '.join(provider.alert_hosts)}")
    if parts.scheme != "https" and not internal_ok:
        raise BadWebhook("the address must use https")
    # The platform's path, or (sandbox) the platform's path under a prefix.
    if not (
        parts.path.startswith(provider.alert_path)
        or (internal_ok and provider.alert_path in parts.path)
    ):
        raise BadWebhook(f"the path must start with {provider.alert_path}")
    return parts.hostname, parts.path


def join_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def keyed_webhook(
    provider: Provider, url: str, key: str, drop: tuple[str, ...] = ()
) -> tuple[str, list[tuple[str, str]]]:
    """(address without its query, query parameters) of a bot address that carries its key
    in query parameter `key` (parameters in `drop` left out, to be set anew)."""
    webhook_parts(provider, url, internal_ok=True)
    parts = urlsplit(url.strip())
    params = [(k, v) for k, v in parse_qsl(parts.query) if k not in drop]
    if not dict(params).get(key):
        raise BadWebhook(f"the address has no {key}")
    return parts._replace(query="", fragment="").geturl(), params


def notice_lines(notice: Notice) -> str:
    return "\n".join([notice.title, notice.text] + ([notice.link] if notice.link else []))
