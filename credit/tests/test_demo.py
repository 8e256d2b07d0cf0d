"""The credit demo data: one customer in every state, built through the services, idempotent."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from accounts.demo import STAFF_PHONES
from accounts.demo import seed as seed_accounts
from accounts.models import User
from accounts.roles import Role
from conftest import shanghai
from credit.demo import DEMO_MERCHANT_KEY, seed
from credit.ledger_check import ledger_check
from credit.models import (
    AccountStatus,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    CreditAccount,
    InstallmentStatus,
    LimitChangeKind,
    Refund,
    Repayment,
    TemporaryLimitGrant,
)
from credit.services import account_freeze
from credit.services.approvals import approval_approve
from credit.services.merchants import merchant_authenticate
from testkit import reload
from testkit.credit import launch_fee_schedule, row_counts

pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 11, 25, 18, 30)


@pytest.fixture
def seeded():
    launch_fee_schedule()
    seed_accounts(now=NOW)
    return seed(now=NOW)


def test_there_is_a_customer_in_every_account_state(seeded):
    customers = {login.role: login.phone for login in seeded if login.role.startswith("Customer")}
    assert set(customers) == {f"Customer ({s})" for s in AccountStatus.values}
    for role, phone in customers.items():
        account = CreditAccount.objects.get(customer__phone=f"+86{phone}")
        assert role == f"Customer ({account.status})"


def test_the_histories_are_realistic_and_the_ledger_holds(seeded):
    assert ledger_check().ok, ledger_check().format()
    active = CreditAccount.objects.get(
        status=AccountStatus.ACTIVE, customer__phone__startswith="+86136"
    )
    terms = set(active.purchases.values_list("term_months", flat=True))
    assert terms >= {1, 3, 6, 12}
    assert TemporaryLimitGrant.objects.filter(account=active).exists()
    assert Refund.objects.filter(purchase__account=active).exists()
    assert Repayment.objects.filter(account=active, payoff_plan__isnull=False).exists()
    negative = CreditAccount.objects.get(status=AccountStatus.NEGATIVE)
    assert negative.available < 0
    # A deep staff cut, announced first and confirmed after the cooling-off.
    assert negative.limit_changes.filter(kind=LimitChangeKind.ANNOUNCED_CUT).exists()
    # Late and on-time repayments: some paid after their due date, most before.
    paid = InstallmentStatus.PAID
    late = [
        i
        for i in CreditAccount.objects.get(status=AccountStatus.FROZEN).installments.filter(
            status=paid
        )
        if timezone.localdate(i.paid_at) > i.due_date
    ]
    assert late


def test_nothing_already_due_is_left_unpaid(seeded):
    today = timezone.localdate(NOW)
    for account in CreditAccount.objects.filter(customer__phone__startswith="+86136"):
        assert not account.installments.filter(
            status__in=[InstallmentStatus.PENDING, InstallmentStatus.OVERDUE], due_date__lt=today
        ).exists(), account


def test_seeding_twice_changes_nothing(seeded):
    before = row_counts()
    again = seed(now=NOW)
    assert row_counts() == before
    assert again == seeded


def test_make_run_starts_again_after_a_user_moved_a_demo_account_on(seeded):
    # An ordinary walk through the demo: the risk officer freezes the ACTIVE customer.
    account = CreditAccount.objects.get(customer__phone="+8613600000101")
    account_freeze(account=account, reason="RISK_RULE", now=NOW)
    before = row_counts()

    again = seed(now=NOW + timedelta(hours=1))

    assert row_counts() == before  # the user's doing is kept, nothing re-seeded over it
    assert reload(account).status == AccountStatus.FROZEN
    line = next(login for login in again if login.phone == "13600000101")
    assert line.role == "Customer (FROZEN, seeded ACTIVE)"
    assert "changed in the demo" in line.note


def test_the_demo_merchant_key_authenticates(seeded):
    merchant = merchant_authenticate(DEMO_MERCHANT_KEY)
    assert merchant is not None
    assert any(login.password == DEMO_MERCHANT_KEY for login in seeded)


@pytest.mark.parametrize(
    "now", [shanghai(2027, 1, 31, 23, 50), shanghai(2028, 3, 1, 0, 10), shanghai(2026, 6, 18, 9)]
)
def test_the_states_come_out_right_whatever_the_day_it_is_seeded(now):
    launch_fee_schedule()
    seed_accounts(now=now)
    logins = seed(now=now)  # raises if a customer ends in another state
    assert len([login for login in logins if login.role.startswith("Customer")]) == 5
    today = timezone.localdate(now)
    assert not CreditAccount.objects.filter(
        installments__status__in=[InstallmentStatus.PENDING, InstallmentStatus.OVERDUE],
        installments__due_date__lt=today,
    ).exists()
    assert ledger_check().ok, ledger_check().format()


def staff_user(role: Role) -> User:
    return User.objects.get(phone=f"+86{STAFF_PHONES[role]}")


def test_the_approval_queue_has_the_risk_officers_raise_for_the_risk_manager(seeded):
    """The pain: the demo's approval queue was empty, so four eyes could not be tried."""
    [request] = ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING)
    account = CreditAccount.objects.get(pk=request.target_object_id)
    assert (request.kind, request.maker) == (ApprovalKind.BASE_LIMIT, staff_user(Role.RISK_OFFICER))
    assert account.customer.phone == "+8613600000101"
    assert D(request.payload["new_base_limit"]) > D("20000.00") == account.base_limit
    assert request.expires_at > NOW

    approval_approve(request=request, actor=staff_user(Role.RISK_MANAGER), now=NOW)

    account.refresh_from_db()
    assert account.base_limit == D(request.payload["new_base_limit"])
    before = row_counts()
    assert seed(now=NOW) == seeded  # make run again: the decided request is not asked again
    assert row_counts() == before


def test_an_expired_demo_request_is_asked_again_on_the_next_run(seeded):
    """make run days later: the queue is not left empty by a request nobody decided in time."""
    later = NOW + timedelta(days=10)
    seed(now=later)
    statuses = list(
        ApprovalRequest.objects.order_by("created_at").values_list("status", "created_at")
    )
    assert statuses == [(ApprovalStatus.EXPIRED, NOW), (ApprovalStatus.PENDING, later)]
