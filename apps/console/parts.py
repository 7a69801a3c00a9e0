"""A console request as the developer built it, before auth: one value that the form makes,
history and saved requests keep (as a spec), and the sender turns into bytes on the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from urllib3 import encode_multipart_formdata

from apps.providers.base import OutboundRequest, join_url


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body (never stored: history keeps its name and size)."""

    field: str
    name: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class RequestParts:
    """Method, path, query and header pairs, and a body: JSON (any value), form or multipart
    (name/value pairs), with an optional uploaded file for multipart."""

    method: str
    path: str
    query: tuple = ()
    headers: tuple = ()
    body: object = None
    body_type: str = "json"
    upload: Upload | None = None
    as_user: str = ""  # a connected user's platform id: sent with their token, not the app's

    @classmethod
    def from_spec(cls, spec: dict) -> RequestParts:
        """The parts a stored spec describes (a spec keeps no uploaded file)."""
        return cls(
            method=spec["method"],
            path=spec["path"],
            query=tuple(tuple(p) for p in spec.get("query") or []),
            headers=tuple(tuple(h) for h in spec.get("headers") or []),
            body=spec.get("body"),
            body_type=spec.get("body_type", "json"),
            as_user=str(spec.get("as_user") or ""),
        )

    def spec(self) -> dict:
        """What history replays and saved requests keep (an uploaded file by its name and
        size only)."""
        spec = {
            "method": self.method,
            "path": self.path,
            "query": [list(p) for p in self.query],
            "headers": [list(h) for h in self.headers],
            "body": self.body,
        }
        if self.body_type != "json":
            spec["body_type"] = self.body_type
        if self.as_user:
            spec["as_user"] = self.as_user
        if self.upload is not None:
            upload = self.upload
            spec["files"] = [
                {"field": upload.field, "name": upload.name, "size": len(upload.content)}
            ]
        return spec

    def outbound(self, base_url: str) -> OutboundRequest:
        """The request on the wire before auth: a JSON body, a form-urlencoded one, or a
        multipart/form-data one with its fields and the uploaded file."""
        out = OutboundRequest(
            self.method,
            join_url(base_url, self.path),
            params=list(self.query),
            headers=dict(self.headers),
        )
        if self.body_type == "form":
            out.body = urlencode(list(self.body or [])).encode()
            if not out.header("Content-Type"):
                out.headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif self.body_type == "multipart":
            fields = [(k, v) for k, v in self.body or []]
            if self.upload is not None:
                upload = self.upload
                fields.append((upload.field, (upload.name, upload.content, upload.content_type)))
            out.body, content_type = encode_multipart_formdata(fields)
            out.headers = {k: v for k, v in out.headers.items() if k.lower() != "content-type"}
            out.headers["Content-Type"] = content_type
        else:
            out.json = self.body
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
