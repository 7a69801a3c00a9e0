from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role, User
from apps.providers.base import Provider
from apps.providers.guard import Refused, validate_base_url

from .models import Credential, Environment

PREFIX = "p_"


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


class CredentialForm(forms.Form):
    """Generated from the platform's spec. Secret inputs never render a value back."""

    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=60,
        help_text=_("Business servers fetch the token by this name: letters, digits, - and _."),
    )
    environment = forms.ChoiceField(label=_("Environment"), choices=Environment.choices)
    base_url = forms.URLField(
        label=_("Base URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty for the platform's default."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    shared_with_developers = forms.BooleanField(
        label=_("All developers may use it"), required=False
    )
    allowed_users = forms.ModelMultipleChoiceField(
        label=_("Developers who may use it"),
        required=False,
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, provider: Provider, instance: Credential | None = None, **kwargs):
        self.provider, self.instance = provider, instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "slug": instance.slug,
                "environment": instance.environment,
                "base_url": instance.base_url,
                "enabled": instance.enabled,
                "notes": instance.notes,
                "shared_with_developers": instance.shared_with_developers,
                "allowed_users": list(instance.allowed_users.all()),
                **{PREFIX + k: v for k, v in instance.public_values.items()},
            }
        super().__init__(*args, **kwargs)
        self.fields["allowed_users"].queryset = User.objects.filter(
            groups__name=Role.DEVELOPER, is_active=True
        ).order_by("username")
        if provider.base_url_choices:
            self.fields["base_url"].help_text = (
                _("Leave empty for the platform's default.")
                + " "
                + " · ".join(url for url, _label in provider.base_url_choices)
            )
        zh = _zh()
        for spec in provider.fields:
            label = spec.label_zh if zh else spec.label_en
            help_text = spec.help_zh if zh else spec.help_en
            if spec.choices:
                field = forms.ChoiceField(
                    label=label,
                    choices=spec.choices,
                    required=False,
                    initial=spec.default,
                    help_text=help_text,
                )
            elif spec.secret:
                stored = instance is not None and spec.name in instance.secret_blobs
                if stored:
                    help_text = f"{help_text} " + str(_("Leave empty to keep the stored value."))
                field = forms.CharField(
                    label=label,
                    help_text=help_text,
                    strip=False,
                    required=spec.required and not stored,
                    widget=forms.PasswordInput(
                        render_value=False, attrs={"autocomplete": "new-password"}
                    ),
                )
            else:
                field = forms.CharField(
                    label=label,
                    required=spec.required,
                    help_text=help_text,
                    initial=spec.default,
                    max_length=500,
                )
            field.platform_field = spec
            self.fields[PREFIX + spec.name] = field

    def platform_fields(self):
        return [self[name] for name in self.fields if name.startswith(PREFIX)]

    def common_fields(self):
        return [self[name] for name in self.fields if not name.startswith(PREFIX)]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        if slug in {"new", "keys"}:
            raise forms.ValidationError(_("This slug is reserved."))
        taken = Credential.objects.filter(slug=slug)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Another credential already uses this slug."))
        return slug

    def clean_base_url(self) -> str:
        url = self.cleaned_data.get("base_url", "").rstrip("/")
        if not url:
            return ""
        try:
            validate_base_url(url, internal=settings.CONSOLE_INTERNAL_TARGETS)
        except Refused as exc:
            raise forms.ValidationError(
                _(
                    "This base URL cannot be used: %(why)s. Give https to the platform's public "
                    "host (or one of CONSOLE_INTERNAL_TARGETS)."
                )
                % {"why": exc}
            ) from None
        return url

    def split(self) -> tuple[dict, dict[str, str], dict[str, str]]:
        """(model field values, public platform values, secret platform values)."""
        data = self.cleaned_data
        common = {
            k: data[k]
            for k in (
                "name",
                "slug",
                "environment",
                "base_url",
                "enabled",
                "notes",
                "shared_with_developers",
            )
        }
        public, secrets = {}, {}
        for spec in self.provider.fields:
            value = data.get(PREFIX + spec.name) or ""
            if spec.secret:
                secrets[spec.name] = value
            elif value:
                public[spec.name] = value.strip()
        return common, public, secrets


class RevealForm(forms.Form):
    field = forms.CharField(widget=forms.HiddenInput)
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(label=_("Code from your authenticator"), required=False, max_length=32)
