from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.models import Role
from apps.accounts.roles import role_required
from apps.audit.models import AuditEvent
from apps.audit.services import Actor
from apps.core.confirm import confirm_first
from apps.providers.base import ProviderError
from apps.providers.jsapi import page_signature
from apps.vault.models import Credential

from . import grants, services, tickets
from .forms import ClientKeyForm, InviteForm, PageSignatureForm
from .models import AccessToken, ClientKey, GrantInvite, Ticket, UserGrant
from .selectors import credentials_by_id, rows_for, token_credential_ids

ADMIN, DEVELOPER = Role.ADMIN, Role.DEVELOPER


@require_GET
@role_required(ADMIN, DEVELOPER)
def token_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(token_credential_ids(request.user), 50).get_page(request.GET.get("page"))
    rows = rows_for(credentials_by_id(list(page.object_list)))
    context = {"rows": rows, "page": page, "now": timezone.now()}
    return render(request, "tokens/list.html", context)


def _credential(request: HttpRequest, slug: str) -> Credential:
    credential = Credential.objects.visible_to(request.user).filter(slug=slug).first()
    if credential is None or not credential.platform.uses_token_for(credential.public_values):
        raise Http404
    return credential


@require_GET
@role_required(ADMIN, DEVELOPER)
def token_detail(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential(request, slug)
    return render(request, "tokens/detail.html", _detail_context(credential))


def _detail_context(credential: Credential) -> dict:
    history = AuditEvent.objects.filter(
        target_type="credential", target_id=credential.slug, action="token.refresh"
    ).order_by("-seq")[:25]
    return {
        "credential": credential,
        "token": AccessToken.objects.filter(credential=credential).first(),
        "history": history,
        "now": timezone.now(),
        "policy": credential.platform.refresh_policy,
        "tickets": _ticket_rows(credential),
        "sign_form": PageSignatureForm(kinds=_ticket_kinds(credential)),
    }


def _ticket_kinds(credential: Credential) -> list[str]:
    spec = credential.platform.jsapi
    return [k.kind for k in spec.kinds] if spec else []


def _ticket_rows(credential: Credential) -> list[dict]:
    """One row per kind of JS-SDK ticket the platform issues: what is held (never the ticket
    itself), this hour's fetches against the platform's cap, the last error."""
    spec = credential.platform.jsapi
    if spec is None:
        return []
    held = {t.kind: t for t in Ticket.objects.filter(credential=credential)}
    now, rows = timezone.now(), []
    for kind in spec.kinds:
        row = held.get(kind.kind)
        this_hour = row is not None and row.hour == now.replace(minute=0, second=0, microsecond=0)
        rows.append(
            {
                "kind": kind.kind,
                "row": row,
                "valid": row is not None and tickets.is_valid(row, now),
                "fetches": row.fetches if this_hour else 0,
                "cap": kind.hourly_cap,
            }
        )
    return rows


@require_POST
@role_required(ADMIN)
def ticket_refresh_now(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Replace the ticket held (as a caller reporting it rejected would); the hourly cap holds."""
    credential = _credential(request, slug)
    if kind not in _ticket_kinds(credential):
        raise Http404
    held = Ticket.objects.filter(credential=credential, kind=kind).first()
    try:
        tickets.ticket_current(
            credential=credential,
            kind=kind,
            rejected=held.value() if held and held.value_blob else None,
            actor=Actor.user(request.user),
        )
    except (tickets.TicketUnavailable, services.TokenUnavailable) as exc:
        messages.error(request, _("The ticket could not be fetched: %(why)s") % {"why": exc})
    return redirect(reverse("tokens:detail", args=[credential.slug]) + "#tickets")


@require_POST
@role_required(ADMIN, DEVELOPER)
def ticket_sign_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The configuration a page at a URL passes to the JS-SDK, signed with the ticket held
    (fetched first if none is): what the signature endpoint answers, to check a page's own."""
    credential = _credential(request, slug)
    form = PageSignatureForm(request.POST, kinds=_ticket_kinds(credential))
    context: dict = {"credential": credential, "sign_form": form}
    if form.is_valid():
        try:
            row = tickets.ticket_current(
                credential=credential,
                kind=form.cleaned_data["kind"],
                actor=Actor.user(request.user),
            )
        except (tickets.TicketUnavailable, services.TokenUnavailable) as exc:
            form.add_error(None, _("No ticket could be fetched: %(why)s") % {"why": exc})
        else:
            spec = credential.platform.jsapi
            app_id = str(credential.public_values.get(spec.app_id_field, ""))
            context["signed"] = page_signature(
                spec, app_id, row.value(), form.cleaned_data["url"], time.time()
            )
            context["signed_ms"] = spec.timestamp_ms
    status = 200 if form.is_valid() else 422
    if request.htmx:
        return render(request, "tokens/detail.html#page-signature", context, status=status)
    return render(
        request, "tokens/detail.html", _detail_context(credential) | context, status=status
    )


@require_POST
@role_required(ADMIN)
def token_refresh_now(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential(request, slug)
    try:
        services.token_refresh(
            credential_id=credential.pk, force=True, reason="manual", actor=Actor.user(request.user)
        )
    except services.TokenUnavailable:
        pass  # the failure is on the row, shown by the page
    if request.htmx:
        row = rows_for([credential])[0]
        return render(request, "tokens/list.html#token-row", {"r": row, "now": timezone.now()})
    return redirect("tokens:detail", slug=credential.slug)


@require_POST
@role_required(ADMIN)
def token_cap_reset(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential(request, slug)
    ask = confirm_first(
        request,
        title=_("Override today's cap"),
        cancel=reverse("tokens:detail", args=[credential.slug]),
        question=_(
            "Start today's count of token fetches for %(name)s again? "
            "Zhongkong stops at the platform's documented daily cap; "
            "past it the platform may refuse fetches itself."
        )
        % {"name": credential.name},
    )
    if ask:
        return ask
    services.token_cap_reset(credential=credential, by=request.user)
    return redirect("tokens:detail", slug=credential.slug)


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def client_keys(request: HttpRequest) -> HttpResponse:
    form = ClientKeyForm(request.POST or None)
    context = {"form": form}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            key, raw = services.client_key_create(
                name=form.cleaned_data["name"],
                credentials=form.cleaned_data["credentials"],
                expires_at=form.cleaned_data["expires_at"],
                user_tokens=form.cleaned_data["user_tokens"],
                user_ids=form.cleaned_data["user_ids"],
                by=request.user,
            )
            context = {"form": ClientKeyForm(), "created": key, "raw_key": raw}
        else:
            status = 422
    context["keys"] = ClientKey.objects.order_by("-created_at").prefetch_related("credentials")
    context["now"] = timezone.now()
    response = render(request, "tokens/keys.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(ADMIN)
def client_key_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ClientKey, pk=pk)
    ask = confirm_first(
        request,
        title=_("Revoke client key"),
        cancel=reverse("tokens:keys"),
        question=_(
            "Revoke “%(name)s”? Business servers using it are refused "
            "at once; this cannot be undone."
        )
        % {"name": key.name},
    )
    if ask:
        return ask
    services.client_key_revoke(key=key, by=request.user)
    return redirect("tokens:keys")


# --- users' grants -------------------------------------------------------------------------

PENDING = "zk_oauth_pending"


def _grant_credential(request: HttpRequest, slug: str) -> Credential:
    credential = _credential(request, slug)
    if credential.platform.user_oauth is None:
        raise Http404
    return credential


def _callback_url() -> str:
    """The address to register with the platform as the app's redirect URL."""
    return settings.SITE_URL.rstrip("/") + reverse("tokens:oauth_callback")


@require_GET
@role_required(ADMIN, DEVELOPER)
def grant_list(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _grant_credential(request, slug)
    now = timezone.now()
    rows = UserGrant.objects.filter(credential=credential).order_by("name", "user_id")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for grant in page:
        grant.display_state = grants.grant_state(grant, now)
    invites = GrantInvite.objects.filter(
        credential=credential, used_at__isnull=True, expires_at__gt=now
    ).select_related("created_by")
    return render(
        request,
        "tokens/grants.html",
        {
            "credential": credential,
            "page": page,
            "now": now,
            "redirect_uri": _callback_url(),
            "oauth": credential.platform.user_oauth,
            "invites": invites.order_by("-created_at")[:20],
        },
    )


def _remember(request: HttpRequest, started: grants.Authorisation, **extra) -> None:
    pending = request.session.get(PENDING, {})
    # Only the most recent few stay pending: an abandoned start must not pile up.
    kept = dict(sorted(pending.items(), key=lambda kv: kv[1]["at"])[-4:])
    request.session[PENDING] = kept | {started.state: started.pending | extra}


@require_POST
@role_required(ADMIN)
def grant_connect_start(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _grant_credential(request, slug)
    started = grants.authorisation_start(credential=credential, redirect_uri=_callback_url())
    _remember(request, started)
    if request.htmx:
        return HttpResponseClientRedirect(started.url)
    return redirect(started.url)


@require_POST
@role_required(ADMIN)
def grant_invite_create(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _grant_credential(request, slug)
    if credential.platform.user_oauth.identity_only:
        raise Http404
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("label", [])))
        return redirect("tokens:grants", slug=credential.slug)
    label = form.cleaned_data["label"]
    token = grants.invite_create(
        credential=credential, label=label, actor=Actor.user(request.user), by=request.user
    )
    # The secret travels in the query, whose values every log line redacts.
    link = settings.SITE_URL.rstrip("/") + reverse("tokens:invite") + "?" + urlencode({"t": token})
    return render(
        request,
        "tokens/grant_invite_created.html",
        {
            "credential": credential,
            "link": link,
            "label": label,
            "days": grants.INVITE_LIFETIME.days,
        },
    )


@require_http_methods(["GET", "POST"])
def grant_invite(request: HttpRequest) -> HttpResponse:
    """A one-time authorisation link, opened by someone who may have no account here: the
    page says who asks for what; its button starts the platform's authorisation."""
    invite = grants.invite_open(request.GET.get("t", ""))
    if invite is None:
        return render(request, "tokens/grant_invite.html", {"invite": None}, status=404)
    if request.method == "POST":
        started = grants.authorisation_start(
            credential=invite.credential, redirect_uri=_callback_url()
        )
        _remember(request, started, invite=invite.pk)
        return redirect(started.url)
    return render(request, "tokens/grant_invite.html", {"invite": invite})


@require_GET
def grant_callback(request: HttpRequest) -> HttpResponse:
    """The platform sends the user's browser back here. The state must be one this session
    started, not yet used and recent; it is used up whatever happens next. An authorisation
    started from a one-time link needs no account; any other needs an admin."""
    started = request.session.get(PENDING, {}).get(request.GET.get("state", ""))
    if started is not None and started.get("invite"):
        return _invite_callback(request)
    if not request.user.is_authenticated:
        # Not this browser's authorisation: say so here, rather than carry its code and
        # state on to the sign-in page's address and form.
        return render(request, "tokens/grant_callback.html", status=400)
    return _admin_callback(request)


def _take_pending(request: HttpRequest) -> dict | None:
    pending = request.session.get(PENDING, {})
    started = pending.pop(request.GET.get("state", ""), None)
    request.session[PENDING] = pending
    if started is None or time.time() - started["at"] > grants.PENDING_MAX_AGE:
        return None
    return started


def _explained(exc: ProviderError) -> str:
    decoded = exc.decoded
    if decoded is None:
        return str(exc)[:200]
    explanation = (
        decoded.explanation_en if translation.get_language() == "en" else decoded.explanation_zh
    )
    return explanation or decoded.message or str(exc)[:200]


@role_required(ADMIN)
def _admin_callback(request: HttpRequest) -> HttpResponse:
    started = _take_pending(request)
    if started is None:
        return render(request, "tokens/grant_callback.html", status=400)
    credential = get_object_or_404(Credential, pk=started["credential"])
    back = redirect("tokens:grants", slug=credential.slug)
    if request.GET.get("error") or not request.GET.get("code"):
        messages.warning(request, _("The user did not authorise the app; nothing was connected."))
        return back
    actor = Actor.user(request.user)
    try:
        if credential.platform.user_oauth.identity_only:
            who = grants.identify(
                credential=credential, code=request.GET["code"][:512], actor=actor
            )
            messages.success(
                request,
                _("The platform says this is %(user)s. It gives no user token: nothing was kept.")
                % {"user": who.user_id},
            )
            return back
        grant = grants.grant_connect(
            credential=credential,
            code=request.GET["code"][:512],
            redirect_uri=started["redirect_uri"],
            code_verifier=started["verifier"],
            actor=actor,
        )
    except ProviderError as exc:
        messages.error(
            request, _("The platform refused the authorisation: %(why)s") % {"why": _explained(exc)}
        )
        return back
    except services.TokenUnavailable:
        messages.error(request, _("The app's own token could not be fetched; try again later."))
        return back
    messages.success(request, _("Connected %(name)s.") % {"name": grant.name or grant.user_id})
    if not grant.refreshable:
        messages.warning(request, _no_refresh_warning(credential))
    return back


def _no_refresh_warning(credential: Credential) -> str:
    return _(
        "The platform gave no refresh token (the app lacks the %(scope)s scope): this "
        "user's token cannot be renewed and ends when it expires."
    ) % {"scope": credential.platform.user_oauth.offline_scope}


def _invite_callback(request: HttpRequest) -> HttpResponse:
    started = _take_pending(request)
    if started is None:
        return render(request, "tokens/grant_callback.html", status=400)
    invite = (
        GrantInvite.objects.select_related("credential", "created_by")
        .filter(pk=started["invite"])
        .first()
    )
    if invite is None or not grants.invite_claim(invite.pk):
        return render(request, "tokens/grant_invite.html", {"invite": None}, status=404)
    context = {"invite": invite, "done": True}
    if request.GET.get("error") or not request.GET.get("code"):
        grants.invite_release(invite.pk)
        context["problem"] = _("You did not authorise the app; nothing was connected.")
        return render(request, "tokens/grant_invite.html", context, status=400)
    by = invite.created_by.username if invite.created_by else "?"
    try:
        grant = grants.grant_connect(
            credential=invite.credential,
            code=request.GET["code"][:512],
            redirect_uri=started["redirect_uri"],
            code_verifier=started["verifier"],
            actor=Actor.anonymous(f"invite {invite.pk} from {by}"),
        )
    except ProviderError as exc:
        grants.invite_release(invite.pk)
        context["problem"] = _("The platform refused the authorisation: %(why)s") % {
            "why": _explained(exc)
        }
        return render(request, "tokens/grant_invite.html", context, status=400)
    grants.invite_done(invite.pk, grant.user_id)
    context["grant"] = grant
    return render(request, "tokens/grant_invite.html", context)


@require_POST
@role_required(ADMIN)
def grant_revoke_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    credential = _grant_credential(request, slug)
    grant = get_object_or_404(UserGrant, pk=pk, credential=credential)
    back = reverse("tokens:grants", args=[credential.slug])
    ask = confirm_first(
        request,
        title=_("Revoke a user's grant"),
        cancel=back,
        question=_(
            "Forget the grant of %(name)s? Zhongkong deletes the user's tokens and stops "
            "handing them out; to connect the user again they must authorise again."
        )
        % {"name": grant.name or grant.user_id},
    )
    if ask:
        return ask
    grants.grant_revoke(grant=grant, actor=Actor.user(request.user))
    return redirect(back)
