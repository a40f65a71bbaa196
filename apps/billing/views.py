"""Billing pages (plan, usage, invoices, Checkout, Customer Portal, reconciliation) and the Stripe
webhook, a plain csrf-exempt view whose only credential is the signature."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Organization, Role
from apps.accounts.services import require_role
from apps.billing import stripe_gateway as gateway
from apps.billing.selectors import billing_overview, hour_floor, usage_reconciliation
from apps.billing.services.metering import LOOKBACK, metered_accounts, reportable_before
from apps.billing.services.subscriptions import checkout_return, checkout_start, portal_start
from apps.billing.services.webhooks import webhook_receive
from apps.core.api_errors import api_methods, error_response
from apps.core.errors import ApplicationError, NotFound
from apps.core.page_decorators import page_errors


def _refusals_to_overview(
    view: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """POST-only actions: a refusal (other than 403/404) is a message on the billing page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            messages.error(request, exc.message)
            return redirect("billing:overview")

    return wrapper


def _organization(request: HttpRequest) -> tuple[Organization, Any]:
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.organization is None:
        raise NotFound("You are not a member of any organisation")
    return tenant.organization, tenant


@login_required
@require_GET
@page_errors
def overview(request: HttpRequest) -> HttpResponse:
    organization, tenant = _organization(request)
    data = billing_overview(organization_id=organization.pk, with_invoices=tenant.is_admin)
    return render(
        request,
        "billing/overview.html",
        {"organization": organization, "o": data, "is_admin": tenant.is_admin},
    )


@login_required
@require_POST
@page_errors
@_refusals_to_overview
def checkout(request: HttpRequest) -> HttpResponse:
    organization, _ = _organization(request)
    success = request.build_absolute_uri(reverse("billing:checkout-return"))
    url = checkout_start(
        organization=organization,
        plan_key=request.POST.get("plan", ""),
        actor=request.user,
        success_url=f"{success}?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=request.build_absolute_uri(reverse("billing:overview")),
    )
    return redirect(url)


@login_required
@require_GET
@page_errors
def checkout_done(request: HttpRequest) -> HttpResponse:
    organization, _ = _organization(request)
    try:
        plan = checkout_return(
            organization=organization, session_id=request.GET.get("session_id", ""), actor=request.user
        )
    except gateway.StripeUnavailable:
        messages.warning(
            request, "Stripe is slow to confirm the payment; the plan changes as soon as it does."
        )
        return redirect("billing:overview")
    if plan.is_free:
        messages.info(request, "Checkout finished; the plan changes as soon as Stripe confirms the payment.")
    else:
        messages.success(request, f"Thank you: {organization.name} is on the {plan.name} plan.")
    return redirect("billing:overview")


@login_required
@require_POST
@page_errors
@_refusals_to_overview
def portal(request: HttpRequest) -> HttpResponse:
    organization, _ = _organization(request)
    url = portal_start(
        organization=organization,
        actor=request.user,
        return_url=request.build_absolute_uri(reverse("billing:overview")),
    )
    return redirect(url)


@login_required
@require_GET
@page_errors
def reconciliation(request: HttpRequest) -> HttpResponse:
    """Usage per hour: counted in ClickHouse against reported to Stripe's meter."""
    organization, _ = _organization(request)
    require_role(user=request.user, organization=organization, at_least=Role.ADMIN)
    now = timezone.now()
    end = hour_floor(now) + timedelta(hours=1)
    stripe_on = gateway.configured()
    metered = metered_accounts(organization_id=organization.pk) if stripe_on else []
    rows = usage_reconciliation(
        organization_id=organization.pk,
        start=end - LOOKBACK,
        end=end,
        due_before=reportable_before(now),
        metered_since=metered[0].since if metered else None,
    )
    totals = {
        "counted": sum(r.counted for r in rows),
        "sent": sum(r.sent for r in rows),
        "pending": sum(r.pending for r in rows),
        "failed": sum(r.failed for r in rows),
    }
    return render(
        request,
        "billing/reconciliation.html",
        {
            "organization": organization,
            "rows": rows,
            "totals": totals,
            "lookback_days": LOOKBACK.days,
            "stripe_configured": stripe_on,
            "metered": bool(metered),
        },
    )


@csrf_exempt
@api_methods("POST")
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """POST /billing/stripe/webhook — events from Stripe, verified by their signature."""
    try:
        outcome = webhook_receive(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except gateway.InvalidWebhook as exc:
        return error_response(exc.code, exc.message, 400)
    except gateway.StripeUnavailable as exc:
        return error_response(exc.code, exc.message, 503)
    except ApplicationError as exc:  # e.g. no STRIPE_API_KEY to fetch the subscription with
        return error_response(exc.code, exc.message, exc.status)
    return JsonResponse({"received": True, "id": outcome.event_id, "status": outcome.status})
