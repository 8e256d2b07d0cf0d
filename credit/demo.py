"""Demo data of the credit app: a demo merchant and one customer in every account state.

Called by `manage.py seed_demo` (contract in accounts/management/commands/seed_demo.py).
Each customer's history is built through the services with injected instants in the past —
purchases in several terms, repayments on time and late, a temporary grant, a refund, an
early payoff, limit cuts by the demo risk officer, a staff freeze, a closure — so every
number, audit row, journal entry and notice is what production would have written, and
`manage.py check_ledger` passes on it. Every installment already due is repaid, so the
daily close leaves each customer in the state shown here.

Idempotent: a customer who already has a credit account is left alone; the merchant is
looked up by its key prefix.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.demo import DEMO_PASSWORD, STAFF_PHONES, DemoLogin, customer_ensure, staff_ensure
from accounts.roles import Role
from core.reasons import ReasonCode
from credit.formulas import INSTALLMENT_OPEN
from credit.models import (
    AccountStatus,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    CreditAccount,
    FreezeReason,
    Installment,
    Merchant,
    Purchase,
)
from credit.risk.manual import limit_change_by_staff, limit_cut_announce
from credit.risk.models import PendingLimitDecrease, PendingStatus
from credit.risk.pending import pending_decrease_confirm
from credit.services import (
    account_close,
    account_freeze,
    account_open,
    plan_payoff,
    purchase_authorize,
    purchase_refund,
    repayment_apply,
    temporary_limit_grant,
)
from credit.services.limits import limit_policy_maximum, limit_raise_needs_approval
from credit.services.merchants import merchant_key_hash

D = Decimal

# A well-known key, like the demo passwords: the demo database is for a developer's machine.
DEMO_MERCHANT_NAME = "演示商城 Demo Mall"
DEMO_MERCHANT_PREFIX = "mk_demo0001"
DEMO_MERCHANT_KEY = f"{DEMO_MERCHANT_PREFIX}.demo-merchant-key-not-secret"


def merchant_ensure(*, now: datetime) -> Merchant:
    merchant = Merchant.objects.filter(api_key_prefix=DEMO_MERCHANT_PREFIX).first()
    if merchant is None:
        merchant = Merchant.objects.create(
            name=DEMO_MERCHANT_NAME,
            api_key_prefix=DEMO_MERCHANT_PREFIX,
            api_key_hash=merchant_key_hash(DEMO_MERCHANT_KEY),
            created_at=now,
        )
    return merchant


@dataclass
class History:
    """One customer's story: events at instants in the past, run in time order.

    Repayments are added for every due date before today — on time (two days early) unless
    listed in `late` (six days after) — so nothing is left overdue.
    """

    account: CreditAccount
    merchant: Merchant
    now: datetime
    late: set[date] = field(default_factory=set)
    events: list[tuple[datetime, int, Callable[[datetime], object]]] = field(default_factory=list)
    purchases: dict[str, Purchase] = field(default_factory=dict)

    def at(self, days_ago: float, hour: int = 12) -> datetime:
        day = timezone.localdate(self.now) - timedelta(days=int(days_ago))
        return timezone.make_aware(datetime.combine(day, time(hour)))

    def key(self, what: str) -> str:
        return f"demo:{self.account.pk}:{what}"

    def buy(self, name: str, amount: str, term: int, *, days_ago: int, item: str) -> Purchase:
        """Purchases happen first, when they are declared, so later events can refer to them."""
        self.purchases[name] = purchase_authorize(
            account=self.account,
            merchant=self.merchant,
            amount=D(amount),
            term=term,
            idempotency_key=self.key(f"buy:{name}"),
            description=item,
            merchant_reference=f"DEMO-{self.account.pk}-{name}",
            now=self.at(days_ago, 20),
        )
        return self.purchases[name]

    def then(self, days_ago: int, action: Callable[[datetime], object], hour: int = 11) -> None:
        self.events.append((self.at(days_ago, hour), len(self.events), action))

    def pay_due(self, due: date, when: datetime) -> None:
        owed = sum(
            (
                inst.amount_due
                for inst in Installment.objects.filter(
                    INSTALLMENT_OPEN, account=self.account, due_date__lte=due
                )
            ),
            D("0.00"),
        )
        if owed > 0:
            repayment_apply(
                account=self.account,
                amount=owed,
                idempotency_key=self.key(f"due:{due.isoformat()}"),
                now=when,
            )

    def run(self) -> None:
        today = timezone.localdate(self.now)
        due_dates = sorted(
            set(
                Installment.objects.filter(account=self.account, due_date__lt=today).values_list(
                    "due_date", flat=True
                )
            )
        )
        for due in due_dates:
            offset = timedelta(days=6) if due in self.late else timedelta(days=-2)
            when = timezone.make_aware(datetime.combine(due + offset, time(9)))
            when = min(when, self.now - timedelta(minutes=5))
            self.events.append((when, len(self.events), lambda at, due=due: self.pay_due(due, at)))
        for when, _order, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            action(when)


CUSTOMERS = [
    # phone, name, state shown, due day, base limit, opened days ago
    ("13600000101", "王芳", "ACTIVE", 10, "20000.00", 220),
    ("13600000102", "李娜", "FROZEN", 15, "8000.00", 200),
    ("13600000103", "张伟", "NEGATIVE", 5, "10000.00", 150),
    ("13600000104", "刘洋", "RESTORED", 20, "5000.00", 160),
    ("13600000105", "陈静", "CLOSED", 25, "3000.00", 130),
]

NOTES = {
    "ACTIVE": "purchases in 1, 3, 6 and 12 installments, a 618 temporary limit, a refund, "
    "an early payoff; the risk officer's raise to ¥30,000 waits in /admin/ approval requests "
    "(the risk manager approves it)",
    "FROZEN": "frozen by the risk officer (suspected takeover); one repayment was late",
    "NEGATIVE": "limit cut below what is owed: purchases paused, available shown negative",
    "RESTORED": "went NEGATIVE after a cut, repaid above zero: on probation",
    "CLOSED": "repaid everything and closed the line",
}


def _active(h: History) -> None:
    h.buy("laptop", "6999.00", 12, days_ago=200, item="笔记本电脑")
    h.buy("phone", "2399.00", 6, days_ago=150, item="手机")
    shoes = h.buy("shoes", "899.00", 3, days_ago=100, item="跑鞋 ×2")
    h.buy("books", "168.50", 1, days_ago=40, item="图书")
    h.buy("coffee", "1299.00", 3, days_ago=20, item="咖啡机")
    h.then(
        95,
        lambda at: purchase_refund(
            purchase=shoes,
            amount=D("449.50"),
            idempotency_key=h.key("refund:shoes"),
            merchant_reference="RMA-1",
            now=at,
        ),
    )
    h.then(
        60,
        lambda at: plan_payoff(
            plan=h.purchases["phone"].plan, idempotency_key=h.key("payoff:phone"), now=at
        ),
    )
    h.then(
        10,
        lambda at: temporary_limit_grant(
            account=h.account,
            amount=D("5000.00"),
            starts_at=at,
            ends_at=at + timedelta(days=30),
            campaign="618",
            reason="618 shopping festival",
            now=at,
        ),
    )


def _frozen(h: History, officer) -> None:
    h.buy("tv", "4200.00", 6, days_ago=180, item="电视机")
    h.buy("fridge", "1800.00", 3, days_ago=70, item="冰箱")
    # The TV's second installment was paid six days late (before penalties would matter).
    h.late.add(h.purchases["tv"].plan.installments.get(sequence=2).due_date)
    h.then(
        3,
        lambda at: account_freeze(
            account=h.account,
            reason=FreezeReason.STAFF,
            actor=officer,
            note="Suspected account takeover: password reset and a new device abroad",
            now=at,
        ),
    )


def _staff_cut(
    h: History,
    officer,
    *,
    announced_days_ago: int,
    confirmed_days_ago: int,
    new_base_limit: str,
    reason: str,
    note: str,
) -> None:
    """A deep staff cut: announced (the customer told, with an appeal link), then confirmed
    once the cooling-off is over."""
    h.then(
        announced_days_ago,
        lambda at: limit_cut_announce(
            account=h.account,
            new_base_limit=D(new_base_limit),
            reason_codes=[reason],
            note=note,
            actor=officer,
            now=at,
        ),
    )
    h.then(
        confirmed_days_ago,
        lambda at: pending_decrease_confirm(
            pending=PendingLimitDecrease.objects.get(
                account=h.account, status=PendingStatus.PENDING
            ),
            actor=officer,
            now=at,
            note="Cooling-off over, no appeal",
        ),
    )


def _negative(h: History, officer) -> None:
    h.buy("sofa", "8000.00", 12, days_ago=45, item="沙发")
    h.buy("lamp", "600.00", 3, days_ago=30, item="台灯")
    # A staff cut this deep is announced first and applies after the cooling-off.
    _staff_cut(
        h,
        officer,
        announced_days_ago=12,
        confirmed_days_ago=8,
        new_base_limit="5000.00",
        reason=ReasonCode.HIGH_UTILISATION,
        note="Regional exposure review: limits above 5000 cut for new accounts",
    )


def _restored(h: History, officer) -> None:
    # Restored 25 to 55 days ago, when the first installments were repaid: still on probation.
    h.buy("bike", "3000.00", 3, days_ago=70, item="自行车")
    h.buy("helmet", "300.00", 1, days_ago=69, item="头盔")
    _staff_cut(
        h,
        officer,
        announced_days_ago=69,
        confirmed_days_ago=65,
        new_base_limit="2500.00",
        reason=ReasonCode.SHORT_HISTORY,
        note="New account with a large first purchase",
    )


def _closed(h: History, officer) -> None:
    # The watch's last installment fell due 20 to 48 days ago: all repaid before the closure.
    h.buy("headphones", "500.00", 1, days_ago=127, item="耳机")
    h.buy("watch", "900.00", 3, days_ago=125, item="手表")
    h.then(5, lambda at: account_close(account=h.account, note="customer asked by phone", now=at))


STORIES = {
    "ACTIVE": lambda h, officer: _active(h),
    "FROZEN": _frozen,
    "NEGATIVE": _negative,
    "RESTORED": _restored,
    "CLOSED": _closed,
}


# The demo risk officer asks to raise the ACTIVE customer's base limit above the four-eyes
# threshold, so the back office's approval queue has a request for the risk manager.
RAISE_PHONE, RAISE_FROM, RAISE_TO = "13600000101", D("20000.00"), D("30000.00")


def _raise_request_ensure(*, officer, now: datetime) -> ApprovalRequest | None:
    """One live raise request on the demo account, unless a user already decided one or the
    account has moved on (another limit, another state, a policy that refuses it): then the
    demo leaves it alone, so `make run` starts whatever was done in the back office."""
    account = CreditAccount.objects.get(customer__phone=f"+86{RAISE_PHONE}")
    requests = ApprovalRequest.objects.filter(
        kind=ApprovalKind.BASE_LIMIT,
        target_content_type__app_label="credit",
        target_content_type__model="creditaccount",
        target_object_id=account.pk,
    )
    decided = requests.exclude(status__in=[ApprovalStatus.PENDING, ApprovalStatus.EXPIRED])
    live = requests.filter(status=ApprovalStatus.PENDING, expires_at__gt=now)
    maximum = limit_policy_maximum()
    if (
        decided.exists()
        or live.exists()
        or account.status != AccountStatus.ACTIVE
        or account.base_limit != RAISE_FROM
        or not limit_raise_needs_approval(old=RAISE_FROM, new=RAISE_TO)
        or (maximum is not None and maximum < RAISE_TO)
    ):
        return None
    return limit_change_by_staff(
        account=account,
        new_base_limit=RAISE_TO,
        reason_codes=[ReasonCode.GOOD_HISTORY],
        note="Repays on time for seven months; asked for a higher limit by phone.",
        actor=officer,
        now=now,
    )


def seed(*, now: datetime) -> list[DemoLogin]:
    merchant = merchant_ensure(now=now)
    officer = staff_ensure(phone=STAFF_PHONES[Role.RISK_OFFICER], role=Role.RISK_OFFICER, now=now)
    logins = [
        DemoLogin(
            "Demo merchant (API key →)",
            "-",
            DEMO_MERCHANT_KEY,
            f"{DEMO_MERCHANT_NAME}: header 'Authorization: Api-Key <key>' on /api/v1/merchant/",
        )
    ]
    for phone, name, state, due_day, limit, opened_days_ago in CUSTOMERS:
        opened_at = now - timedelta(days=opened_days_ago)
        user = customer_ensure(phone=phone, real_name=name, now=opened_at)
        created = not CreditAccount.objects.filter(customer=user).exists()
        if created:
            account = account_open(
                customer=user, base_limit=D(limit), due_day=due_day, now=opened_at
            )
            history = History(account=account, merchant=merchant, now=now)
            STORIES[state](history, officer)
            history.run()
        account = CreditAccount.objects.get(customer=user)
        if created and account.status != state:  # the story itself is wrong: a bug here
            raise RuntimeError(f"demo customer {phone} ended {account.status}, not {state}")
        logins.append(_customer_login(phone=phone, name=name, state=state, status=account.status))
    _raise_request_ensure(officer=officer, now=now)
    return logins


def _customer_login(*, phone: str, name: str, state: str, status: str) -> DemoLogin:
    """The customer's line in the logins table. Whatever a user did in the demo since it was
    seeded (froze, repaid, closed the account…) stays as it is; the line says so, and `make
    run` starts again (`make clean-data` starts the demo afresh)."""
    if status == state:
        return DemoLogin(f"Customer ({state})", phone, DEMO_PASSWORD, f"{name}: {NOTES[state]}")
    return DemoLogin(
        f"Customer ({status}, seeded {state})",
        phone,
        DEMO_PASSWORD,
        f"{name}: {status} since it was seeded {state} — changed in the demo",
    )
