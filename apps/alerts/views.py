from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import Role
from apps.accounts.roles import role_required
from apps.core.confirm import confirm_first

from . import services
from .forms import ChannelForm, kind_choices
from .models import Channel, Delivery, Rule
from .selectors import alerts_page


@require_GET
@role_required(Role.ADMIN)
def alert_list(request: HttpRequest) -> HttpResponse:
    context = alerts_page()
    kinds, rules = dict(kind_choices(get_language() or "")), dict(Rule.choices)
    for channel in context["channels"]:
        channel.kind_label = kinds.get(channel.kind, channel.kind)
        channel.rule_labels = [rules.get(r, r) for r in channel.rules]
    return render(request, "alerts/list.html", context)


def _form_page(request: HttpRequest, channel: Channel | None) -> HttpResponse:
    language = get_language() or ""
    if request.method == "POST":
        form = ChannelForm(request.POST, channel=channel, language=language)
        if form.is_valid():
            data = form.cleaned_data
            saved = services.channel_save(
                channel=channel,
                by=request.user,
                name=data["name"],
                kind=data["kind"],
                enabled=data["enabled"],
                rules=data["rules"],
                email_to=data["email_to"],
                url=data["url"].strip(),
                secret=data["secret"].strip(),
                clear_secret=data["clear_secret"],
            )
            messages.success(request, _("Channel “%(name)s” saved.") % {"name": saved.name})
            return redirect("alerts:list")
    else:
        initial = {"rules": [r.value for r in Rule], "enabled": True}
        if channel is not None:
            initial = {
                "name": channel.name,
                "kind": channel.kind,
                "rules": channel.rules,
                "enabled": channel.enabled,
                "email_to": channel.email_to,
            }
        form = ChannelForm(initial=initial, channel=channel, language=language)
    return render(request, "alerts/channel_form.html", {"form": form, "channel": channel})


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
@sensitive_post_parameters("url", "secret")
def channel_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
@sensitive_post_parameters("url", "secret")
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, get_object_or_404(Channel, pk=pk))


@require_POST
@role_required(Role.ADMIN)
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    asked = confirm_first(
        request,
        title=_("Delete alert channel"),
        question=_("Delete “%(name)s”? Alerts will no longer reach it.") % {"name": channel.name},
        cancel="/alerts/",
    )
    if asked is not None:
        return asked
    services.channel_delete(channel=channel, by=request.user)
    messages.success(request, _("Channel “%(name)s” deleted.") % {"name": channel.name})
    return redirect("alerts:list")


@require_POST
@role_required(Role.ADMIN)
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    delivery = services.channel_test(channel=channel, by=request.user)
    if delivery.status == Delivery.Status.SENT:
        messages.success(
            request,
            _("Test alert delivered to “%(name)s”.") % {"name": channel.name}
            + (f" trace id: {delivery.trace_id}" if delivery.trace_id else ""),
        )
    else:
        messages.error(
            request,
            _("Test alert to “%(name)s” failed: %(code)s %(error)s")
            % {"name": channel.name, "code": delivery.code, "error": delivery.error},
        )
    return redirect("alerts:list")
