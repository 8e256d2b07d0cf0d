"""Customer portal pages: overview, limit history, plan detail and payoff, repay, and the demo
merchant checkout. Server-rendered, no JavaScript needed; one service call per action.

Every id in a URL is looked up inside the signed-in customer's own account (404 otherwise).
"""

import functools

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
from credit.forms import (
    CheckoutConfirmForm,
    CheckoutForm,
    PayoffForm,
    RepayForm,
    VerificationForm,
)
from credit.models import CreditAccount
from credit.money import yuan
from credit.risk.models import ChallengeStatus
from credit.risk.selectors import pending_decreases_announced, verification_open_for
from credit.risk.verification import verification_resend, verification_submit
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
from credit.services.idempotency import PORTAL_PREFIX
from credit.servicing.selectors import accelerations_active

UPCOMING_SHOWN = 6
HISTORY_ON_OVERVIEW = 5


def _account_or_none(request) -> CreditAccount | None:
    return account_for_customer(user=request.user)


def credit_line_required(view):
    """A page about the customer's credit line, called with their account. A customer who has
    none yet is taken to their home page, which says so, rather than to a 404."""

    @login_required
    @functools.wraps(view)
    def with_account(request, *args, **kwargs):
        account = _account_or_none(request)
        if account is None:
            messages.info(request, _("That page is for customers with a credit line."))
            return redirect("portal:home")
        return view(request, account, *args, **kwargs)

    return with_account


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
            "verification": verification_open_for(account=account),
        },
    )


@credit_line_required
def limit_history(request, account):
    page = Paginator(account_history(account=account), 25).get_page(request.GET.get("page"))
    return render(request, "credit/limit_history.html", {"account": account, "page": page})


@credit_line_required
def plan_detail(request, account, pk):
    plan = _found(plan_for_account, account=account, plan_id=pk)
    payoff = plan_payoff_quote(plan=plan, now=timezone.now()) if plan.status == "ACTIVE" else None
    return render(
        request,
        "credit/plan_detail.html",
        {"account": account, "plan": plan, "payoff": payoff, "form": PayoffForm()},
    )


@credit_line_required
@require_POST
def plan_payoff_submit(request, account, pk):
    plan = _found(plan_for_account, account=account, plan_id=pk)
    form = PayoffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please try again."))
        return redirect("credit:plan", pk=plan.pk)
    try:
        repayment = plan_payoff(
            plan=plan,
            idempotency_key=f"{PORTAL_PREFIX}{form.cleaned_data['idempotency_key']}",
            now=timezone.now(),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("credit:plan", pk=plan.pk)
    messages.success(
        request,
        _("Plan paid off: %(amount)s paid, %(saved)s of fees saved.")
        % {"amount": yuan(repayment.amount), "saved": yuan(repayment.fees_waived)},
    )
    return redirect("credit:repayment", pk=repayment.pk)


@credit_line_required
@require_http_methods(["GET", "POST"])
def repay(request, account):
    today = timezone.localdate()
    due_soon = amount_due_by(account=account, on_or_before=today)
    owed = amount_owed_total(account=account, today=today)
    upcoming = installments_upcoming(account=account, limit=UPCOMING_SHOWN)
    suggested = due_soon or (upcoming[0].amount_due if upcoming else None)
    form = RepayForm(request.POST or None, initial={"amount": suggested or ""})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            repayment = repayment_apply(
                account=account,
                amount=form.cleaned_data["amount"],
                idempotency_key=f"{PORTAL_PREFIX}{form.cleaned_data['idempotency_key']}",
                now=timezone.now(),
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            status = exc.http_status
        else:
            messages.success(request, _("Thank you, we received %s.") % yuan(repayment.amount))
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


@credit_line_required
def repayment_detail(request, account, pk):
    repayment = _found(repayment_for_account, account=account, repayment_id=pk)
    return render(
        request, "credit/repayment_detail.html", {"account": account, "repayment": repayment}
    )


@credit_line_required
@require_http_methods(["GET", "POST"])
def checkout(request, account):
    """Demo merchant checkout: pick a shop and price, see every term's quote, confirm one."""
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
                    idempotency_key=f"{PORTAL_PREFIX}{data['idempotency_key']}",
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


_VERIFICATION_OUTCOMES = {
    ChallengeStatus.PASSED: (
        messages.SUCCESS,
        _("Thank you, it is confirmed: your credit line works as before."),
    ),
    ChallengeStatus.FAILED: (
        messages.ERROR,
        _(
            "The code was wrong too many times, so we froze your credit line to protect it. "
            "You can appeal from the banner below, or call customer service 400-000-0000."
        ),
    ),
    ChallengeStatus.EXPIRED: (
        messages.ERROR,
        _(
            "The time to confirm has run out, so we froze your credit line to protect it. "
            "You can appeal from the banner below, or call customer service 400-000-0000."
        ),
    ),
}


@credit_line_required
@require_http_methods(["GET", "POST"])
def verification(request, account):
    """ "Confirm it is you": enter the SMS code a risk rule asked for (or ask for a new one)."""
    form = VerificationForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        try:
            if "resend" in request.POST:
                verification_resend(account=account, now=timezone.now())
                messages.success(
                    request, _("We sent you a new code; the earlier one no longer works.")
                )
                return redirect("credit:verify")
            if form.is_valid():
                challenge = verification_submit(
                    account=account, code=form.cleaned_data["code"], now=timezone.now()
                )
                if challenge.status in _VERIFICATION_OUTCOMES:
                    level, text = _VERIFICATION_OUTCOMES[challenge.status]
                    messages.add_message(request, level, text)
                    return redirect("portal:home")
                left = challenge.max_attempts - challenge.attempts
                error = _("This code is not right. Attempts left: %(n)s.") % {"n": left}
            status = 400
        except DomainError as exc:
            error, status = str(exc.message), exc.http_status
    challenge = verification_open_for(account=account)
    return render(
        request,
        "credit/verification.html",
        {
            "account": account,
            "challenge": challenge,
            "attempts_left": challenge.max_attempts - challenge.attempts if challenge else 0,
            "form": form,
            "error": error,
        },
        status=status,
    )
