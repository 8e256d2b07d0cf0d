"""Issue #12, Must 2 — rules that do not misfire: scenario through the services and the portal."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import login_event_record
from credit.models import AccountStatus
from credit.risk.models import ChallengeStatus, RiskFlag, RiskRule, RuleCode, VerificationChallenge
from credit.risk.rules import flag_clear, rules_ensure, rules_run
from credit.services.errors import VerificationRequired
from notifications.services.dispatch import notifications_dispatch
from testkit import reload
from testkit.credit import OPENED_AT, buy, open_account
from testkit.people import officer, staff

pytestmark = pytest.mark.django_db
OFFICE = "203.0.113.80"


def office_login(user, at, n):
    login_event_record(
        user=user, ip_address=OFFICE, user_agent="Mozilla/5.0", device_id=f"pc-{n}", now=at
    )


def test_a_misfired_shared_ip_rule_asks_for_verification_and_freezes_no_one(client):
    """Pain: five demo customers on one office IP (staff logins counted) were frozen, and a
    cleared false alarm fired again two minutes later on the same logins."""
    now = timezone.now()
    customers = [open_account("5000.00", now=OPENED_AT) for _ in range(5)]
    for n, account in enumerate(customers):
        office_login(account.customer, now - timedelta(minutes=40 - 5 * n), n)
    for n, member in enumerate([staff(), officer(), staff(is_superuser=True)]):
        office_login(member, now - timedelta(minutes=3 + n), 10 + n)

    # At the defaults (20 customers an hour) an office of five raises nothing at all.
    assert rules_run(now=now) == []
    # A risk manager tunes the rule down to 5: still no freeze, and staff do not count.
    rules_ensure()
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(threshold=5)
    (flag,) = rules_run(now=now)
    assert len(flag.evidence["users"]) == 5
    assert all(reload(a).status == AccountStatus.ACTIVE for a in customers)

    # The customer reads the code (sandbox SMS in the demo) and enters it in the portal;
    # meanwhile a small purchase would go through and a large one waits.
    account = customers[0]
    notifications_dispatch(now=now)
    client.force_login(account.customer)
    assert b'data-notice="verification"' in client.get("/").content
    sms = client.get("/notifications/sandbox-sms/").content.decode()
    code = re.search(r"验证码(\d{6})", sms).group(1)
    response = client.post("/credit/verify/", {"code": code})
    assert response.status_code == 302
    challenge = VerificationChallenge.objects.get(account=account)
    assert challenge.status == ChallengeStatus.PASSED
    assert reload(account).status == AccountStatus.ACTIVE

    waiting = customers[2]
    with pytest.raises(VerificationRequired):
        buy(waiting, "800.00")
    buy(waiting, "100.00")

    # The officer clears the false alarm: the other verifications are cancelled, nobody was
    # frozen, and two minutes later the same logins (plus one new) raise nothing.
    flag_clear(flag=flag, actor=officer(), now=now + timedelta(minutes=1), note="office NAT")
    office_login(customers[1].customer, now + timedelta(minutes=2), 1)
    assert rules_run(now=now + timedelta(minutes=3)) == []
    assert RiskFlag.objects.count() == 1
    assert not VerificationChallenge.objects.filter(status=ChallengeStatus.OPEN).exists()
    assert all(reload(a).status == AccountStatus.ACTIVE for a in customers)
    assert all(reload(a).verification_purchase_max is None for a in customers)
