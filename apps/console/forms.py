from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.vault.models import Credential

METHODS = [(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")]


def _pairs(text: str, separator: str, label: str) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(separator)
        if not sep or not name.strip():
            raise forms.ValidationError(
                _("Line %(n)s: write %(label)s") % {"n": number, "label": label})
        pairs.append((name.strip(), value.strip()))
    return pairs


class ConsoleForm(forms.Form):
    credential = forms.ModelChoiceField(label=_("Credential"), queryset=Credential.objects.none(),
                                        to_field_name="slug")
    method = forms.ChoiceField(label=_("Method"), choices=METHODS, initial="GET")
    path = forms.CharField(label=_("Path"), max_length=2000,
                           help_text=_("Relative to the platform's base URL, e.g. "
                                       "/open-apis/im/v1/messages"))
    query = forms.CharField(label=_("Query"), required=False, widget=forms.Textarea(
        attrs={"rows": 2, "placeholder": "receive_id_type=open_id"}))
    headers = forms.CharField(label=_("Headers"), required=False, widget=forms.Textarea(
        attrs={"rows": 2, "placeholder": "X-USER-KEY: 7000000000000000001"}))
    body = forms.CharField(label=_("JSON body"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credential"].queryset = Credential.objects.visible_to(user).filter(
            enabled=True)

    def clean_path(self) -> str:
        path = self.cleaned_data["path"].strip()
        if "://" in path or path.startswith("//") or "\\" in path:
            raise forms.ValidationError(_("Give a path on the platform, not a full URL."))
        return "/" + path.lstrip("/")

    def clean_query(self):
        return _pairs(self.cleaned_data["query"], "=", "name=value")

    def clean_headers(self):
        pairs = _pairs(self.cleaned_data["headers"], ":", "Name: value")
        if any(name.lower() in {"host", "authorization", "content-length"} for name, _ in pairs):
            raise forms.ValidationError(_("Host, Authorization and Content-Length are set by "
                                          "Zhongkong."))
        return pairs

    def clean_body(self):
        text = self.cleaned_data["body"]
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Invalid JSON at line %(line)s, column %(col)s: %(msg)s")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from None
