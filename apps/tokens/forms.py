from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.vault.models import Credential

from .services import issues_tokens


class ClientKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("Which business server uses it, e.g. order-service-prod."),
    )
    credentials = forms.ModelMultipleChoiceField(
        label=_("Credentials it may fetch"),
        queryset=Credential.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    user_tokens = forms.BooleanField(
        label=_("May read user tokens"),
        required=False,
        help_text=_("Tokens that act as a connected person. Off: app tokens only."),
    )
    user_ids = forms.CharField(
        label=_("Only these users"),
        required=False,
        max_length=4000,
        help_text=_("Platform user ids (open_id), separated by spaces. Empty: every user."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: never."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only credentials that have a token to hand out.
        self.fields["credentials"].queryset = (
            Credential.objects.alive()
            .filter(pk__in=[c.pk for c in Credential.objects.alive() if issues_tokens(c)])
            .order_by("slug")
        )

    def clean_user_ids(self) -> tuple[str, ...]:
        ids = tuple(dict.fromkeys(self.cleaned_data.get("user_ids", "").split()))
        if any(len(i) > 128 for i in ids):
            raise forms.ValidationError(_("A user id has at most 128 characters."))
        return ids

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return value


class InviteForm(forms.Form):
    label = forms.CharField(label=_("For whom (optional)"), max_length=100, required=False)


class PageSignatureForm(forms.Form):
    """A page's URL (and which ticket) to sign the way the signature endpoint does."""

    url = forms.CharField(
        label=_("Page URL"),
        max_length=4096,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/app/page?x=1"}),
        help_text=_(
            "The full URL of the page as the browser shows it; the part after # is not signed."
        ),
    )
    kind = forms.ChoiceField(label=_("Ticket"), choices=())

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k) for k in kinds]
        if len(kinds) == 1:
            self.fields["kind"].widget = forms.HiddenInput()
        self.fields["kind"].initial = kinds[0] if kinds else None

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
            raise forms.ValidationError(_("Enter a URL starting with https:// or http://."))
        return url
