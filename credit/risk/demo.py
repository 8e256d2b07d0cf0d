"""Demo data of the risk app: a customer a shared-IP rule asked to verify (not frozen).

Called by `manage.py seed_demo` after the credit app's demo (contract in
accounts/management/commands/seed_demo.py). The customer logged in, with 22 others, from one
carrier-NAT address; the rule (tuned to its default of 20 customers an hour) opened a
verification: the code is in the sandbox SMS, readable by the customer at
/notifications/sandbox-sms/ and entered at /credit/verify/. Idempotent: a customer who
already has a credit account is left alone (after `RISK_VERIFICATION_HOURS` unverified the
expiry task freezes it with VERIFY_TIMEOUT, which the demo then shows instead).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from accounts.demo import DEMO_PASSWORD, DemoLogin, customer_ensure
from credit.models import CreditAccount
from credit.risk.models import RuleCode
from credit.risk.rules import Finding, flag_raise, rules_ensure
from credit.services import account_open

PHONE = "13600000301"
NAME = "赵敏"
NAT_ADDRESS = "198.51.100.23"


def seed(*, now: datetime) -> list[DemoLogin]:
    user = customer_ensure(phone=PHONE, real_name=NAME, now=now - timedelta(days=90))
    if not CreditAccount.objects.filter(customer=user).exists():
        account_open(
            customer=user, base_limit=Decimal("6000.00"), due_day=12, now=now - timedelta(days=90)
        )
        rule = next(r for r in rules_ensure() if r.code == RuleCode.SHARED_IP)
        seen = now - timedelta(minutes=20)
        finding = Finding(
            subject=f"ip:{NAT_ADDRESS}",
            user_ids=[user.pk],
            evidence={
                "ip_address": NAT_ADDRESS,
                "threshold": rule.threshold,
                "window_minutes": rule.window_minutes,
                "note": "demo: 23 customers behind one mobile carrier's NAT within an hour",
                "users": [user.pk],
            },
            last_seen_at=seen,
        )
        flag_raise(rule=rule, finding=finding, now=seen)
    return [
        DemoLogin(
            "Customer (asked to verify)",
            PHONE,
            DEMO_PASSWORD,
            f"{NAME}: a shared-IP rule asked for an SMS code instead of freezing; read it at "
            "/notifications/sandbox-sms/, enter it at /credit/verify/",
        )
    ]
