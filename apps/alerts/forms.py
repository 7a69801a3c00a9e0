from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from apps.providers.base import BadWebhook, Notice, webhook_parts
from apps.providers.guard import parse_targets
from apps.providers.registry import alert_protocols

from .models import EMAIL, Channel, Rule


def kind_choices(language: str) -> list[tuple[str, str]]:
    english = language == "en"
    choices = [
        (key, p.alert_label_en if english else p.alert_label_zh)
        for key, p in alert_protocols().items()
    ]
    return [*choices, (EMAIL, "E-mail" if english else "电子邮件")]


class ChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"))
    url = forms.CharField(
        label=_("Webhook address"),
        required=False,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Its key is a secret: stored encrypted, never shown again."),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("The bot's signature secret, where its security settings ask for one."),
    )
    clear_secret = forms.BooleanField(label=_("Remove the signing secret"), required=False)
    email_to = forms.CharField(
        label=_("E-mail recipients"),
        required=False,
        max_length=2000,
        help_text=_("Comma-separated addresses."),
    )
    rules = forms.MultipleChoiceField(
        label=_("Alert on"),
        choices=Rule.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, channel: Channel | None = None, language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.fields["kind"].choices = kind_choices(language)
        if channel is not None:
            self.fields["url"].help_text = _("Empty: keep the stored address.")
            self.fields["secret"].help_text = _("Empty: keep the stored secret.")

    def clean_email_to(self) -> str:
        value = self.cleaned_data["email_to"]
        for address in [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(
                    _("%(address)s is not an e-mail address."), params={"address": address}
                ) from None
        return value

    def clean(self) -> dict:
        data = super().clean()
        kind, url = data.get("kind"), (data.get("url") or "").strip()
        if kind is None:
            return data
        if kind == EMAIL:
            if not data.get("email_to", "").strip():
                self.add_error("email_to", _("Name at least one recipient."))
            return data
        stored = self.channel is not None and "url" in self.channel.secret_blobs
        if not url and not (stored and self.channel.kind == kind):
            self.add_error("url", _("Paste the webhook address."))
            return data
        if url:
            self._check_address(kind, url)
        return data

    def _check_address(self, kind: str, url: str) -> None:
        """The address's shape; the sender's guard checks where it resolves at each send."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            self.add_error("url", _("Not a web address."))
            return
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.add_error("url", _("Not a web address."))
            return
        targets = parse_targets(settings.CONSOLE_INTERNAL_TARGETS)
        listed = (parts.hostname, port) in targets or (parts.hostname, None) in targets
        protocol = alert_protocols()[kind]
        try:
            if getattr(protocol, "alert_hosts", ()):
                webhook_parts(protocol, url, internal_ok=listed)
            elif parts.scheme != "https" and not listed:
                raise BadWebhook("the address must use https")
            protocol.alert_request(url, "", Notice("check", "check", "check"), 0)
        except BadWebhook as exc:
            self.add_error("url", _("Not this kind's webhook address: %(why)s") % {"why": exc})
