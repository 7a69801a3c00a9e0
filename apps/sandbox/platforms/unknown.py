"""What an emulated platform answers on a path it does not emulate, and when one of its views
fails: the platform's own reply to an unknown path where a public capture shows it, otherwise
a plain JSON 404 that says the sandbox does not emulate the path. Never Zhongkong's HTML page,
which is not the platform's and which a platform origin cannot even render (its URLs are not
in the origin's URLconf).

Captured:
- Feishu: `404 page not found` as text/plain (larksuite/oapi-sdk-go#64: "content-type:
  text/plain, is not: application/json, body:404 page not found").
- DingTalk (api.dingtalk.com): HTTP 404, `{"code":"InvalidAction.NotFound","message":"Specified
  api is not found, please check your url and method.","requestid":"…"}`
  (aliyun/alibabacloud-go-sdk#5).
Flashduty's emulator answers its own `RouteNotFound` (apps/sandbox/platforms/flashduty.py).
No public capture of WeChat's, WeCom's, Feishu Project's, Freelog's or 企加云's reply to an
unknown path was found; theirs is the sandbox's own JSON 404, marked as such."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path

from .. import core

ANY = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MARK = {"X-Zhongkong-Sandbox": "not-emulated"}
# A platform's answer for an API it documents but the emulator does not emulate, tried before
# the unknown-path reply (Feishu: the reply its SDK declares; see declared.py).
DECLARED: dict[str, Callable[[HttpRequest], HttpResponse | None]] = {}


def reply(provider: str, request: HttpRequest, *, documented: bool = True) -> HttpResponse:
    """The platform's answer to a path (or method) the emulator does not serve; `documented`:
    a catalogued API gets its declared reply first, where the platform has one."""
    declared = DECLARED.get(provider) if documented else None
    if declared is not None:
        response = declared(request)
        if response is not None:
            return response
    if provider == "feishu":
        response = HttpResponse(
            "404 page not found", status=404, content_type="text/plain; charset=utf-8"
        )
    elif provider == "dingtalk":
        response = core.jsonr(
            {
                "code": "InvalidAction.NotFound",
                "message": "Specified api is not found, please check your url and method.",
                "requestid": core.uuid_upper(),
            },
            status=404,
        )
    else:
        response = core.jsonr(
            {
                "error": "not_emulated",
                "message": "The sandbox does not emulate this path "
                "(no public capture of the platform's own reply to an unknown path).",
                "method": request.method,
                "path": request.path,
            },
            status=404,
        )
    for name, value in MARK.items():
        response[name] = value
    return response


def catch_all(provider: str) -> URLPattern:
    """The last pattern of a platform's URLconf: every path it does not emulate."""

    def not_emulated(request: HttpRequest, rest: str = "") -> HttpResponse:
        return reply(provider, request)

    return re_path(r"^(?P<rest>.*)$", core.endpoint(provider, ANY)(not_emulated))


def error_handlers(provider: str) -> tuple:
    """(handler404, handler500) for a platform's origin: a view's Http404 or failure answered
    in the platform's shape (the 500 as a JSON 500, not a page)."""

    def handler404(request: HttpRequest, exception=None) -> HttpResponse:
        return reply(provider, request, documented=False)  # an emulated view's own 404

    def handler500(request: HttpRequest) -> HttpResponse:
        return core.jsonr(
            {"error": "sandbox_failure", "message": "The emulator failed on this request."},
            status=500,
        )

    return handler404, handler500
