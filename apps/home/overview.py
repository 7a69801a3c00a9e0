"""What the overview's charts show, computed here and drawn by the template as SVG (no
script, nothing from a CDN): token lifetimes over the next 24 hours, refresh outcomes, token
hand-outs and console sends per hour with their error share, and fetches against daily caps.

Geometry is in the SVG's own units: a chart is WIDTH wide, bars are placed here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.audit.models import AuditEvent
from apps.console.models import ConsoleCall
from apps.tokens.health import State
from apps.tokens.models import HandoutCount

WIDTH = 720.0
GUTTER = 150.0  # the timeline's credential names, left of its time axis
LANE = 26.0
HOURS = 24
CHART_HEIGHT = 90.0


NOTES = {
    State.STOPPED: _("stopped: nothing is fetched until it is fixed"),
    State.FAILING: _("failing: retried with backoff"),
    State.EXPIRED: _("expired"),
    State.NEVER: _("not fetched yet"),
    State.DISABLED: _("disabled"),
}


@dataclass
class Span:
    x: float
    width: float
    kind: str  # "current", "planned"
    title: str


@dataclass
class Lane:
    label: str
    slug: str
    state: str
    y: float
    spans: list[Span] = field(default_factory=list)
    refreshes: list[float] = field(default_factory=list)
    note: str = ""


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


class _Axis:
    """Time to x: two hours ago at 0, 24 hours ahead at WIDTH (clamped to the chart)."""

    def __init__(self, now: datetime) -> None:
        self.start, self.end = now - timedelta(hours=2), now + timedelta(hours=HOURS)
        self.scale = WIDTH / (self.end - self.start).total_seconds()

    def __call__(self, moment: datetime) -> float:
        return round(max(0.0, min(WIDTH, (moment - self.start).total_seconds() * self.scale)), 1)

    def span(self, begin: datetime, end: datetime, kind: str) -> Span:
        return Span(
            self(begin), max(1.0, self(end) - self(begin)), kind, f"{_local(begin)} → {_local(end)}"
        )

    def grid(self) -> list[dict]:
        """A labelled line every three local hours."""
        grid = []
        first = (self.start + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        local_first = timezone.localtime(first)
        for i in range(0, HOURS + 2):
            moment = first + timedelta(hours=i)
            if moment > self.end:
                break
            if (local_first.hour + i) % 3 == 0:
                at = self(moment)
                # A label by either edge is drawn inside the chart, not cut by it.
                anchor = "end" if at > WIDTH - 24 else "start" if at < 24 else "middle"
                grid.append({"x": at, "label": _local(moment), "anchor": anchor})
        return grid


TIMELINE_LANES = 24  # more credentials than this: the ones needing attention first
ATTENTION = {
    State.STOPPED: 0,
    State.FAILING: 1,
    State.EXPIRED: 2,
    State.WARNING: 3,
    State.NEVER: 4,
}


def _first_lanes(rows: list[dict]) -> list[dict]:
    """All rows in their order when they fit; else the TIMELINE_LANES that most need a
    look: failing states first, then the tokens that expire soonest."""
    if len(rows) <= TIMELINE_LANES:
        return rows

    def urgency(row):
        token = row["token"]
        expires = token.expires_at.timestamp() if token and token.expires_at else 0.0
        return (ATTENTION.get(row["status"].state, 9), expires, row["credential"].slug)

    return sorted(rows, key=urgency)[:TIMELINE_LANES]


def token_timeline(rows: list[dict], now: datetime) -> dict:
    """Each token's life from two hours ago to 24 hours ahead: the current token (obtained
    → expiry, its planned refresh marked) and the tokens the schedule will fetch after it
    (each obtained at the planned refresh and refreshed `refresh_before` ahead of expiry).
    At most TIMELINE_LANES lanes; `more` says how many the tokens page lists besides."""
    x = _Axis(now)
    lanes = []
    shown = _first_lanes(rows)
    for row in shown:
        credential, token, health = row["credential"], row["token"], row["status"]
        lane = Lane(credential.name, credential.slug, str(health.state), len(lanes) * LANE)
        lanes.append(lane)
        if health.state in NOTES:
            lane.note = str(NOTES[health.state])
        if token is None or token.obtained_at is None or token.expires_at is None:
            continue
        if token.expires_at > x.start:
            lane.spans.append(x.span(token.obtained_at, token.expires_at, "current"))
        if health.state in (State.HEALTHY, State.REFRESHING, State.WARNING):
            _plan(lane, token, credential.platform.refresh_policy, x)
    return {
        "lanes": lanes,
        "more": len(rows) - len(shown),
        "grid": x.grid(),
        "now_x": x(now),
        "height": max(1, len(lanes)) * LANE,
        "width": WIDTH,
        "gutter": GUTTER,
        "full_width": WIDTH + GUTTER,
    }


def _plan(lane: Lane, token, policy, x: _Axis) -> None:
    """The tokens the schedule will fetch after the current one, up to the chart's end."""
    if token.refresh_at is None or policy is None:
        return
    if token.refresh_at < x.end:
        lane.refreshes.append(x(token.refresh_at))
    lifetime = token.expires_at - token.obtained_at
    # The token centre's own rule (plan_refresh, without its jitter): ahead of expiry by the
    # platform's margin, at most a quarter of the lifetime.
    margin = min(timedelta(seconds=policy.refresh_before), lifetime * 0.25)
    period = lifetime - margin
    if period <= timedelta(minutes=5):
        return
    moment = token.refresh_at
    while moment < x.end and len(lane.spans) < 40:
        if moment != token.refresh_at:
            lane.refreshes.append(x(moment))
        lane.spans.append(x.span(moment, moment + lifetime, "planned"))
        moment += period


def _hours(now: datetime) -> list[datetime]:
    current = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]


def _bars(hours: list[datetime], good: dict, bad: dict) -> dict:
    """Stacked bars per hour: `good` below, `bad` (failures) on top, scaled to the tallest."""
    top = max([good.get(h, 0) + bad.get(h, 0) for h in hours] + [0])
    step = WIDTH / len(hours)
    scale = (CHART_HEIGHT - 4) / top if top else 0
    bars = []
    for i, hour in enumerate(hours):
        ok, failed = good.get(hour, 0), bad.get(hour, 0)
        ok_h, bad_h = ok * scale, failed * scale
        bars.append(
            {
                "x": round(i * step + 1, 1),
                "width": round(step - 2, 1),
                "ok_y": round(CHART_HEIGHT - ok_h, 1),
                "ok_h": round(ok_h, 1),
                "bad_y": round(CHART_HEIGHT - ok_h - bad_h, 1),
                "bad_h": round(bad_h, 1),
                "title": f"{hour:%H}:00  {ok} / {failed}",
                "label": f"{hour:%H}" if hour.hour % 3 == 0 else "",
            }
        )
    return {
        "bars": bars,
        "top": top,
        "total": sum(good.values()),
        "failed": sum(bad.values()),
        "count": sum(good.values()) + sum(bad.values()),
        "height": CHART_HEIGHT,
        "width": WIDTH,
    }


def _by_hour(rows, value="n") -> dict:
    out: dict = {}
    for row in rows:
        hour = timezone.localtime(row["hour"]).replace(minute=0, second=0, microsecond=0)
        out[hour] = out.get(hour, 0) + (row[value] or 0)
    return out


def activity(credentials: list | None, now: datetime) -> dict:
    """Refresh outcomes, hand-outs and console sends of the last 24 hours, per hour, and
    per platform with the error share; of these credentials (None: of all, for an admin,
    without naming a thousand of them in the query)."""
    hours = _hours(now)
    since = hours[0]
    refreshes = AuditEvent.objects.filter(
        action="token.refresh", created_at__gte=since, target_type="credential"
    )
    sends = ConsoleCall.objects.filter(created_at__gte=since)
    handouts = HandoutCount.objects.filter(minute__gte=since)
    if credentials is not None:
        credential_ids = [c.pk for c in credentials]
        refreshes = refreshes.filter(target_id__in=[c.slug for c in credentials])
        sends = sends.filter(credential_id__in=credential_ids)
        handouts = handouts.filter(credential_id__in=credential_ids)
    refreshes = list(
        refreshes.annotate(hour=TruncHour("created_at"))
        .values("hour", "outcome")
        .annotate(n=Count("seq"))
    )
    sends = list(
        sends.annotate(hour=TruncHour("created_at"))
        .values("hour", "ok", "credential__provider")
        .annotate(n=Count("id"))
    )
    handouts = list(
        handouts.annotate(hour=TruncHour("minute"))
        .values("hour", "credential__provider")
        .annotate(n=Sum("count"))
    )
    succeeded = AuditEvent.Outcome.SUCCESS
    return {
        "refreshes": _bars(
            hours,
            _by_hour(r for r in refreshes if r["outcome"] == succeeded),
            _by_hour(r for r in refreshes if r["outcome"] != succeeded),
        ),
        "sends": _bars(
            hours, _by_hour(r for r in sends if r["ok"]), _by_hour(r for r in sends if not r["ok"])
        ),
        "handouts": _bars(hours, _by_hour(handouts), {}),
        "platforms": _per_platform(hours, sends, handouts),
    }


def _per_platform(hours: list[datetime], sends: list[dict], handouts: list[dict]) -> dict:
    """Per platform: sends, failed sends, the error share, hand-outs, and their hourly bars."""
    platforms: dict[str, dict] = {}
    blank = {"sends": 0, "failed": 0, "handouts": 0}
    for row in sends:
        entry = platforms.setdefault(row["credential__provider"], dict(blank))
        entry["sends"] += row["n"]
        entry["failed"] += 0 if row["ok"] else row["n"]
    for row in handouts:
        entry = platforms.setdefault(row["credential__provider"], dict(blank))
        entry["handouts"] += row["n"] or 0
    for key, entry in platforms.items():
        entry["error_rate"] = round(100 * entry["failed"] / entry["sends"]) if entry["sends"] else 0
        mine = [r for r in sends if r["credential__provider"] == key]
        entry["handouts_chart"] = _bars(
            hours, _by_hour(r for r in handouts if r["credential__provider"] == key), {}
        )
        entry["sends_chart"] = _bars(
            hours,
            _by_hour(r for r in mine if r["ok"]),
            _by_hour(r for r in mine if not r["ok"]),
        )
    return dict(sorted(platforms.items()))


CAPS_SHOWN = 12


def caps(rows: list[dict], now: datetime) -> list[dict]:
    """Today's fetches of the credentials whose platform documents a daily cap (the
    CAPS_SHOWN nearest their cap, when there are more)."""
    today = timezone.localdate(now)
    out = []
    for row in rows:
        cap, token = row["cap"], row["token"]
        if not cap:
            continue
        used = token.fetches_today if token is not None and token.fetch_day == today else 0
        out.append(
            {"credential": row["credential"], "used": used, "cap": cap, "share": 100 * used // cap}
        )
    if len(out) > CAPS_SHOWN:
        out = sorted(out, key=lambda c: (-c["share"], c["credential"].slug))[:CAPS_SHOWN]
    return out
