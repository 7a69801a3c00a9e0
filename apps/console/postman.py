"""Saved requests as a Postman Collection v2.1, the format Postman, Bruno, Hoppscotch and
Insomnia all read and write. Folders become item groups; each credential's base URL is a
collection variable; managed auth (tokens, keys, secrets) appears only as variables with
empty values, never with a value."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from apps.providers.base import OutboundRequest, loads
from apps.providers.registry import wire_names

from . import curl

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
MAX_ITEMS = 1000
_VARIABLE = re.compile(r"{{\s*([\w.-]+)\s*}}")


def _var(slug: str, name: str) -> str:
    return f"{slug}_{name}".replace("-", "_")


def _ref(slug: str, name: str) -> str:
    """A reference to the collection variable, as Postman writes one."""
    return "{{" + _var(slug, name) + "}}"


def _request_item(saved, credential) -> dict:
    spec = saved.request_spec
    slug = credential.slug if credential else "base"
    base = _ref(slug, "base_url")
    out = OutboundRequest(
        spec.get("method", "GET"),
        base + spec.get("path", "/"),
        params=[tuple(p) for p in spec.get("query") or []],
        headers=dict(spec.get("headers") or []),
        json=spec.get("body"),
    )
    if credential is not None:  # the platform's auth, from variables with no value
        platform = credential.platform
        creds = {f.name: f.default or _ref(slug, f.name) for f in platform.fields}
        token = _ref(slug, platform.token_type) if platform.token_type else None
        out = platform.apply_auth(out, creds, token)
    path = spec.get("path", "/")
    request = {
        "method": out.method,
        "header": [{"key": k, "value": v} for k, v in out.headers.items()],
        "url": {
            "raw": out.full_url(safe="{}"),
            "host": [base],
            "path": [p for p in path.split("/") if p],
            "query": [{"key": k, "value": v} for k, v in out.params],
        },
    }
    if out.json is not None:
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(out.json, ensure_ascii=False, indent=2),
            "options": {"raw": {"language": "json"}},
        }
    return {"name": saved.name, "request": request}


def export(saved_requests, visible_ids: set[int]) -> dict:
    """A collection of the saved requests (credentials the user may not see are left out:
    their requests use a bare {{base_base_url}})."""
    root: dict = {"item": []}
    variables: dict[str, str] = {}
    for saved in saved_requests:
        credential = saved.credential if saved.credential_id in visible_ids else None
        node = root
        for part in [p for p in saved.folder.split("/") if p]:
            found = next((i for i in node["item"] if "item" in i and i["name"] == part), None)
            if found is None:
                found = {"name": part, "item": []}
                node["item"].append(found)
            node = found
        node["item"].append(_request_item(saved, credential))
        if credential is not None:
            variables[_var(credential.slug, "base_url")] = credential.effective_base_url
            platform = credential.platform
            for f in platform.fields:
                variables.setdefault(_var(credential.slug, f.name), "")
            if platform.token_type:
                variables.setdefault(_var(credential.slug, platform.token_type), "")
    return {
        "info": {
            "_postman_id": str(uuid.uuid4()),
            "name": "Zhongkong saved requests",
            "schema": SCHEMA,
        },
        "item": root["item"],
        "variable": [{"key": k, "value": v} for k, v in sorted(variables.items())],
    }


@dataclass
class Imported:
    name: str
    folder: str
    credential_slug: str
    spec: dict


@dataclass
class Parsed:
    requests: list[Imported] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class CollectionError(ValueError):
    pass


METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_OPTIONAL_TEXT = (str, type(None))


def _expect(value, types, where: str, what: str) -> None:
    if not isinstance(value, types):
        raise CollectionError(f"{where}: {what}, not {type(value).__name__}")


def _check_pairs(pairs, where: str) -> None:
    """A header or query list (Postman: a list of {key, value, disabled} objects)."""
    if pairs is None:
        return
    _expect(pairs, list, where, "a list of {key, value} objects expected")
    for n, pair in enumerate(pairs):
        _expect(pair, dict, f"{where}[{n}]", "a {key, value} object expected")
        _expect(pair.get("key"), _OPTIONAL_TEXT, f"{where}[{n}].key", "text expected")
        _expect(pair.get("value"), _OPTIONAL_TEXT, f"{where}[{n}].value", "text expected")


def _check_request(request, where: str) -> None:
    """One request against the collection schema (v2.0/v2.1), as far as Zhongkong reads it."""
    if isinstance(request, str):
        return  # a bare URL
    _expect(request, dict, where, "an object or a URL expected")
    method = request.get("method")
    if method is not None:
        _expect(method, str, f"{where}.method", "text expected")
        if method.upper() not in METHODS:
            raise CollectionError(
                f"{where}.method: {method[:20]!r} is not one of {', '.join(sorted(METHODS))}"
            )
    _check_pairs(request.get("header"), f"{where}.header")
    url = request.get("url")
    _expect(url, (str, dict, type(None)), f"{where}.url", "a URL or a URL object expected")
    if isinstance(url, dict):
        _expect(url.get("raw"), _OPTIONAL_TEXT, f"{where}.url.raw", "text expected")
        _check_pairs(url.get("query"), f"{where}.url.query")
    body = request.get("body")
    _expect(body, (dict, type(None)), f"{where}.body", "an object expected")
    if isinstance(body, dict):
        _expect(body.get("mode"), _OPTIONAL_TEXT, f"{where}.body.mode", "text expected")
        _expect(body.get("raw"), _OPTIONAL_TEXT, f"{where}.body.raw", "text expected")


def validate(collection) -> None:
    """Raise CollectionError naming the first item that does not follow the collection
    schema, and why (`item[2].request.header: a list of {key, value} objects expected`)."""
    _expect(collection, dict, "the collection", "an object expected")
    info = collection.get("info")
    _expect(info, (dict, type(None)), "info", "an object expected")
    if isinstance(info, dict):
        _expect(info.get("schema"), _OPTIONAL_TEXT, "info.schema", "text expected")
        _expect(info.get("name"), _OPTIONAL_TEXT, "info.name", "text expected")
    items = collection.get("item")
    if not isinstance(items, list):
        raise CollectionError("not a Postman collection (no item list)")
    stack = [(items, "item")]
    while stack:
        items, where = stack.pop()
        for n, item in enumerate(items):
            here = f"{where}[{n}]"
            _expect(item, dict, here, "an object expected")
            _expect(item.get("name"), _OPTIONAL_TEXT, f"{here}.name", "text expected")
            if "item" in item:
                _expect(item["item"], list, f"{here}.item", "a list expected")
                stack.append((item["item"], f"{here}.item"))
            elif "request" in item:
                _check_request(item["request"], f"{here}.request")


def parse(text: str, slugs: set[str]) -> Parsed:
    """The requests of a Postman v2.0/v2.1 collection. Managed auth headers and query
    parameters, and secrets in bodies, are dropped (Zhongkong injects auth); a request whose
    host variable is `<slug>_base_url` of a credential in `slugs` is tied to it."""
    try:
        collection = loads(text)
    except ValueError as exc:
        raise CollectionError(f"not JSON: {exc}") from None
    if not isinstance(collection, dict):
        raise CollectionError("not a Postman collection (no item list)")
    validate(collection)
    schema = str((collection.get("info") or {}).get("schema") or "")
    if schema and "/v2." not in schema:
        raise CollectionError("only Postman collections v2.0 and v2.1 are read")
    names = wire_names()
    by_var = {_var(slug, "base_url"): slug for slug in slugs}
    out = Parsed()

    def walk(items, folder: list[str]) -> None:
        for item in items:
            if len(out.requests) >= MAX_ITEMS or not isinstance(item, dict):
                continue
            if isinstance(item.get("item"), list):
                walk(item["item"], [*folder, str(item.get("name", ""))[:40]])
            elif isinstance(item.get("request"), dict | str):
                out.requests.append(
                    _one(item, "/".join(p for p in folder if p), by_var, names, out.warnings)
                )

    walk(collection["item"], [])
    return out


def _one(item: dict, folder: str, by_var: dict, names, warnings: list[str]) -> Imported:
    request = item["request"]
    if isinstance(request, str):
        request = {"url": request}
    url = request.get("url") or ""
    raw = url.get("raw", "") if isinstance(url, dict) else str(url)
    host_var = _VARIABLE.match(raw)
    slug = by_var.get(host_var[1], "") if host_var else ""
    rest = raw[host_var.end() :] if host_var else raw
    parts = urlsplit(rest if rest.startswith("/") or "://" in rest else "/" + rest)
    query = [
        (str(q.get("key", "")), str(q.get("value") or ""))
        for q in (url.get("query") or [] if isinstance(url, dict) else [])
        if isinstance(q, dict) and not q.get("disabled")
    ]
    if not query and parts.query:
        query = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in parts.query.split("&")]
    name = str(item.get("name") or parts.path or "request")[:100]
    kept_query = []
    for key, value in query:
        if key.lower() in names.auth_query or key.lower() in names.secret_keys:
            warnings.append(f"{name}: query “{key}” dropped (auth is injected)")
        else:
            kept_query.append([key, value])
    headers = []
    for header in request.get("header") or []:
        if not isinstance(header, dict) or header.get("disabled"):
            continue
        key = str(header.get("key", ""))
        if key.lower() in names.auth_headers or key.lower() in curl.MANAGED_HEADERS:
            warnings.append(f"{name}: header “{key}” dropped (auth is injected)")
        elif key:
            headers.append([key, str(header.get("value", ""))])
    body = None
    raw_body = (
        (request.get("body") or {}).get("raw") if isinstance(request.get("body"), dict) else None
    )
    if raw_body:
        try:
            body = curl.drop_secrets(loads(raw_body), warnings)
        except ValueError:
            warnings.append(f"{name}: a body that is not JSON was left out")
    return Imported(
        name=name,
        folder=folder[:100],
        credential_slug=slug,
        spec={
            "method": str(request.get("method") or "GET").upper(),
            "path": parts.path or "/",
            "query": kept_query,
            "headers": headers,
            "body": body,
        },
    )
