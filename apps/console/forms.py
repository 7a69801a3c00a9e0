from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

from django import forms
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from apps.providers.base import MAX_JSON_DEPTH, JSONTooDeep, OutboundRequest, loads
from apps.vault.models import Credential

from .parts import RequestParts, Upload

# What Python's JSON parser says, so that the interface can say it in Chinese too.
JSON_MESSAGES = {
    gettext_noop("Expecting value"),
    gettext_noop("Expecting property name enclosed in double quotes"),
    gettext_noop("Expecting ',' delimiter"),
    gettext_noop("Expecting ':' delimiter"),
    gettext_noop("Unterminated string starting at"),
    gettext_noop("Invalid control character at"),
    gettext_noop("Extra data"),
    gettext_noop("Invalid \\escape"),
    gettext_noop("Invalid \\uXXXX escape"),
}
METHODS = [(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")]
BODY_TYPES = [
    ("json", "JSON"),
    ("form", "application/x-www-form-urlencoded"),
    ("multipart", "multipart/form-data"),
]


_PATH_PARAM = re.compile(r"{(\w{1,64})}")
PATH_PARAM_FIELD = "path_param."  # the page's field for each {name} of a catalogued path
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _pairs(text: str, separator: str, label: str) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(separator)
        if not sep or not name.strip():
            raise forms.ValidationError(
                _("Line %(n)s: write %(label)s") % {"n": number, "label": label}
            )
        pairs.append((name.strip(), value.strip()))
    return pairs


class ConsoleForm(forms.Form):
    credential = forms.ModelChoiceField(
        label=_("Credential"), queryset=Credential.objects.none(), to_field_name="slug"
    )
    method = forms.ChoiceField(label=_("Method"), choices=METHODS, initial="GET")
    as_user = forms.CharField(
        label=_("Send as"),
        required=False,
        max_length=128,
        help_text=_("Empty: as the app. A connected user's id to call as that person."),
        widget=forms.TextInput(
            attrs={
                "list": "console-users",
                "placeholder": _("the app"),
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    path = forms.CharField(
        label=_("Path"),
        max_length=2000,
        help_text=_("Relative to the platform's base URL, e.g. /open-apis/im/v1/messages"),
    )
    query = forms.CharField(
        label=_("Query"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "receive_id_type=open_id"}),
    )
    # With script, the query lines are edited as a name/value grid (static/js/app.js) that
    # writes them back into this field; without, the lines themselves.
    GRID_LABELS = {
        "data-kv-grid": "",
        "data-kv-name": _("name"),
        "data-kv-value": _("value"),
        "data-kv-add": _("Add parameter"),
        "data-kv-remove": _("Remove"),
        "data-kv-text": _("Edit as text"),
        "data-kv-table": _("Edit as a table"),
    }
    headers = forms.CharField(
        label=_("Headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Name: value"}),
    )
    body_type = forms.ChoiceField(
        label=_("Body type"), choices=BODY_TYPES, initial="json", required=False
    )
    body = forms.CharField(
        label=_("Request body"),
        required=False,
        strip=False,
        help_text=_("JSON; for a form or multipart body, one name=value a line."),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    upload = forms.FileField(label=_("File (multipart)"), required=False)
    upload_field = forms.CharField(
        label=_("File field name"), required=False, max_length=100, initial="file"
    )
    idem_uuid = forms.UUIDField(
        label=_("Pinned idempotency key"),
        required=False,
        help_text=_(
            "Writes to a platform that reads an idempotency key: empty sends a new "
            "key each time; pin one to test idempotency."
        ),
        widget=forms.TextInput(
            attrs={
                "placeholder": "00000000-0000-4000-8000-000000000000",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["query"].widget.attrs.update(self.GRID_LABELS)
        self.fields["credential"].queryset = Credential.objects.visible_to(user).filter(
            enabled=True
        )

    def clean_path(self) -> str:
        path = self.cleaned_data["path"].strip()
        if "://" in path or path.startswith("//") or "\\" in path:
            raise forms.ValidationError(_("Give a path on the platform, not a full URL."))
        # A dot segment, written plainly or percent-encoded, would climb out of the base URL.
        if any(unquote(segment) in (".", "..") for segment in path.split("?")[0].split("/")):
            raise forms.ValidationError(_("The path may not contain . or .. segments."))
        return "/" + path.lstrip("/")

    def clean_query(self):
        return _pairs(self.cleaned_data["query"], "=", "name=value")

    def clean_headers(self):
        pairs = _pairs(self.cleaned_data["headers"], ":", "Name: value")
        if any(name.lower() in {"host", "authorization", "content-length"} for name, _ in pairs):
            raise forms.ValidationError(
                _("Host, Authorization and Content-Length are set by Zhongkong.")
            )
        for name, value in pairs:
            if not _HEADER_NAME.fullmatch(name):
                raise forms.ValidationError(
                    _("Header name %(name)s may hold only letters, digits and !#$%%&'*+-.^_`|~.")
                    % {"name": name[:100]}
                )
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise forms.ValidationError(
                    _(
                        "The value of header %(name)s has characters HTTP headers cannot carry "
                        "(only Latin-1); percent-encode them."
                    )
                    % {"name": name}
                ) from None
            if _CONTROL.search(value):
                raise forms.ValidationError(
                    _("The value of header %(name)s has control characters.") % {"name": name}
                )
        return pairs

    def clean(self):
        data = super().clean()
        if data.get("upload") is not None and data.get("body_type") != "multipart":
            self.add_error(
                "upload", _("A file is sent in a multipart/form-data body: choose that body type.")
            )
        if data.get("upload") is not None and not _HEADER_NAME.fullmatch(
            data.get("upload_field") or ""
        ):
            self.add_error("upload_field", _("Name the form field that carries the file."))
        if "path" in data:
            data["path"] = self._filled_path(data["path"])
        as_user = (data.get("as_user") or "").strip()
        data["as_user"] = as_user
        credential = data.get("credential")
        if as_user and credential is not None and not self._connected(credential, as_user):
            self.add_error(
                "as_user",
                _("No user %(user)s is connected to this credential (see its connected users).")
                % {"user": as_user},
            )
        pinned = data.get("idem_uuid")
        if pinned and "headers" in data and data.get("credential") and "path" in data:
            header = data["credential"].platform.idempotency_header(
                data.get("method", ""), data["path"]
            )
            if not header:
                self.add_error(
                    "idem_uuid", _("This platform reads no idempotency key on this request.")
                )
            elif any(name.lower() == header.lower() for name, _ in data["headers"]):
                self.add_error(
                    "idem_uuid", _("%(header)s is already among the headers.") % {"header": header}
                )
            else:
                data["headers"] = [*data["headers"], (header, str(pinned))]
        return data

    @staticmethod
    def _connected(credential, user_id: str) -> bool:
        oauth = credential.platform.user_oauth
        if oauth is None or oauth.identity_only:
            return False
        return credential.grants.filter(user_id=user_id).exists()

    def path_params(self) -> list[tuple[str, str]]:
        """The {name} parameters of the path as entered, with the values given for them."""
        path = str(self.data.get("path", "") if self.is_bound else self.initial.get("path", ""))
        source = self.data if self.is_bound else self.initial
        return [
            (name, str(source.get(PATH_PARAM_FIELD + name, "")))
            for name in dict.fromkeys(_PATH_PARAM.findall(path))
        ]

    def _filled_path(self, path: str) -> str:
        """A catalogued path template with each {name} replaced by its field's value (one
        path segment, percent-encoded)."""

        def fill(match: re.Match) -> str:
            value = str(self.data.get(PATH_PARAM_FIELD + match[1], "")).strip()
            if not value:
                missing.append(match[1])
            elif value in (".", ".."):
                bad.append(match[1])
            return quote(value, safe="")

        missing: list[str] = []
        bad: list[str] = []
        filled = _PATH_PARAM.sub(fill, path)
        for name in missing:
            self.add_error("path", _("Fill the path parameter %(name)s.") % {"name": name})
        for name in bad:
            self.add_error(
                "path", _("The path parameter %(name)s may not be . or ..") % {"name": name}
            )
        return filled

    def the_upload(self) -> Upload | None:
        """The attached file (valid form only)."""
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return None
        return Upload(
            field=self.cleaned_data["upload_field"],
            name=upload.name,
            content=upload.read(),
            content_type=upload.content_type or "application/octet-stream",
        )

    def parts(self) -> RequestParts:
        """The request as built (valid form only); the upload is read once."""
        if getattr(self, "_parts", None) is None:
            data = self.cleaned_data
            self._parts = RequestParts(
                method=data["method"],
                path=data["path"],
                query=tuple(data["query"]),
                headers=tuple(data["headers"]),
                body=data["body"],
                body_type=data["body_type"],
                upload=self.the_upload(),
                as_user=data.get("as_user", ""),
            )
        return self._parts

    def spec(self) -> dict:
        """The built request (valid form only), as history and saved requests keep it."""
        return self.parts().spec()

    def built(self) -> OutboundRequest:
        """The request on the credential's base URL, before auth (valid form only)."""
        return self.parts().outbound(self.cleaned_data["credential"].effective_base_url)

    def clean_body_type(self) -> str:
        return self.cleaned_data.get("body_type") or "json"

    def clean_body(self):
        text = self.cleaned_data["body"]
        if self.cleaned_data.get("body_type") in ("form", "multipart"):
            return _pairs(text, "=", "name=value")
        if not text.strip():
            return None
        try:
            return loads(text)
        except JSONTooDeep:
            raise forms.ValidationError(
                _("The JSON is nested more than %(depth)s levels deep.") % {"depth": MAX_JSON_DEPTH}
            ) from None
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Invalid JSON at line %(line)s, column %(col)s: %(msg)s")
                % {
                    "line": exc.lineno,
                    "col": exc.colno,
                    "msg": gettext(exc.msg) if exc.msg in JSON_MESSAGES else exc.msg,
                }
            ) from None


class SaveForm(forms.Form):
    """Name and folder for keeping the builder's request (prefixed `save-` in the page)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    folder = forms.CharField(
        label=_("Folder"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "saved-folders"}),
    )
    shared = forms.BooleanField(label=_("Share with the team"), required=False)

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_folder(self) -> str:
        return "/".join(
            part.strip() for part in self.cleaned_data["folder"].split("/") if part.strip()
        )


def api_initial(api) -> dict:
    """The builder's fields for a catalogue entry: its method and path template, a query
    line for each required parameter or one with an example, and the body skeleton (for an
    upload: its fields as lines, the file field named)."""
    query = [f"{p.name}={p.example}" for p in api.query if p.required or p.example]
    initial = {
        "method": api.method if api.method in dict(METHODS) else "POST",
        "path": api.path,
        "query": "\n".join(query),
        "headers": "",
        "body_type": "json",
        "body": json.dumps(api.body, ensure_ascii=False, indent=2) if api.body is not None else "",
    }
    if api.body_type == "multipart" and isinstance(api.body, dict):
        files = [
            k
            for k, v in api.body.items()
            if k in ("file", "image", "media") or v == "" and k.endswith(("file", "image"))
        ]
        initial.update(
            body_type="multipart",
            upload_field=files[0] if files else "file",
            body="\n".join(f"{k}=" for k in api.body if k not in files[:1]),
        )
    return initial


def builder_initial(credential: str, spec: dict) -> dict:
    """The builder's fields from a stored request spec (history, saved, next page)."""
    body, body_type = spec.get("body"), spec.get("body_type", "json")
    if body_type != "json":
        text = "\n".join(f"{k}={v}" for k, v in body or [])
    else:
        text = json.dumps(body, ensure_ascii=False, indent=2) if body is not None else ""
    files = spec.get("files") or []
    return {
        "credential": credential,
        "method": spec.get("method", "GET"),
        "path": spec.get("path", "/"),
        "query": "\n".join(f"{k}={v}" for k, v in spec.get("query") or []),
        "headers": "\n".join(f"{k}: {v}" for k, v in spec.get("headers") or []),
        "body_type": body_type,
        "body": text,
        "upload_field": files[0]["field"] if files else "file",
        "as_user": spec.get("as_user", ""),
    }
