"""Feishu APIs the emulator does not emulate, answered with a reply of the declared shape.

The official Node.js SDK declares each API's reply type; the console's catalogue build
(`manage.py build_catalogue`, apps/console/catalogue_build.py) keeps a sample of it with each
entry of `apps/console/catalogue/feishu.jsonl`: objects with every member, arrays of one
element, "" / 0 / false. A request to such an API, after the platform's own auth checks,
gets that sample with `code` 0 — a reply of the right shape, not of the platform's rules,
marked `X-Zhongkong-Sandbox: generated`. The file is read as data; nothing of the console's
code is imported."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .. import core

CATALOGUE = Path(settings.BASE_DIR) / "apps" / "console" / "catalogue" / "feishu.jsonl"
MARK = {"X-Zhongkong-Sandbox": "generated"}


@functools.cache
def _declared() -> tuple[tuple[str, re.Pattern, dict], ...]:
    """(method, path pattern, sample reply) of each catalogued API that declares its reply;
    literal paths before templated ones, so `users/batch` is not read as `users/{id}`."""
    if not CATALOGUE.exists():
        return ()
    rows = []
    with CATALOGUE.open(encoding="utf-8") as lines:
        next(lines)  # the source line
        for line in lines:
            entry = json.loads(line)
            if isinstance(entry.get("response"), dict):
                pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(entry["path"]))
                rows.append((entry["path"].count("{"), entry["method"], pattern, entry["response"]))
    rows.sort(key=lambda row: row[0])
    return tuple((method, re.compile(pattern), reply) for _, method, pattern, reply in rows)


def reply_for(request: HttpRequest, path: str) -> dict | None:
    """A sample of the reply the API at `path` declares (a copy), or None."""
    for method, pattern, reply in _declared():
        if method == request.method and pattern.fullmatch(path):
            return copy.deepcopy(reply)
    return None


def feishu(request: HttpRequest, authorise) -> HttpResponse | None:
    """The declared reply for a catalogued Feishu API, after `authorise` (the emulator's own
    token and rate checks); None for a path no catalogued API has."""
    path = request.path.split("/sandbox/feishu", 1)[-1] or "/"
    reply = reply_for(request, path)
    if reply is None:
        return None
    _, denied = authorise(request, "generated")
    if denied is not None:
        return denied
    reply.update(code=0, msg="success")
    response = core.jsonr(reply, headers={"X-Tt-Logid": core.feishu_logid(), **MARK})
    return response
