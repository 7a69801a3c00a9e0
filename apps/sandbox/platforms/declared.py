"""APIs an emulator does not emulate, answered with a reply of the shape their SDK declares.

Feishu's official Node.js SDK declares each API's reply type, and DingTalk's
alibabacloud-dingtalk each new-API operation's response model; the console's catalogue build
(`manage.py build_catalogue`, apps/console/catalogue_build.py) keeps a sample of it with each
entry of `apps/console/catalogue/<platform>.jsonl`: objects with every member, arrays of one
element, "" / 0 / false. A request to such an API, after the platform's own auth checks, gets
that sample (Feishu's inside `code` 0, DingTalk's as the body itself, as each platform
answers) — a reply of the right shape, not of the platform's rules, marked
`X-Zhongkong-Sandbox: generated`. DingTalk's classic API (oapi) declares no replies, so it
keeps the unknown-path answer. The files are read as data; nothing of the console's code is
imported."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .. import core

CATALOGUES = Path(settings.BASE_DIR) / "apps" / "console" / "catalogue"
MARK = {"X-Zhongkong-Sandbox": "generated"}


@functools.cache
def _declared(provider: str) -> tuple[tuple[str, re.Pattern, dict], ...]:
    """(method, path pattern, sample reply) of each catalogued API that declares its reply;
    literal paths before templated ones, so `users/batch` is not read as `users/{id}`."""
    catalogue = CATALOGUES / f"{provider}.jsonl"
    if not catalogue.exists():
        return ()
    rows = []
    with catalogue.open(encoding="utf-8") as lines:
        next(lines)  # the source line
        for line in lines:
            entry = json.loads(line)
            if isinstance(entry.get("response"), dict):
                pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(entry["path"]))
                rows.append((entry["path"].count("{"), entry["method"], pattern, entry["response"]))
    rows.sort(key=lambda row: row[0])
    return tuple((method, re.compile(pattern), reply) for _, method, pattern, reply in rows)


def reply_for(provider: str, request: HttpRequest) -> dict | None:
    """A sample of the reply the API requested declares (a copy), or None."""
    path = request.path.split(f"/sandbox/{provider}", 1)[-1] or "/"
    for method, pattern, reply in _declared(provider):
        if method == request.method and pattern.fullmatch(path):
            return copy.deepcopy(reply)
    return None


def feishu(request: HttpRequest, authorise) -> HttpResponse | None:
    """The declared reply for a catalogued Feishu API, after `authorise` (the emulator's own
    token and rate checks); None for a path no catalogued API has."""
    reply = reply_for("feishu", request)
    if reply is None:
        return None
    _, denied = authorise(request, "generated")
    if denied is not None:
        return denied
    reply.update(code=0, msg="success")
    return core.jsonr(reply, headers={"X-Tt-Logid": core.feishu_logid(), **MARK})


def dingtalk(request: HttpRequest, authorise) -> HttpResponse | None:
    """The declared reply for a catalogued DingTalk new-API operation, after `authorise` (the
    emulator's token check); None for a path no such operation has."""
    reply = reply_for("dingtalk", request)
    if reply is None:
        return None
    _, denied = authorise(request)
    if denied is not None:
        return denied
    return core.jsonr(reply, headers={"x-acs-request-id": core.uuid_upper(), **MARK})
