"""Import the curl examples the platforms' docs print, and export requests as curl, Python
(`requests`), Node.js (`fetch`) or Go (`net/http`) code. Managed auth (tokens, keys) becomes
placeholders; secrets are dropped."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from django.utils.translation import gettext, gettext_noop

from apps.providers.base import OutboundRequest, Provider, loads
from apps.providers.registry import wire_names

# Auth the console injects itself (each platform's, as its adapter writes it, and HTTP's
# own): dropped from an import, shown as placeholders on export. Secrets: never kept.
MANAGED_HEADERS = wire_names().auth_headers | {"cookie", "host", "content-length"}
MANAGED_QUERY = wire_names().auth_query
MANAGED = gettext_noop(
    "%(what)s “%(name)s” is managed by Zhongkong (auth is injected when sending) and was dropped"
)
SECRET_KEYS = wire_names().secret_keys


@dataclass
class Imported:
    method: str = "GET"
    path: str = "/"
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    host: str = ""  # the URL's host, lower-case ("" when the command gave none)
    warnings: list[str] = field(default_factory=list)


class CurlError(ValueError):
    pass


def drop_secrets(value, warnings: list[str]):
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if str(key).lower() in SECRET_KEYS:
                warnings.append(
                    gettext("secret field “%(name)s” was dropped (never stored)") % {"name": key}
                )
                continue
            kept[key] = drop_secrets(item, warnings)
        return kept
    if isinstance(value, list):
        return [drop_secrets(item, warnings) for item in value]
    return value


_DATA_FLAGS = ("-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--json")
# Flags taking a value that the import does not use: skipped together with it. Every other
# flag (-s, -L, -k, -v, --compressed, ...) is skipped alone.
_SKIPPED_WITH_VALUE = (
    "-o", "-u", "--user", "-A", "--user-agent", "-e", "-m", "--max-time", "--connect-timeout"
)  # fmt: skip


def parse(text: str) -> Imported:
    """Parse `curl ...` as docs print it: multi-line with backslashes, -X, -H, -d/--data*,
    --json, -G, quotes."""
    joined = text.replace("\\\r\n", " ").replace("\\\n", " ").strip()
    try:
        words = shlex.split(joined)
    except ValueError as exc:
        raise CurlError(gettext("cannot read the command: %(error)s") % {"error": exc}) from None
    if not words or words[0] != "curl":
        raise CurlError(gettext("paste a command that starts with curl"))
    result = Imported()
    url, data, get = _read_words(words[1:], result)
    if not url:
        raise CurlError(gettext("no URL in the command"))
    _take_url(url, result)
    _drop_managed_headers(result)
    if data and result.method == "GET" and not get:
        result.method = "POST"
    _take_body("&".join(data), result)
    return result


def _read_words(words: list[str], result: Imported) -> tuple[str, list[str], bool]:
    """Method and headers into `result`; the URL, the data parts and whether -G was given."""
    url, data, get = "", [], False
    i = 0
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else None
        if word in ("-X", "--request") and value:
            result.method, i = value.upper(), i + 2
        elif word in ("-H", "--header") and value:
            name, _, content = value.partition(":")
            result.headers.append((name.strip(), content.strip()))
            i += 2
        elif word in _DATA_FLAGS and value is not None:
            data.append(value)
            if word == "--json":
                result.headers.append(("Content-Type", "application/json"))
            i += 2
        elif word in ("-G", "--get"):
            get, i = True, i + 1
        elif word.startswith("-"):
            i += 2 if word in _SKIPPED_WITH_VALUE else 1
        else:
            url, i = word, i + 1
    return url, data, get


def _take_url(url: str, result: Imported) -> None:
    """Path, host and query from the URL; the query's managed and secret names dropped."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    result.path = parts.path or "/"
    result.host = (parts.hostname or "").lower()
    for name, content in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in MANAGED_QUERY:
            result.warnings.append(gettext(MANAGED) % {"what": gettext("query"), "name": name})
        elif name.lower() in SECRET_KEYS:
            result.warnings.append(
                gettext("secret query “%(name)s” was dropped (never stored)") % {"name": name}
            )
        else:
            result.query.append((name, content))


def _drop_managed_headers(result: Imported) -> None:
    """Headers Zhongkong adds itself (auth, idempotency) are dropped, each with a warning."""
    kept = []
    for name, content in result.headers:
        if name.lower() in MANAGED_HEADERS:
            result.warnings.append(gettext(MANAGED) % {"what": gettext("header"), "name": name})
        else:
            kept.append((name, content))
    result.headers = kept


def _take_body(body: str, result: Imported) -> None:
    """A JSON body pretty-printed with its secret values dropped; any other kept as text."""
    if not body:
        return
    try:
        parsed = loads(body)
    except ValueError:  # not JSON, or nested too deeply: kept as the text it was
        result.body = body
    else:
        result.body = json.dumps(
            drop_secrets(parsed, result.warnings), ensure_ascii=False, indent=2
        )


def credential_for_host(host: str, credentials):
    """The credential a pasted URL's host points at: the one whose base URL has that host,
    else the only one of the platform whose public hosts include it (None when not one)."""
    if not host:
        return None
    by_base = [c for c in credentials if urlsplit(c.effective_base_url).hostname == host]
    if len(by_base) == 1:
        return by_base[0]
    by_platform = [
        c
        for c in credentials
        if host
        in {
            urlsplit(url).hostname
            for url, _ in (*c.platform.base_url_choices, (c.platform.default_base_url, ""))
        }
    ]
    return by_platform[0] if len(by_platform) == 1 else None


def placeholders(provider: Provider, request: OutboundRequest) -> OutboundRequest:
    """The request with auth applied from placeholders instead of live values."""
    creds = {f.name: (f.default or f"<{f.name}>") for f in provider.fields}
    token = f"<{provider.token_type}>" if provider.token_type else None
    return provider.apply_auth(request, creds, token)


def as_curl(request: OutboundRequest, spec: dict | None = None) -> str:
    """curl for the request; a form or multipart body (from `spec`) as -d / -F fields."""
    spec = spec or {}
    kind = spec.get("body_type", "json")
    url = request.full_url(safe="<>")  # placeholders stay readable
    lines = [f"curl -X {request.method} {shlex.quote(url)}"]
    headers = dict(request.headers)
    if request.json is not None and request.header("Content-Type") is None:
        headers["Content-Type"] = "application/json"  # curl -d would send a form otherwise
    lines += [
        f"  -H {shlex.quote(f'{k}: {v}')}"
        for k, v in headers.items()
        if not (kind == "multipart" and k.lower() == "content-type")
    ]
    if request.json is not None:
        lines.append(f"  -d {shlex.quote(json.dumps(request.json, ensure_ascii=False))}")
    elif kind == "form":
        lines += [f"  --data-urlencode {shlex.quote(f'{k}={v}')}" for k, v in spec["body"]]
    elif kind == "multipart":
        lines += [f"  -F {shlex.quote(f'{k}={v}')}" for k, v in spec.get("body") or []]
        for upload in spec.get("files") or []:
            part = f"{upload['field']}=@{upload['name']}"
            lines.append(f"  -F {shlex.quote(part)}")
    return " \\\n".join(lines)


def as_python(request: OutboundRequest, spec: dict | None = None) -> str:
    spec = spec or {}
    kind = spec.get("body_type", "json")
    headers = {
        k: v
        for k, v in request.headers.items()
        if not (kind in ("form", "multipart") and k.lower() == "content-type")
    }
    args = [repr(request.method), repr(request.url)]
    if request.params:
        args.append(f"params={request.params!r}")
    if headers:
        args.append(f"headers={headers!r}")
    if request.json is not None:
        args.append(f"json={request.json!r}")
    elif kind in ("form", "multipart"):
        args.append(f"data={[tuple(p) for p in spec.get('body') or []]!r}")
    if kind == "multipart" and spec.get("files"):
        files = {f["field"]: (f["name"], f"open({f['name']!r}, 'rb')") for f in spec["files"]}
        shown = ", ".join(f"{k!r}: ({n!r}, {o})" for k, (n, o) in files.items())
        args.append(f"files={{{shown}}}")
    joined = ",\n    ".join(args)
    return (
        f"import requests\n\nresponse = requests.request(\n    {joined},\n    timeout=10,\n)\n"
        "print(response.status_code, response.text)\n"
    )


def _body_parts(request: OutboundRequest, spec: dict | None):
    """(kind, headers to write, JSON text, form or multipart fields, files) for an export;
    a form's or multipart's Content-Type is the library's to write (with its boundary)."""
    spec = spec or {}
    kind = spec.get("body_type", "json")
    headers = dict(request.headers)
    if request.json is not None and request.header("Content-Type") is None:
        headers["Content-Type"] = "application/json"
    if kind in ("form", "multipart"):
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    text = json.dumps(request.json, ensure_ascii=False) if request.json is not None else None
    fields = [tuple(p) for p in spec.get("body") or []] if kind in ("form", "multipart") else []
    files = (spec.get("files") or []) if kind == "multipart" else []
    return kind, headers, text, fields, files


def _js(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def as_node(request: OutboundRequest, spec: dict | None = None) -> str:
    """Node.js 20 (an ES module: save as .mjs): the built-in fetch."""
    kind, headers, text, fields, files = _body_parts(request, spec)
    lines = []
    if files:
        lines += ['import { openAsBlob } from "node:fs";', ""]
    options = [f"  method: {_js(request.method)},"]
    if headers:
        options.append("  headers: {")
        options += [f"    {_js(k)}: {_js(v)}," for k, v in headers.items()]
        options.append("  },")
    if text is not None:
        lines.append(f"const body = JSON.stringify({text});")
        options.append("  body,")
    elif kind == "form":
        pairs = ", ".join(f"[{_js(k)}, {_js(v)}]" for k, v in fields)
        lines.append(f"const body = new URLSearchParams([{pairs}]);")
        options.append("  body,")
    elif kind == "multipart":
        lines.append("const body = new FormData();")
        lines += [f"body.append({_js(k)}, {_js(v)});" for k, v in fields]
        lines += [
            f"body.append({_js(f['field'])}, await openAsBlob({_js(f['name'])}), {_js(f['name'])});"
            for f in files
        ]
        options.append("  body,")
    lines.append(f"const response = await fetch({_js(request.full_url(safe='<>'))}, {{")
    lines += options
    lines += ["});", "console.log(response.status, await response.text());", ""]
    return "\n".join(lines)


def _go(value: str) -> str:
    """A Go string literal (JSON's escapes are Go's, for what json.dumps writes)."""
    return json.dumps(value, ensure_ascii=False)


_GO_CHECK = ["\tif err != nil {", "\t\tpanic(err)", "\t}"]
_GO_SEND = [
    "\tresp, err := http.DefaultClient.Do(req)",
    *_GO_CHECK,
    "\tdefer resp.Body.Close()",
    "\tout, err := io.ReadAll(resp.Body)",
    *_GO_CHECK,
    "\tfmt.Println(resp.StatusCode, string(out))",
    "}",
    "",
]


def _go_body(kind: str, headers: dict, text, fields, files) -> tuple[set, list[str], str]:
    """The imports, the statements that build the body, and the body expression."""
    imports: set[str] = set()
    setup: list[str] = []
    if text is not None:
        return {"strings"}, setup, f"strings.NewReader({_go(text)})"
    if kind == "form":
        setup.append("\tform := url.Values{}")
        setup += [f"\tform.Add({_go(k)}, {_go(v)})" for k, v in fields]
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return {"net/url", "strings"}, setup, "strings.NewReader(form.Encode())"
    if kind != "multipart":
        return imports, setup, "nil"
    imports = {"bytes", "mime/multipart"} | ({"os"} if files else set())
    setup += ["\tvar buf bytes.Buffer", "\tparts := multipart.NewWriter(&buf)"]
    setup += [f"\tparts.WriteField({_go(k)}, {_go(v)})" for k, v in fields]
    for n, upload in enumerate(files):
        name, field = _go(upload["name"]), _go(upload["field"])
        setup += [f"\tfile{n}, err := os.ReadFile({name})", *_GO_CHECK]
        setup += [f"\tpart{n}, err := parts.CreateFormFile({field}, {name})", *_GO_CHECK]
        setup.append(f"\tpart{n}.Write(file{n})")
    setup.append("\tparts.Close()")
    return imports, setup, "&buf"


def as_go(request: OutboundRequest, spec: dict | None = None) -> str:
    """Go (net/http, standard library only): a main package to `go run`."""
    kind, headers, text, fields, files = _body_parts(request, spec)
    imports, setup, body = _go_body(kind, headers, text, fields, files)
    lines = ["package main", "", "import ("]
    lines += [f'\t"{name}"' for name in sorted(imports | {"fmt", "io", "net/http"})]
    lines += [")", "", "func main() {", *setup]
    url = _go(request.full_url(safe="<>"))
    lines += [f"\treq, err := http.NewRequest({_go(request.method)}, {url}, {body})", *_GO_CHECK]
    lines += [f"\treq.Header.Set({_go(k)}, {_go(v)})" for k, v in headers.items()]
    if kind == "multipart":
        lines.append('\treq.Header.Set("Content-Type", parts.FormDataContentType())')
    return "\n".join(lines + _GO_SEND)


LANGUAGES = (
    ("curl", "curl"),
    ("python", "Python (requests)"),
    ("node", "Node.js (fetch)"),
    ("go", "Go (net/http)"),
)


def exports(request: OutboundRequest, spec: dict | None = None) -> dict[str, str]:
    """The request in every language the console exports, keyed by language."""
    return {
        "curl": as_curl(request, spec),
        "python": as_python(request, spec),
        "node": as_node(request, spec),
        "go": as_go(request, spec),
    }
