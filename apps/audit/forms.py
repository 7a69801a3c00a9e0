from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent
from .selectors import ACTION_FAMILIES, EventFilter

Choices = Callable[[], Iterable[tuple[str, str]]]

# What the filter offers for credentials and platforms, registered by the app that owns them
# (the vault, in its AppConfig.ready()): the audit log imports no app above it.
_OFFERED: dict[str, Choices] = {}


def offer_choices(field: str, choices: Choices) -> None:
    """Register where the review filter's `field` ("credential" or "platform") takes its
    (value, label) pairs from; read on each page, so new credentials appear at once."""
    if field not in ("credential", "platform"):
        raise ValueError(f"the audit filter has no field {field!r} to offer choices for")
    _OFFERED[field] = choices


def offered(field: str) -> list[tuple[str, str]]:
    choices = _OFFERED.get(field)
    return list(choices()) if choices else []


class EventFilterForm(forms.Form):
    start = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end = forms.DateTimeField(
        label=_("To"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    family = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All actions"))] + [(f, f"{f}.*") for f in ACTION_FAMILIES],
    )
    credential = forms.ChoiceField(label=_("Credential"), required=False, choices=())
    platform = forms.ChoiceField(label=_("Platform"), required=False, choices=())
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("All outcomes"))] + AuditEvent.Outcome.choices,
    )
    trace = forms.CharField(label=_("Request / trace id"), required=False, max_length=200)
    text = forms.CharField(label=_("Text in details"), required=False, max_length=200)
    before = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, credentials=(), platforms=(), **kwargs):
        """`credentials` and `platforms`: (value, label) pairs the review page offers."""
        super().__init__(*args, **kwargs)
        credentials = list(credentials)
        asked = self.data.get("credential", "") if self.is_bound else ""
        if asked and asked not in {value for value, _label in credentials}:
            # Events outlive credentials: a slug the vault no longer holds can still be asked.
            credentials.append((asked[:80], asked[:80]))
        self.fields["credential"].choices = [("", _("All credentials")), *credentials]
        self.fields["platform"].choices = [("", _("All platforms")), *platforms]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end is before the start."))
        return data

    def event_filter(self) -> EventFilter | None:
        """The filter, or None when the filters are invalid (then nothing is listed: an
        error beside rows that ignore the filter would mislead)."""
        if self.is_bound and not self.is_valid():
            return None
        data = self.cleaned_data if self.is_bound else {}
        return EventFilter(
            **{
                k: data.get(k) or ("" if k not in ("start", "end") else None)
                for k in EventFilter.__dataclass_fields__
            }
        )

    def described(self) -> dict:
        """The filters in use, for the audit event an export records."""
        data = self.cleaned_data if self.is_valid() else {}
        return {k: str(v) for k, v in data.items() if v not in (None, "") and k != "before"}


class SecretLookupForm(forms.Form):
    value = forms.CharField(
        label=_("Secret or token value"),
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
