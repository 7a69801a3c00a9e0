from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.vault.models import Credential

from .models import PlatformSignIn


class PlatformSignInForm(forms.Form):
    credential = forms.ModelChoiceField(
        label=_("Credential"),
        queryset=Credential.objects.none(),
        required=False,
        empty_label=_("— off —"),
    )
    default_role = forms.ChoiceField(
        label=_("A first sign-in gets"), choices=PlatformSignIn.DefaultRole.choices, required=False
    )

    def __init__(self, *args, provider: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credential"].queryset = (
            Credential.objects.alive().filter(provider=provider).order_by("slug")
        )
