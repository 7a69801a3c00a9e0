from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.confirm import confirm_first

from . import services
from .forms import RoleForm, UserCreateForm
from .models import Role, User
from .roles import role_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home:overview")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_changed(user=self.request.user)
        messages.success(self.request, _("Your password has been changed."))
        return response


def _users_context(create_form: UserCreateForm | None = None) -> dict:
    users = User.objects.order_by("username").prefetch_related("groups")
    return {"users": users, "create_form": create_form or UserCreateForm(), "roles": Role}


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
        return render(
            request, "accounts/users.html#user-row", {"u": user, "roles": Role, "row_error": error}
        )
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
