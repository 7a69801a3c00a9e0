"""Send a console request with the credential's auth injected, decode it, keep it redacted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from urllib3 import encode_multipart_formdata

from apps.audit.models import AuditEvent
from apps.audit.services import Actor, record
from apps.core.metrics import CONSOLE_SENDS, RATE_LIMITED
from apps.core.ratelimit import take
from apps.providers.base import Decoded, OutboundRequest, join_url
from apps.providers.sender import Sent, send
from apps.tokens.models import AccessToken
from apps.tokens.services import TokenUnavailable, token_for_use, token_refresh
from apps.vault.models import Credential

from . import catalogue
from .models import ConsoleCall, SavedRequest
from .redaction import live_values, redact

if TYPE_CHECKING:
    from apps.accounts.models import User

STORED_BODY = 256 * 1024


@dataclass
class Outcome:
    call: ConsoleCall | None
    decoded: Decoded | None
    wait: float = 0.0  # > 0: not sent, the platform's rate limit would be exceeded
    error: str = ""


def _token(credential: Credential, actor: Actor) -> str | None:
    if not credential.platform.uses_token_for(credential.public_values):
        return None
    return token_for_use(credential=credential, actor=actor)


def request_spec(
    *,
    method: str,
    path: str,
    query,
    headers,
    body,
    body_type: str = "json",
    upload: Upload | None = None,
) -> dict:
    """The request as built, before auth: what history replays and saved requests keep (an
    uploaded file by its name and size only)."""
    spec = {
        "method": method,
        "path": path,
        "query": [list(p) for p in query],
        "headers": [list(h) for h in headers],
        "body": body,
    }
    if body_type != "json":
        spec["body_type"] = body_type
    if upload is not None:
        spec["files"] = [{"field": upload.field, "name": upload.name, "size": len(upload.content)}]
    return spec


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body (never stored: history keeps its name and size)."""

    field: str
    name: str
    content: bytes
    content_type: str = "application/octet-stream"


def outbound(
    base_url: str,
    *,
    method: str,
    path: str,
    query,
    headers,
    body,
    body_type: str = "json",
    upload: Upload | None = None,
) -> OutboundRequest:
    """The request on the wire before auth: a JSON body, a form-urlencoded one, or a
    multipart/form-data one with its fields and the uploaded file."""
    out = OutboundRequest(
        method, join_url(base_url, path), params=list(query), headers=dict(headers)
    )
    declared = out.header("Content-Type")
    if body_type == "form":
        out.body = urlencode(list(body or [])).encode()
        if not declared:
            out.headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body_type == "multipart":
        fields = [(k, v) for k, v in body or []]
        if upload is not None:
            fields.append((upload.field, (upload.name, upload.content, upload.content_type)))
        out.body, content_type = encode_multipart_formdata(fields)
        out.headers = {k: v for k, v in out.headers.items() if k.lower() != "content-type"}
        out.headers["Content-Type"] = content_type
    else:
        out.json = body
    return out


def body_text(out: OutboundRequest, spec: dict) -> str:
    """The request body as history shows it: JSON, the form, or a multipart summary."""
    if out.json is not None:
        return json.dumps(out.json, ensure_ascii=False)
    kind = spec.get("body_type", "json")
    if kind == "form" and out.body is not None:
        return out.body.decode("utf-8", "replace")
    if kind == "multipart":
        parts = [f"{k}={v}" for k, v in spec.get("body") or []]
        parts += [f"{f['field']}=@{f['name']} ({f['size']} bytes)" for f in spec.get("files") or []]
        return "multipart/form-data: " + "; ".join(parts)
    return ""


def redacted_spec(spec: dict, values: list[str] | None = None) -> dict:
    values = live_values() if values is None else values
    return json.loads(redact(json.dumps(spec, ensure_ascii=False), values))


def auth_preview(credential: Credential, raw: OutboundRequest) -> tuple[OutboundRequest, set]:
    """The request as it will be sent, with every secret and the token shown as a named
    placeholder; nothing is fetched. Returns it and the names Zhongkong adds."""
    platform = credential.platform
    creds = {f.name: f"<{f.name}>" for f in platform.fields if f.secret}
    creds.update(credential.public_values)
    token = None
    if platform.uses_token_for(credential.public_values):
        held = (
            AccessToken.objects.filter(credential=credential)
            .only("fingerprint", "version", "token_type")
            .first()
        )
        name = (held and held.token_type) or platform.token_type or "token"
        token = (
            f"<{name} {held.fingerprint} v{held.version}>"
            if held and held.fingerprint
            else f"<{name}>"
        )
    authed = platform.apply_auth(raw, creds, token)
    idem = platform.idempotency_header(raw.method, raw.path)
    if idem and not raw.header(idem):
        authed.headers[idem] = "<new UUID for each send>"
    mine = {k.lower() for k in raw.headers} | {k for k, _ in raw.params}
    added = {k for k in authed.headers if k.lower() not in mine}
    added |= {k for k, _ in authed.params if k not in mine}
    return authed, added


@sensitive_variables(
    "values", "token", "fresh", "authed", "raw", "sent", "body", "headers", "query"
)
def console_send(
    *,
    user: User,
    credential: Credential,
    method: str,
    path: str,
    query,
    headers,
    body,
    body_type: str = "json",
    upload: Upload | None = None,
) -> Outcome:
    platform = credential.platform
    values = credential.adapter_values()
    actor = Actor.user(user)
    base = credential.effective_base_url
    raw = outbound(
        base,
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        body_type=body_type,
        upload=upload,
    )
    try:
        token = _token(credential, actor)
    except TokenUnavailable as exc:
        return Outcome(None, exc.decoded, error=f"no token: {exc}")
    # Each token's limits per API, as the platform counts them (the token itself is never a
    # cache key: a digest of it is).
    subject = hashlib.sha256(f"{token or credential.uid}|{method} {path}".encode()).hexdigest()
    limits = catalogue.stated_limits(platform.key, method, path) or platform.rate_limits(
        method, path
    )
    wait = take(f"console:{subject[:24]}", limits)
    if wait:
        RATE_LIMITED.labels("console").inc()
        return Outcome(None, None, wait=wait)
    authed = platform.apply_auth(raw, values, token)
    hosts = {urlsplit(base).hostname or ""}
    sent = send(authed, allowed_hosts=hosts, internal=settings.CONSOLE_INTERNAL_TARGETS)
    decoded = (
        platform.decode(sent.status, sent.headers, sent.body, authed) if not sent.error else None
    )
    retried, fresh = False, None
    if decoded is not None and decoded.token_rejected and token:
        # One passive refresh through the token centre, then one retry.
        try:
            fresh = token_refresh(
                credential_id=credential.pk, rejected_token=token, reason="console", actor=actor
            ).value()
        except TokenUnavailable:
            fresh = None
        if fresh and fresh != token:
            authed = platform.apply_auth(raw, values, fresh)
            sent = send(authed, allowed_hosts=hosts, internal=settings.CONSOLE_INTERNAL_TARGETS)
            decoded = (
                platform.decode(sent.status, sent.headers, sent.body, authed)
                if not sent.error
                else None
            )
            retried = True
    known = live_values()
    # What the platform said is shown and stored only after every live secret and token in
    # it, in any encoding, is replaced (an upstream may echo the Authorization header).
    decoded = redacted_decoded(decoded, known) if decoded is not None else None
    with transaction.atomic():
        call = _store(
            user,
            credential,
            authed,
            sent,
            decoded,
            retried,
            values=known,
            spec=request_spec(
                method=method,
                path=path,
                query=query,
                headers=headers,
                body=body,
                body_type=body_type,
                upload=upload,
            ),
        )
        record(
            action="console.send",
            actor=actor,
            target_type="credential",
            target_id=credential.slug,
            outcome=AuditEvent.Outcome.SUCCESS
            if decoded and decoded.ok
            else AuditEvent.Outcome.FAILURE,
            details={
                "provider": credential.provider,
                "method": method,
                "path": redact(path, known),
                "status": sent.status,
                "code": decoded.code if decoded else None,
                "trace_id": decoded.trace_id if decoded else "",
                "call": call.pk,
                "error": sent.error,
            },
            # The fingerprint of each token sent, so that a secret look-up of a leaked
            # token finds the sends that used it.
            secrets={"access_token": token, "retried_with": fresh if retried else None},
        )
    outcome = "success" if decoded and decoded.ok else "error" if sent.error else "failure"
    transaction.on_commit(lambda: CONSOLE_SENDS.labels(credential.provider, outcome).inc())
    return Outcome(call, decoded)


def redacted_decoded(decoded: Decoded, values: list[str]) -> Decoded:
    """The decoded result with every live value replaced in each text it carries."""

    def clean(value):
        if isinstance(value, str):
            return redact(value, values)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return replace(
        decoded,
        **{
            name: clean(getattr(decoded, name))
            for name in (
                "code",
                "message",
                "trace_id",
                "data",
                "next_page",
                "field_violations",
                "permission_violations",
                "helps",
                "troubleshooter",
                "caller_ip",
                "problem",
            )
        },
    )


def _store(
    user,
    credential,
    authed: OutboundRequest,
    sent: Sent,
    decoded,
    retried,
    spec: dict,
    values: list[str],
) -> ConsoleCall:
    spec = redacted_spec(spec, values)
    url = authed.full_url()
    body = body_text(authed, spec)
    # PostgreSQL text and jsonb refuse NUL: a platform's NUL bytes are kept as U+FFFD.
    response = sent.body[:STORED_BODY].decode("utf-8", "replace").replace("\x00", "\ufffd")
    return ConsoleCall.objects.create(
        user=user,
        credential=credential,
        method=authed.method,
        url=redact(url, values),
        request_headers={k: redact(v, values) for k, v in authed.headers.items()},
        request_body=redact(body, values),
        status=sent.status,
        response_headers={
            k.replace("\x00", "\ufffd"): redact(v, values).replace("\x00", "\ufffd")
            for k, v in sent.headers.items()
        },
        response_body=redact(response, values),
        truncated=sent.truncated or len(sent.body) > STORED_BODY,
        elapsed_ms=sent.elapsed_ms,
        ok=bool(decoded and decoded.ok),
        code=(decoded.code or "") if decoded else "",
        classification=str(decoded.classification) if decoded else "",
        trace_id=decoded.trace_id if decoded else "",
        trace_source=decoded.trace_id_source if decoded else "",
        retried=retried,
        error=sent.error[:300],
        request_spec=spec,
    )


def console_replay(*, user: User, call: ConsoleCall) -> Outcome:
    """Send a stored request again, with the credential's current token."""
    spec = call.request_spec
    if spec.get("files"):
        return Outcome(
            None,
            None,
            error=_(
                "This send uploaded a file, which Zhongkong does not "
                "keep: open it in the console and attach the file "
                "again."
            ),
        )
    return console_send(
        user=user,
        credential=call.credential,
        method=spec["method"],
        path=spec["path"],
        query=[tuple(p) for p in spec["query"]],
        headers=[tuple(h) for h in spec["headers"]],
        body=spec["body"],
        body_type=spec.get("body_type", "json"),
    )


def saved_request_save(
    *,
    user: User,
    credential: Credential | None,
    spec: dict,
    name: str,
    folder: str,
    shared: bool,
) -> tuple[SavedRequest, bool]:
    """Keep the builder's request under a name (same owner, folder and name: replaced).
    Secrets and tokens in it are redacted by value before it is stored."""
    with transaction.atomic():
        saved, created = SavedRequest.objects.update_or_create(
            owner=user,
            folder=folder,
            name=name,
            defaults={
                "credential": credential,
                "shared": shared,
                "request_spec": redacted_spec(spec),
            },
        )
        record(
            action="console.saved",
            actor=Actor.user(user),
            target_type="saved_request",
            target_id=saved.pk,
            details={
                "name": name,
                "folder": folder,
                "shared": shared,
                "created": created,
                "credential": credential.slug if credential else "",
                "method": spec["method"],
                "path": spec["path"],
            },
        )
    return saved, created


def saved_request_delete(*, user: User, saved: SavedRequest) -> None:
    with transaction.atomic():
        record(
            action="console.saved_delete",
            actor=Actor.user(user),
            target_type="saved_request",
            target_id=saved.pk,
            details={"name": saved.name, "folder": saved.folder, "owner": saved.owner.username},
        )
        saved.delete()


def saved_requests_import(*, user: User, requests, credentials: dict) -> list:
    """Keep each request of an imported collection as the user's own (same folder and name:
    replaced), each audited as a save; then one event for the import as a whole."""
    kept = []
    with transaction.atomic():
        for item in requests:
            saved, _ = saved_request_save(
                user=user,
                credential=credentials.get(item.credential_slug),
                spec=item.spec,
                name=item.name,
                folder=item.folder,
                shared=False,
            )
            kept.append(saved)
        record(
            action="console.saved_import",
            actor=Actor.user(user),
            target_type="saved_request",
            target_id="",
            details={"count": len(kept), "format": "postman-v2.1"},
        )
    return kept
