"""Customer portal pages: overview, limit history, plan detail and payoff, repay, and the demo
merchant checkout. Server-rendered, no JavaScript needed; one service call per action.

Every id in a URL is looked up inside the signed-in customer's own account (404 otherwise).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from credit.forms import CheckoutConfirmForm, CheckoutForm, PayoffForm, RepayForm
from credit.models import CreditAccount
from credit.risk.selectors import pending_decreases_announced
from credit.selectors import (
    account_for_customer,
    account_history,
    account_status_explanation,
    amount_due_by,
    amount_owed_total,
    available_in_words,
    installments_upcoming,
    merchants_active,
    plan_for_account,
    plans_for_account,
    purchases_for_account,
    repayment_for_account,
    temporary_grants_current,
)
from credit.services import (
    plan_payoff,
    plan_payoff_quote,
    purchase_authorize,
    purchase_quotes,
    repayment_apply,
)
from credit.services.fees import fee_schedule_active
from credit.servicing.selectors import accelerations_active

UPCOMING_SHOWN = 6
HISTORY_ON_OVERVIEW = 5


def _account_or_none(request) -> CreditAccount | None:
    return account_for_customer(user=request.user)


def _account_or_404(request) -> CreditAccount:
    account = _account_or_none(request)
    if account is None:
        raise Http404(_("You do not have a credit line yet."))
    return account


def _found(selector, **kwargs):
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


@login_required
def account_overview(request):
    """The portal's home: limit, available (a negative one explained), status, what is due."""
    account = _account_or_none(request)
    if account is None:
        return render(request, "credit/overview.html", {"account": None})
    now = timezone.now()
    upcoming = installments_upcoming(account=account, limit=UPCOMING_SHOWN)
    return render(
        request,
        "credit/overview.html",
        {
            "account": account,
            "explanation": account_status_explanation(account),
            "available_words": available_in_words(account),
            "upcoming": upcoming,
            "grants": temporary_grants_current(account=account, now=now),
            "history": account_history(account=account, limit=HISTORY_ON_OVERVIEW),
            "plans": list(plans_for_account(account=account).filter(status="ACTIVE")),
            "purchases": list(purchases_for_account(account=account)[:5]),
            # Decisions announced or in force that the customer can contest.
            "pending_decreases": list(pending_decreases_announced(account=account)),
            "accelerations": list(accelerations_active(account=account)),
        },
    )


@login_required
def limit_history(request):
    account = _account_or_404(request)
    page = Paginator(account_history(account=account), 25).get_page(request.GET.get("page"))
    return render(request, "credit/limit_history.html", {"account": account, "page": page})


@login_required
def plan_detail(request, pk):
    account = _account_or_404(request)
    plan = _found(plan_for_account, account=account, plan_id=pk)
    payoff = plan_payoff_quote(plan=plan, now=timezone.now()) if plan.status == "ACTIVE" else None
    return render(
        request,
        "credit/plan_detail.html",
        {"account": account, "plan": plan, "payoff": payoff, "form": PayoffForm()},
    )


@login_required
@require_POST
def plan_payoff_submit(request, pk):
    account = _account_or_404(request)
    plan = _found(plan_for_account, account=account, plan_id=pk)
    form = PayoffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please try again."))
        return redirect("credit:plan", pk=plan.pk)
    try:
        repayment = plan_payoff(
            plan=plan,
            idempotency_key=f"portal:{form.cleaned_data['idempotency_key']}",
            now=timezone.now(),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("credit:plan", pk=plan.pk)
    messages.success(
        request,
        _("Plan paid off: ¥%(amount)s paid, ¥%(saved)s of fees saved.")
        % {"amount": repayment.amount, "saved": repayment.fees_waived},
    )
    return redirect("credit:repayment", pk=repayment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def repay(request):
    account = _account_or_404(request)
    today = timezone.localdate()
    due_soon = amount_due_by(account=account, on_or_before=today)
    owed = amount_owed_total(account=account)
    upcoming = installments_upcoming(account=account, limit=UPCOMING_SHOWN)
    suggested = due_soon or (upcoming[0].amount_due if upcoming else None)
    form = RepayForm(request.POST or None, initial={"amount": suggested or ""})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            repayment = repayment_apply(
                account=account,
                amount=form.cleaned_data["amount"],
                idempotency_key=f"portal:{form.cleaned_data['idempotency_key']}",
                now=timezone.now(),
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            status = exc.http_status
        else:
            messages.success(request, _("Thank you, we received ¥%s.") % repayment.amount)
            return redirect("credit:repayment", pk=repayment.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "credit/repay.html",
        {
            "account": account,
            "form": form,
            "due_now": due_soon,
            "owed": owed,
            "upcoming": upcoming,
        },
        status=status,
    )


@login_required
def repayment_detail(request, pk):
    account = _account_or_404(request)
    repayment = _found(repayment_for_account, account=account, repayment_id=pk)
    return render(
        request, "credit/repayment_detail.html", {"account": account, "repayment": repayment}
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    """Demo merchant checkout: pick a shop and price, see every term's quote, confirm one."""
    account = _account_or_404(request)
    merchants = merchants_active()
    if request.method == "POST":
        terms = fee_schedule_active().offered_terms
        form = CheckoutConfirmForm(request.POST, merchants=merchants, terms=terms)
        if form.is_valid():
            data = form.cleaned_data
            try:
                purchase = purchase_authorize(
                    account=account,
                    merchant=data["merchant"],
                    amount=data["amount"],
                    term=data["term"],
                    idempotency_key=f"portal:{data['idempotency_key']}",
                    now=timezone.now(),
                    description=data["item"],
                )
            except DomainError as exc:
                return _checkout_page(request, account, form, error=exc)
            messages.success(request, _("Purchase confirmed."))
            return redirect("credit:plan", pk=purchase.plan.pk)
        return _checkout_page(request, account, form, status=400)
    form = CheckoutForm(
        request.GET or None,
        merchants=merchants,
        initial={
            "item": _("Wireless earphones"),
            "amount": "1299.00",
            "merchant": merchants.first(),
        },
    )
    return _checkout_page(request, account, form)


def _checkout_page(request, account, form, *, error: DomainError | None = None, status=200):
    quotes, quote_error = [], None
    if form.is_bound and not form.errors.keys() - {"term", "idempotency_key", "__all__"}:
        data = form.cleaned_data
        try:
            quotes = purchase_quotes(
                account=account,
                amount=data["amount"],
                now=timezone.now(),
                merchant=data["merchant"],
            )
        except DomainError as exc:
            quote_error = exc
    confirm = form if isinstance(form, CheckoutConfirmForm) else None
    if quotes and confirm is None:
        confirm = CheckoutConfirmForm(
            initial={**form.cleaned_data, "term": quotes[0].term_months},
            merchants=form.fields["merchant"].queryset,
            terms=[q.term_months for q in quotes],
        )
    refusal = error or quote_error
    return render(
        request,
        "credit/checkout.html",
        {
            "account": account,
            "explanation": account_status_explanation(account),
            "form": form,
            "quotes": quotes,
            "confirm": confirm,
            "error": str(refusal.message) if refusal else "",
        },
        status=refusal.http_status if refusal else status,
    )
