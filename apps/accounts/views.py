from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from apps.core.confirm import confirm_first

from . import second_factor, services
from .forms import CodeForm, LoginForm, RoleForm, SignInPolicyForm, UserCreateForm
from .models import Authenticator, Role, SignInPolicy, User
from .roles import role_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm

    def form_invalid(self, form):
        if form.has_error("__all__", "password_off"):
            services.password_refused(
                username=form.cleaned_data.get("username", ""), request=self.request
            )
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {
            "password_reset_by_email": settings.PASSWORD_RESET_BY_EMAIL
        }


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home:overview")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_changed(user=self.request.user)
        messages.success(self.request, _("Your password has been changed."))
        return response


def _second_factor_ids() -> set[int]:
    return set(Authenticator.objects.filter(confirmed=True).values_list("user_id", flat=True))


def _users_context(create_form: UserCreateForm | None = None) -> dict:
    users = User.objects.order_by("username").prefetch_related("groups")
    return {
        "users": users,
        "create_form": create_form or UserCreateForm(),
        "roles": Role,
        "second_factor_ids": _second_factor_ids(),
    }


@require_GET
@role_required(Role.ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/users.html", _users_context())


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, one_time = services.user_create(by=request.user, **form.cleaned_data)
        # The one-time password is shown on this response only; it is not kept anywhere.
        context, status = {**_users_context(), "created": user, "one_time_password": one_time}, 200
    else:
        context, status = _users_context(form), 200 if request.method == "GET" else 422
    template = "accounts/users.html#user-panel" if request.htmx else "accounts/users.html"
    return render(request, template, context, status=status)


def _row(request: HttpRequest, user: User, error: str = "") -> HttpResponse:
    if request.htmx:
        context = {
            "u": user,
            "roles": Role,
            "row_error": error,
            "second_factor_ids": _second_factor_ids() & {user.pk},
        }
        return render(request, "accounts/users.html#user-row", context)
    if error:
        messages.error(request, error)
    return redirect("accounts:users")


@require_POST
@role_required(Role.ADMIN)
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _row(request, user, _("Choose a valid role."))
    if form.cleaned_data["role"] == user.role:
        return _row(request, user)
    ask = confirm_first(
        request,
        title=_("Change role"),
        cancel=reverse("accounts:users"),
        question=_("Make %(name)s %(role)s? What they may see and do changes at once.")
        % {"name": user.username, "role": Role(form.cleaned_data["role"]).label},
    )
    if ask:
        return ask
    try:
        services.user_set_role(user=user, role=form.cleaned_data["role"], by=request.user)
    except ValidationError as exc:
        return _row(request, user, " ".join(exc.messages))
    return _row(request, user)


@require_POST
@role_required(Role.ADMIN)
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(user=user, active=active, by=request.user)
    except ValidationError as exc:
        return _row(request, user, " ".join(exc.messages))
    return _row(request, user)


@require_POST
@role_required(Role.ADMIN)
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    services.user_unlock(user=user, by=request.user)
    if not request.htmx:
        messages.success(request, _("%(name)s can sign in again.") % {"name": user.username})
    return _row(request, user)


@require_POST
@role_required(Role.ADMIN)
def user_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """A new one-time password for a user who lost theirs, shown on this response only."""
    user = get_object_or_404(User, pk=pk)
    ask = confirm_first(
        request,
        title=_("New password"),
        cancel=reverse("accounts:users"),
        question=_(
            "Give %(name)s a new one-time password? Their current password stops working "
            "and they are signed out everywhere."
        )
        % {"name": user.username},
    )
    if ask:
        return ask
    one_time = services.user_password_reset(user=user, by=request.user)
    context = {**_users_context(), "reset": user, "one_time_password": one_time}
    template = "accounts/users.html#user-panel" if request.htmx else "accounts/users.html"
    return render(request, template, context)


PENDING = "second_factor_pending"


def _locked_message() -> str:
    return _(
        "Too many wrong codes: the second step is paused for %(minutes)s minutes. An admin "
        "can lift this with Unlock on the users page."
    ) % {"minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}


def _checked(request: HttpRequest, form: CodeForm, pending=None):
    """The device that accepts the form's code, or None with the form's error set."""
    if not form.is_valid():
        return None
    try:
        device = second_factor.verify(
            request.user, form.cleaned_data["code"], pending=pending, request=request
        )
    except second_factor.SecondFactorLocked:
        form.add_error("code", _locked_message())
        return None
    if device is None:
        form.add_error("code", _("That code is not correct (or was used already)."))
    return device


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_page(request: HttpRequest) -> HttpResponse:
    """Set up, renew or remove one's authenticator and recovery codes."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user, action = request.user, request.POST.get("action", "")
    context: dict = {"form": CodeForm(), "status": 200}
    pending = None
    if request.session.get(PENDING):
        pending = Authenticator.objects.filter(
            pk=request.session[PENDING], user=user, confirmed=False
        ).first()
    if action == "start":
        pending = second_factor.enrolment_start(user)
        request.session[PENDING] = pending.pk
    elif action == "confirm" and pending is not None:
        form = CodeForm(request.POST)
        device = _checked(request, form, pending=pending)
        if device is None:
            context.update(form=form, status=422)
        else:
            context["codes"] = second_factor.enrolment_confirm(user, device)
            request.session.pop(PENDING, None)
            otp_login(request, device)
            second_factor.remember(request, user)
            pending = None
    elif action in ("renew", "remove"):
        form = CodeForm(request.POST)
        if _checked(request, form) is None:
            context.update(form=form, status=422, failed=action)
        elif action == "renew":
            context["codes"] = second_factor.recovery_codes_renew(user)
        else:
            second_factor.second_factor_remove(user=user, by=user)
            second_factor.remember(request, user)
            messages.success(request, _("Your authenticator and recovery codes are removed."))
            return redirect("accounts:second_factor")
    if pending is not None and "codes" not in context:
        context.update(pending=pending, qr=second_factor.qr_svg(pending))
        context["secret"] = second_factor.secret_of(pending)
    context.update(
        device=second_factor.authenticator(user),
        codes_left=second_factor.recovery_codes_left(user),
        required=SignInPolicy.current().requires_second_factor(user),
    )
    return render(request, "accounts/second_factor.html", context, status=context["status"])


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, for a user with an authenticator."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    if not second_factor.remember(request, request.user) or request.user.is_verified():
        return redirect(target or "home:overview")  # (an admin may have removed it meanwhile)
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        device = _checked(request, form)
        if device is not None:
            otp_login(request, device)
            if second_factor.method_of(device) == "recovery_code":
                messages.warning(
                    request,
                    _("You signed in with a recovery code; %(n)s are left.")
                    % {"n": second_factor.recovery_codes_left(request.user)},
                )
            return redirect(target or "home:overview")
    status = 422 if form.errors else 200
    return render(
        request, "accounts/second_factor_verify.html", {"form": form, "next": target}, status=status
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def sign_in_policy(request: HttpRequest) -> HttpResponse:
    policy = SignInPolicy.current()
    before = {"second_factor": policy.second_factor, "passwords": policy.passwords}
    form = SignInPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        services.sign_in_policy_set(policy=form.save(commit=False), before=before, by=request.user)
        messages.success(request, _("The sign-in policy is saved."))
        return redirect("accounts:sign_in_policy")
    status = 422 if form.errors else 200
    return render(request, "accounts/sign_in_policy.html", {"form": form}, status=status)


@require_POST
@role_required(Role.ADMIN)
def user_second_factor_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """For a user who lost their phone and their recovery codes."""
    user = get_object_or_404(User, pk=pk)
    ask = confirm_first(
        request,
        title=_("Remove second factor"),
        cancel=reverse("accounts:users"),
        question=_(
            "Remove %(name)s's authenticator and recovery codes? They sign in with their "
            "password alone until they set up a new one (at once, if the policy requires it)."
        )
        % {"name": user.username},
    )
    if ask:
        return ask
    second_factor.second_factor_remove(user=user, by=request.user)
    if not request.htmx:
        messages.success(
            request, _("%(name)s's second factor is removed.") % {"name": user.username}
        )
    return _row(request, user)


@require_POST
@role_required(Role.ADMIN)
def user_password_link(request: HttpRequest, pk: int) -> HttpResponse:
    """A link with which a user who lost their password chooses a new one themselves,
    shown on this response only."""
    user = get_object_or_404(User, pk=pk)
    ask = confirm_first(
        request,
        title=_("Password reset link"),
        cancel=reverse("accounts:users"),
        question=_(
            "Make a link with which %(name)s chooses a new password? It works once, for "
            "%(hours)s hours; hand it over privately."
        )
        % {"name": user.username, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )
    if ask:
        return ask
    link = services.user_reset_link(user=user, by=request.user)
    context = {**_users_context(), "reset_link_for": user, "reset_link": link}
    template = "accounts/users.html#user-panel" if request.htmx else "accounts/users.html"
    return render(request, template, context)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_set_by_link(user=form.user)
        messages.success(self.request, _("Your new password is set: sign in with it."))
        return response


class AuditedPasswordResetForm(PasswordResetForm):
    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
        services.user_reset_mailed(user=context["user"])


class PasswordForgotView(auth_views.PasswordResetView):
    """'Forgot your password?' by e-mail, where an e-mail server is configured. The answer
    is the same whether or not the address is known."""

    template_name = "accounts/password_forgot.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = AuditedPasswordResetForm
    success_url = reverse_lazy("accounts:password_forgot_sent")

    def dispatch(self, request, *args, **kwargs):
        if not settings.PASSWORD_RESET_BY_EMAIL:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_email_options(self):
        return super().get_email_options() | {"domain_override": None}


@require_GET
def password_forgot_sent(request: HttpRequest) -> HttpResponse:
    if not settings.PASSWORD_RESET_BY_EMAIL:
        raise Http404
    return render(request, "accounts/password_forgot_sent.html")


@require_GET
def waiting(request: HttpRequest) -> HttpResponse:
    """Signed in, with no role yet: nothing to see until an admin grants one."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.role is not None:
        return redirect("home:overview")
    return render(request, "accounts/waiting.html")
