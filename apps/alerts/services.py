"""Alerts: conditions judged from the token centre's state (and by the watchers of the audit
chain and of the worker and beat), one alert per condition while it holds, one message per
channel when it opens and one when it is resolved, each delivery audited.

Deliveries go through the one sender (SSRF guard, deadline, size cap) with the platform's
own bot protocol from its adapter; a delivery is retried only when the platform's answer
says retrying can help (a wrong signature or address is not retried)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import Actor, record, verify_chain
from apps.core.metrics import ALERT_DELIVERIES
from apps.core.models import Heartbeat
from apps.core.redaction import address_secrets, forms_of, redact
from apps.providers.base import BadWebhook, Classification, Notice
from apps.providers.registry import alert_protocols
from apps.providers.sender import send
from apps.tokens.health import State, token_health
from apps.tokens.models import AccessToken, Ticket, UserGrant
from apps.vault.models import Credential

from .models import EMAIL, TOKEN_RULES, Alert, Channel, Delivery, Rule

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)

DELIVERY_DEADLINE = 10.0
DELIVERY_MAX_BODY = 64 * 1024
RETRYABLE = frozenset(
    {Classification.RETRYABLE, Classification.RATE_LIMITED, Classification.MALFORMED}
)
ALERTS = Actor.system("alerts")


@dataclass(frozen=True)
class Condition:
    key: str
    rule: str
    subject: str
    severity: str
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    link: str = ""


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "-"


def _link(name: str, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


TITLES = {
    Rule.REFRESH_FAILING: ("令牌刷新持续失败", "Token refresh keeps failing"),
    Rule.STOPPED: ("凭证已停止获取令牌", "Credential stopped"),
    Rule.EXPIRING: ("令牌即将过期且无新令牌", "Token about to expire, no fresh one"),
    Rule.CAP: ("每日获取次数接近上限", "Daily fetch cap nearly reached"),
    Rule.AUDIT: ("审计链校验失败", "Audit chain verification failed"),
    Rule.SILENT: ("后台进程无心跳", "Background process silent"),
    Rule.GRANT_REAUTH: ("用户需重新授权", "Users must authorise again"),
    Rule.GRANT_ENDING: ("用户授权即将失效", "Users' grants ending"),
}


def _condition(rule: str, subject: str, severity: str, zh: str, en: str, link: str = ""):
    title_zh, title_en = TITLES[rule]
    return Condition(
        key=f"{rule}:{subject}",
        rule=rule,
        subject=subject,
        severity=severity,
        title_zh=f"{title_zh}：{subject}",
        title_en=f"{title_en}: {subject}",
        text_zh=zh,
        text_en=en,
        link=link,
    )


def _last_error(token: AccessToken) -> tuple[str, str]:
    error = token.last_error or {}
    code = error.get("code") or error.get("problem") or ""
    zh = f"{code} {error.get('explanation_zh') or error.get('message') or ''}".strip()
    en = f"{code} {error.get('explanation_en') or error.get('message') or ''}".strip()
    return zh, en


def token_conditions(now: datetime) -> list[Condition]:
    """The token rules that hold now, for every enabled credential that uses tokens."""
    tokens = {
        t.credential_id: t
        for t in AccessToken.objects.filter(
            credential__deleted_at__isnull=True, credential__enabled=True
        )
    }
    found: list[Condition] = []
    for credential in Credential.objects.alive().filter(enabled=True).order_by("slug"):
        token = tokens.get(credential.pk)
        if token is None or not credential.platform.uses_token_for(credential.public_values):
            continue
        health = token_health(credential, token, now)
        held = (
            _stopped(credential, token, health),
            _refresh_failing(credential, token, health, now),
            _expiring(credential, token, health, now),
            _near_cap(credential, token, timezone.localdate(now)),
        )
        found += [condition for condition in held if condition is not None]
    return found


def _stopped(credential: Credential, token: AccessToken, health) -> Condition | None:
    """Fetching stopped: the platform refused the credential, or the daily cap is reached."""
    if health.state is not State.STOPPED:
        return None
    if health.reason == "credential":
        error_zh, error_en = _last_error(token)
        zh = f"平台拒绝了凭证“{credential.name}”，令牌获取已停止，直到凭证被修改。{error_zh}"
        en = (
            f"The platform refused credential '{credential.name}': fetching stopped "
            f"until the credential is edited. {error_en}"
        )
    else:
        zh = f"凭证“{credential.name}”已达每日获取上限，{_when(health.resumes_at)} 恢复。"
        en = (
            f"Credential '{credential.name}' reached its daily fetch cap; fetching "
            f"resumes at {_when(health.resumes_at)}."
        )
    link = _link("tokens:detail", credential.slug)
    return _condition(Rule.STOPPED, credential.slug, "critical", zh, en.strip(), link)


def _refresh_failing(
    credential: Credential, token: AccessToken, health, now: datetime
) -> Condition | None:
    """ALERT_FAILURES failed fetches in a row: a warning while a valid token is held."""
    if (
        health.state not in (State.FAILING, State.WARNING)
        or token.failures < settings.ALERT_FAILURES
    ):
        return None
    error_zh, error_en = _last_error(token)
    valid = token.expires_at is not None and token.expires_at > now
    zh = (
        f"凭证“{credential.name}”的令牌刷新已连续失败 {token.failures} 次；"
        + (f"当前令牌有效至 {_when(token.expires_at)}。" if valid else "已无有效令牌。")
        + f"下次重试 {_when(token.retry_at)}。{error_zh}"
    )
    en = (
        f"Refreshing the token of '{credential.name}' failed {token.failures} times in a row; "
        + (
            f"the current token is valid until {_when(token.expires_at)}. "
            if valid
            else "no valid token is held. "
        )
        + f"Next attempt {_when(token.retry_at)}. {error_en}"
    )
    link = _link("tokens:detail", credential.slug)
    severity = "warning" if valid else "critical"
    return _condition(Rule.REFRESH_FAILING, credential.slug, severity, zh, en.strip(), link)


def _expiring(
    credential: Credential, token: AccessToken, health, now: datetime
) -> Condition | None:
    """The token expires within ALERT_EXPIRY_MINUTES (or has expired) with no fresh one."""
    expiry = timedelta(minutes=settings.ALERT_EXPIRY_MINUTES)
    if (
        health.state is State.STOPPED
        or not token.version
        or token.expires_at is None
        or token.expires_at - now > expiry
    ):
        return None
    if token.expires_at > now:
        minutes = max(1, math.ceil((token.expires_at - now).total_seconds() / 60))
        zh = (
            f"凭证“{credential.name}”的令牌将于 {_when(token.expires_at)} 过期"
            f"（约 {minutes} 分钟），尚无新令牌。"
        )
        en = (
            f"The token of '{credential.name}' expires at {_when(token.expires_at)} "
            f"(about {minutes} min) and no fresh one has been fetched."
        )
    else:
        zh = f"凭证“{credential.name}”的令牌已于 {_when(token.expires_at)} 过期，尚无新令牌。"
        en = (
            f"The token of '{credential.name}' expired at {_when(token.expires_at)} "
            "and no fresh one has been fetched."
        )
    link = _link("tokens:detail", credential.slug)
    return _condition(Rule.EXPIRING, credential.slug, "critical", zh, en, link)


def _names(grants: QuerySet, limit: int = 5) -> str:
    names = [g.name or g.user_id for g in grants.only("name", "user_id").order_by("name")[:limit]]
    return "、".join(names)


def grant_conditions(now: datetime) -> list[Condition]:
    """Per credential, two conditions over its users' grants (one alert each however many
    users, so that a company of 10,000 connected people gets a readable message): users who
    must authorise again (a final refusal, or nothing left to refresh with), and users whose
    grant ends within ALERT_GRANT_DAYS or whose refresh keeps failing. Counted in the
    database, not by reading every grant."""
    alive = UserGrant.objects.filter(credential__enabled=True, credential__deleted_at__isnull=True)
    gone = alive.filter(
        Q(state=UserGrant.State.NEEDS_REAUTH)
        | Q(refresh_blob="", expires_at__lte=now)
        | Q(refresh_expires_at__lte=now)
    )
    soon = (
        alive.filter(state=UserGrant.State.HEALTHY)
        .exclude(refresh_blob="")
        .filter(
            Q(refresh_expires_at__gt=now, refresh_expires_at__lte=now + _grant_days())
            | Q(failures__gte=settings.ALERT_FAILURES)
        )
    )
    found: list[Condition] = []
    for rule, grants in ((Rule.GRANT_REAUTH, gone), (Rule.GRANT_ENDING, soon)):
        counts = dict(grants.values_list("credential_id").annotate(n=Count("pk")))
        for credential in Credential.objects.filter(pk__in=counts).order_by("slug"):
            mine = grants.filter(credential=credential)
            found.append(_grant_condition(rule, credential, counts[credential.pk], _names(mine)))
    return found


def ticket_conditions(now: datetime) -> list[Condition]:
    """A JS-SDK ticket whose fetch failed ALERT_FAILURES times in a row: a warning while a
    valid one is held, critical without (the pages it signs stop working)."""
    failing = (
        Ticket.objects.filter(failures__gte=settings.ALERT_FAILURES)
        .filter(credential__enabled=True, credential__deleted_at__isnull=True)
        .select_related("credential")
        .order_by("credential__slug", "kind")
    )
    found = []
    for ticket in failing:
        credential, error = ticket.credential, ticket.last_error or {}
        valid = ticket.expires_at is not None and ticket.expires_at > now
        code = error.get("code") or error.get("problem") or ""
        zh = (
            f"凭证“{credential.name}”的 {ticket.kind} 票据已连续 {ticket.failures} 次获取失败；"
            + (
                f"当前票据有效至 {_when(ticket.expires_at)}。"
                if valid
                else "已无有效票据，网页签名将失败。"
            )
            + f"{code} {error.get('explanation_zh') or ''}".strip()
        )
        en = (
            f"Fetching the {ticket.kind} ticket of '{credential.name}' failed {ticket.failures} "
            "times in a row; "
            + (
                f"the ticket held is valid until {_when(ticket.expires_at)}. "
                if valid
                else "no valid ticket is held: page signatures fail. "
            )
            + f"{code} {error.get('explanation_en') or ''}".strip()
        )
        subject = f"{credential.slug}/{ticket.kind}-ticket"
        link = _link("tokens:detail", credential.slug)
        severity = "warning" if valid else "critical"
        found.append(_condition(Rule.REFRESH_FAILING, subject, severity, zh, en, link))
    return found


def _grant_days() -> timedelta:
    return timedelta(days=settings.ALERT_GRANT_DAYS)


def _grant_condition(rule: str, credential: Credential, n: int, names: str) -> Condition:
    more = "…" if n > 5 else ""
    if rule == Rule.GRANT_REAUTH:
        zh = (
            f"凭证“{credential.name}”有 {n} 位用户的授权已失效（被撤销、过期或无法刷新），"
            f"需用户重新授权：{names}{more}"
        )
        en = (
            f"{n} user(s) of '{credential.name}' must authorise again (revoked, expired or "
            f"not renewable): {names}{more}"
        )
        severity = "critical"
    else:
        days = settings.ALERT_GRANT_DAYS
        zh = (
            f"凭证“{credential.name}”有 {n} 位用户的授权将在 {days} 天内失效或刷新持续失败，"
            f"请安排重新授权：{names}{more}"
        )
        en = (
            f"{n} user(s) of '{credential.name}' have grants that end within {days} days or "
            f"whose refresh keeps failing: {names}{more}"
        )
        severity = "warning"
    return _condition(
        rule, credential.slug, severity, zh, en, _link("tokens:grants", credential.slug)
    )


def _near_cap(credential: Credential, token: AccessToken, today) -> Condition | None:
    """Today's fetches reached ALERT_CAP_PERCENT of the platform's daily cap."""
    cap = credential.platform.refresh_policy.daily_cap
    used = token.fetches_today if token.fetch_day == today else 0
    if not cap or used < math.ceil(cap * settings.ALERT_CAP_PERCENT / 100):
        return None
    zh = f"凭证“{credential.name}”今日已获取令牌 {used} 次，每日上限 {cap} 次。"
    en = f"Credential '{credential.name}' fetched {used} tokens today of a daily cap of {cap}."
    link = _link("tokens:detail", credential.slug)
    return _condition(Rule.CAP, credential.slug, "warning", zh, en, link)


# --- opening and resolving --------------------------------------------------------------


def _subscribed(rule: str) -> list[Channel]:
    return [c for c in Channel.objects.filter(enabled=True) if rule in c.rules]


def _open(condition: Condition, now: datetime) -> list[int]:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                key=condition.key,
                rule=condition.rule,
                subject=condition.subject,
                severity=condition.severity,
                title_zh=condition.title_zh[:300],
                title_en=condition.title_en[:300],
                text_zh=condition.text_zh,
                text_en=condition.text_en,
                link=condition.link[:500],
                opened_at=now,
                last_seen_at=now,
            )
            ids = [
                Delivery.objects.create(alert=alert, channel=c, event=Delivery.Event.FIRING).pk
                for c in _subscribed(condition.rule)
            ]
            record(
                action="alert.opened",
                actor=ALERTS,
                target_type="alert",
                target_id=alert.pk,
                details={"key": alert.key, "rule": alert.rule, "channels": len(ids)},
            )
    except IntegrityError:  # another evaluator opened it first: one alert, one message
        return []
    return ids


def _resolve(alert: Alert, now: datetime) -> list[int]:
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
            resolved_at=now, last_seen_at=now
        ):
            return []
        told = Channel.objects.filter(
            enabled=True, deliveries__alert=alert, deliveries__event=Delivery.Event.FIRING
        ).distinct()
        ids = [
            Delivery.objects.create(alert=alert, channel=c, event=Delivery.Event.RESOLVED).pk
            for c in told
        ]
        record(
            action="alert.resolved",
            actor=ALERTS,
            target_type="alert",
            target_id=alert.pk,
            details={"key": alert.key, "rule": alert.rule, "channels": len(ids)},
        )
    return ids


def _sync(firing: Iterable[Condition], open_alerts: QuerySet, now: datetime) -> list[int]:
    """Open an alert for each condition not yet open, resolve each open one that no longer
    holds; returns the deliveries to send."""
    firing = {c.key: c for c in firing}
    current = {a.key: a for a in open_alerts}
    ids: list[int] = []
    seen = [a.pk for key, a in current.items() if key in firing]
    if seen:
        Alert.objects.filter(pk__in=seen).update(last_seen_at=now)
    for key, condition in firing.items():
        if key not in current:
            ids += _open(condition, now)
    for key, alert in current.items():
        if key not in firing:
            ids += _resolve(alert, now)
    return ids


def alerts_evaluate(*, now: datetime | None = None) -> list[int]:
    """Judge the token rules; returns the deliveries to send."""
    now = now or timezone.now()
    open_alerts = Alert.objects.filter(resolved_at__isnull=True, rule__in=TOKEN_RULES)
    firing = token_conditions(now) + grant_conditions(now) + ticket_conditions(now)
    return _sync(firing, open_alerts, now)


def audit_verify_alert(*, now: datetime | None = None) -> list[int]:
    """The nightly verification of the audit chain; a broken chain is an alert until a
    verification finds it intact again."""
    now = now or timezone.now()
    report = verify_chain()
    with transaction.atomic():
        record(
            action="audit.verify",
            actor=Actor.system("nightly"),
            outcome=AuditEvent.Outcome.SUCCESS if report.ok else AuditEvent.Outcome.FAILURE,
            details={"checked": report.checked, "bad_seq": report.bad_seq},
        )
    firing = []
    if not report.ok:
        firing.append(
            _condition(
                Rule.AUDIT,
                "chain",
                "critical",
                f"审计链在第 {report.bad_seq} 条事件处断裂：{report.reason}",
                str(report),
                _link("audit:list"),
            )
        )
    open_alerts = Alert.objects.filter(resolved_at__isnull=True, rule=Rule.AUDIT)
    return _sync(firing, open_alerts, now)


PROCESS_NAMES = {
    "worker": ("Celery 工作进程", "Celery worker"),
    "beat": ("Celery beat", "Celery beat"),
}


def silence_check(
    *, watcher: str, watching_since: datetime | None = None, now: datetime | None = None
) -> list[int]:
    """`watcher` ("worker" or "beat") is alive and judges the other by its heartbeat: the
    worker and beat watch each other, so either one silent is told by the one still
    running (both silent: /healthz and the metrics say so). A peer never seen since the
    watcher began (`watching_since`) longer ago than the heartbeat age is silent too: the
    worker nobody started."""
    now = now or timezone.now()
    other = "beat" if watcher == "worker" else "worker"
    heard = Heartbeat.objects.filter(name=other).values_list("at", flat=True).first()
    seen = heard or watching_since
    age = (now - seen).total_seconds() if seen else 0.0
    firing = []
    if seen is not None and age > settings.HEALTH_MAX_HEARTBEAT_AGE:
        zh_name, en_name = PROCESS_NAMES[other]
        if heard is None:
            zh = f"{zh_name} 自 {_when(seen)} 起从未上报心跳：是否忘了启动？令牌不会被刷新。"
            en = (
                f"The {en_name} has not been seen since {_when(seen)}: is it running? "
                "Tokens are not refreshed without it."
            )
        else:
            zh = f"{zh_name} 已 {int(age)} 秒无心跳（最后一次 {_when(seen)}）：令牌刷新可能已停止。"
            en = (
                f"The {en_name} has been silent for {int(age)} s (last heartbeat "
                f"{_when(seen)}): token refreshes may have stopped."
            )
        link = settings.SITE_URL.rstrip("/") + "/healthz"
        firing.append(_condition(Rule.SILENT, other, "critical", zh, en, link))
    open_alerts = Alert.objects.filter(resolved_at__isnull=True, key=f"{Rule.SILENT}:{other}")
    return _sync(firing, open_alerts, now)


# --- delivering -------------------------------------------------------------------------


def _notice(delivery: Delivery) -> Notice:
    alert = delivery.alert
    if alert is None:
        return Notice(
            key=f"test:{delivery.channel_id}:{delivery.pk}",
            title="中控台测试告警 · Zhongkong test alert",
            text=(
                f"这是来自中控台的测试消息：通道“{delivery.channel.name}”可以送达。\n"
                f"A test message from Zhongkong: channel '{delivery.channel.name}' delivers."
            ),
            severity="info",
        )
    resolved = delivery.event == Delivery.Event.RESOLVED
    title = f"{alert.title_zh} · {alert.title_en}"
    text = f"{alert.text_zh}\n{alert.text_en}"
    if resolved:
        title = f"已恢复 · Recovered — {title}"
        text = (
            f"已于 {_when(alert.resolved_at)} 恢复（持续 {_duration(alert)}）。\n"
            f"Recovered at {_when(alert.resolved_at)} after {_duration(alert)}.\n{text}"
        )
    return Notice(
        key=alert.key,
        title=f"[中控台 Zhongkong] {title}",
        text=text,
        severity=alert.severity,
        resolved=resolved,
        link=alert.link,
    )


def _duration(alert: Alert) -> str:
    seconds = int(((alert.resolved_at or timezone.now()) - alert.opened_at).total_seconds())
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
    )


def _redact(message: str, values: dict[str, str]) -> str:
    """The message without the channel's secrets: the signing secret and every part of its
    address that may be a key (a receiver's error page may echo the request line), in every
    form they may take (URL-encoded, JSON-escaped, base64)."""
    parts = [values.get("secret", ""), *address_secrets(values.get("url", ""))]
    return redact(message, forms_of(p for p in parts if p))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retryable: bool
    code: str = ""
    message: str = ""
    trace_id: str = ""


def _post(channel: Channel, notice: Notice, values: dict[str, str]) -> Outcome:
    protocol = alert_protocols().get(channel.kind)
    if protocol is None:
        return Outcome(False, False, "unknown_kind", f"no channel kind {channel.kind!r}")
    try:
        request = protocol.alert_request(
            values.get("url", ""), values.get("secret", ""), notice, time.time()
        )
    except BadWebhook as exc:
        return Outcome(False, False, "bad_address", str(exc))
    sent = send(
        request,
        internal=settings.CONSOLE_INTERNAL_TARGETS,
        deadline=DELIVERY_DEADLINE,
        max_body=DELIVERY_MAX_BODY,
    )
    if sent.error:
        return Outcome(False, not sent.error.startswith("refused"), "network", sent.error)
    decoded = protocol.alert_result(sent.status, sent.headers, sent.body)
    message = " ".join(part for part in (decoded.message, decoded.explanation_en) if part) or (
        decoded.problem or ""
    )
    return Outcome(
        decoded.ok,
        decoded.classification in RETRYABLE,
        decoded.code or str(sent.status),
        "" if decoded.ok else message,
        decoded.trace_id,
    )


def _mail(channel: Channel, notice: Notice) -> Outcome:
    if not channel.recipients:
        return Outcome(False, False, "no_recipients", "no e-mail recipients")
    try:
        send_mail(
            notice.title,
            notice.text + (f"\n\n{notice.link}" if notice.link else ""),
            settings.DEFAULT_FROM_EMAIL,
            channel.recipients,
        )
    except Exception as exc:  # the mail server's trouble: retried like a 5xx
        return Outcome(False, True, "mail", type(exc).__name__)
    return Outcome(True, False, "sent")


def delivery_send(*, delivery_id: int) -> str:
    """Send one delivery once; returns its status afterwards ("pending": try again later,
    "gone": its channel was deleted meanwhile)."""
    delivery = Delivery.objects.select_related("channel", "alert").filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    if delivery.status != Delivery.Status.PENDING:
        return delivery.status
    channel = delivery.channel
    values = channel.secret_values()
    notice = _notice(delivery)
    if not channel.enabled and delivery.event != Delivery.Event.TEST:
        outcome = Outcome(False, False, "disabled", "the channel is disabled")
    elif channel.kind == EMAIL:
        outcome = _mail(channel, notice)
    else:
        outcome = _post(channel, notice, values)
    attempts = delivery.attempts + 1
    again = (
        outcome.retryable
        and delivery.event != Delivery.Event.TEST
        and attempts < settings.ALERT_DELIVERY_ATTEMPTS
    )
    status = (
        Delivery.Status.SENT
        if outcome.ok
        else (Delivery.Status.PENDING if again else Delivery.Status.FAILED)
    )
    message = _redact(outcome.message, values)[:500]
    ALERT_DELIVERIES.labels(channel.kind, delivery.event, status).inc()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status,
            attempts=attempts,
            code=outcome.code[:64],
            error=message,
            trace_id=outcome.trace_id[:200],
            sent_at=timezone.now() if outcome.ok else None,
        )
        record(
            action="alert.delivered" if outcome.ok else "alert.delivery_failed",
            actor=ALERTS,
            outcome=AuditEvent.Outcome.SUCCESS if outcome.ok else AuditEvent.Outcome.FAILURE,
            target_type="alert_channel",
            target_id=channel.pk,
            details={
                "channel": channel.name,
                "kind": channel.kind,
                "event": delivery.event,
                "alert": delivery.alert.key if delivery.alert else "",
                "attempt": attempts,
                "code": outcome.code,
                "message": message[:200],
                "trace_id": outcome.trace_id,
                "will_retry": status == Delivery.Status.PENDING,
            },
            secrets={"webhook": values.get("url", "")},
        )
    return status


def deliveries_pending(*, rule: str) -> list[int]:
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, alert__rule=rule).values_list(
            "pk", flat=True
        )
    )


def channel_test(*, channel: Channel, by: User | None) -> Delivery:
    """Send a test message now (no retry) and return the delivery with its outcome."""
    delivery = Delivery.objects.create(channel=channel, event=Delivery.Event.TEST)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- channels ---------------------------------------------------------------------------


def channel_save(
    *,
    channel: Channel | None,
    by: User | None,
    name: str,
    kind: str,
    enabled: bool,
    rules: list[str],
    email_to: str = "",
    url: str = "",
    secret: str = "",
    clear_secret: bool = False,
) -> Channel:
    """Create or change a channel. An empty `url` or `secret` keeps the stored one (both
    are write-only); `clear_secret` removes the signing secret."""
    created = channel is None
    channel = channel or Channel(created_by=by)
    channel.name, channel.kind, channel.enabled = name, kind, enabled
    channel.rules, channel.email_to = sorted(set(rules)), email_to
    if url:
        channel.set_secret("url", url.strip())
    if secret:
        channel.set_secret("secret", secret.strip())
    elif clear_secret:
        channel.secret_blobs.pop("secret", None)
        channel.secret_hints.pop("secret", None)
    with transaction.atomic():
        channel.save()
        record(
            action="alerts.channel_create" if created else "alerts.channel_update",
            actor=Actor.user(by) if by is not None else Actor.system("bootstrap"),
            target_type="alert_channel",
            target_id=channel.pk,
            details={
                "name": name,
                "kind": kind,
                "enabled": enabled,
                "rules": channel.rules,
                "address_changed": bool(url),
                "secret_changed": bool(secret) or clear_secret,
            },
            secrets={"webhook": url, "secret": secret},
        )
    return channel


def channel_delete(*, channel: Channel, by: User) -> None:
    with transaction.atomic():
        record(
            action="alerts.channel_delete",
            actor=Actor.user(by),
            target_type="alert_channel",
            target_id=channel.pk,
            details={"name": channel.name, "kind": channel.kind},
        )
        channel.delete()


DEMO_CHANNEL = "Demo · Feishu group bot (sandbox)"


def channel_ensure_demo(*, url: str, secret: str) -> bool:
    """With the sandbox: a channel to the emulated Feishu bot, unless any channel exists."""
    if Channel.objects.exists():
        return False
    channel_save(
        channel=None,
        by=None,
        name=DEMO_CHANNEL,
        kind="feishu",
        enabled=True,
        rules=[r.value for r in Rule],
        url=url,
        secret=secret,
    )
    return True
