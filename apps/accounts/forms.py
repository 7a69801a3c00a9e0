from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from .models import Role, SignInPolicy, User


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    # The least privilege unless the admin chooses more: an auditor only reads the log.
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AUDITOR)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("A user with this username already exists."))
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


# Django 5.2 words its minimum-length error with %d, a message its own Simplified Chinese
# catalogue does not have yet; listed here so that ours carries it.
PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "count",
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("second factor", "Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
    )


class SignInPolicyForm(forms.ModelForm):
    class Meta:
        model = SignInPolicy
        fields = ["second_factor", "passwords"]
        labels = {"second_factor": _("Second factor"), "passwords": _("Sign in with a password")}
        widgets = {"second_factor": forms.RadioSelect, "passwords": forms.RadioSelect}
        help_texts = {
            "passwords": _(
                "Turn passwords off for everyone but the first admin only once people can sign "
                "in with Feishu, DingTalk or WeCom."
            )
        }


class LoginForm(AuthenticationForm):
    """Django's sign-in form, refusing a password where the sign-in policy turned them off."""

    error_messages = AuthenticationForm.error_messages | {
        "password_off": _(
            "Signing in with a password is off for this account: use Feishu, DingTalk or WeCom."
        )
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not SignInPolicy.current().allows_password(user):
            raise forms.ValidationError(self.error_messages["password_off"], code="password_off")
