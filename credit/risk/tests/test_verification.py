"""Verification instead of a freeze: the SMS code, its attempts and deadline, the purchase gate
meanwhile (services and the customer API), and the portal page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import LoginEvent
from credit.models import AccountStatus, FreezeReason
from credit.risk.errors import (
    VerificationCodeInvalid,
    VerificationNotOpen,
    VerificationResendsExhausted,
)
from credit.risk.models import (
    ChallengeStatus,
    FlagStatus,
    RiskRule,
    RuleCode,
    VerificationChallenge,
)
from credit.risk.rules import rules_ensure, rules_run
from credit.risk.verification import (
    verification_resend,
    verification_submit,
    verifications_expire,
)
from credit.services.errors import VerificationRequired
from credit.tests.apikit import customer_client, new_key, shop
from notifications.models import SandboxSms
from testkit import reload
from testkit.credit import OPENED_AT, buy, open_account, row_counts
from testkit.events import capture_events

pytestmark = pytest.mark.django_db
D = Decimal


def asked_to_verify(n: int = 2, *, now):
    """`n` accounts flagged by the shared-IP rule (threshold `n`), each asked to verify; the
    accounts and the code each customer received."""
    rules_ensure()
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(threshold=n)
    accounts = [open_account(now=OPENED_AT) for _ in range(n)]
    for k, account in enumerate(accounts):
        LoginEvent.objects.create(
            user=account.customer,
            ip_address="203.0.113.9",
            user_agent_hash="ua",
            device_id=f"d{k}",
            occurred_at=now - timedelta(minutes=k + 1),
        )
    with capture_events() as events:
        rules_run(now=now)
    codes = {e.user_id: e.context["code"] for e in events if e.event == "VERIFICATION_CODE"}
    return accounts, [codes[a.customer_id] for a in accounts]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture
def verifying(now):
    (account, _other), (code, _code) = asked_to_verify(now=now)
    return account, code


def test_the_right_code_closes_the_verification_and_leaves_the_account_untouched(verifying, now):
    account, code = verifying
    challenge = verification_submit(account=account, code=wrong(code), now=now)
    assert (challenge.status, challenge.attempts) == (ChallengeStatus.OPEN, 1)
    with capture_events() as events:
        challenge = verification_submit(account=account, code=f" {code} ", now=now)
    assert (challenge.status, challenge.closed_at) == (ChallengeStatus.PASSED, now)
    assert challenge.flag.status == FlagStatus.OPEN  # still for staff to review
    account = reload(account)
    assert (account.status, account.verification_purchase_max) == (AccountStatus.ACTIVE, None)
    assert events == []
    with pytest.raises(VerificationNotOpen):
        verification_submit(account=account, code=code, now=now)


def test_only_the_code_hash_is_stored(verifying):
    account, code = verifying
    stored = VerificationChallenge.objects.get(account=account).code_hash
    assert code not in stored and len(stored) == 64


def test_too_many_wrong_codes_freeze_the_account_with_a_reason(verifying, now):
    account, code = verifying
    for attempt in range(1, 5):
        challenge = verification_submit(account=account, code=wrong(code), now=now)
        assert (challenge.status, challenge.attempts) == (ChallengeStatus.OPEN, attempt)
    with capture_events() as events:
        challenge = verification_submit(account=account, code=wrong(code), now=now)
    assert (challenge.status, challenge.attempts) == (ChallengeStatus.FAILED, 5)
    account = reload(account)
    assert (account.status, account.freeze_reasons, account.status_reason_codes) == (
        AccountStatus.FROZEN,
        [FreezeReason.VERIFY_FAILED],
        ["VERIFICATION_FAILED"],
    )
    assert account.verification_purchase_max is None
    assert [e.event for e in events] == ["ACCOUNT_FROZEN"]
    with pytest.raises(VerificationNotOpen):  # the right code comes too late
        verification_submit(account=account, code=code, now=now)


def test_a_code_that_is_not_six_digits_costs_no_attempt(verifying, now):
    account, _code = verifying
    for bad in ("", "12345", "1234567", "12a456"):
        with pytest.raises(VerificationCodeInvalid):
            verification_submit(account=account, code=bad, now=now)
    assert VerificationChallenge.objects.get(account=account).attempts == 0


@override_settings(RISK_VERIFICATION_HOURS=2)
def test_a_verification_not_done_in_time_freezes_the_account_once(now):
    (account, other), (_code, other_code) = asked_to_verify(now=now)
    verification_submit(account=other, code=other_code, now=now + timedelta(hours=1))
    assert verifications_expire(now=now + timedelta(hours=2) - timedelta(seconds=1)) == 0
    assert verifications_expire(now=now + timedelta(hours=2)) == 1
    assert verifications_expire(now=now + timedelta(hours=3)) == 0  # idempotent
    challenge = VerificationChallenge.objects.get(account=account)
    assert challenge.status == ChallengeStatus.EXPIRED
    account = reload(account)
    assert (account.status, account.freeze_reasons, account.status_reason_codes) == (
        AccountStatus.FROZEN,
        [FreezeReason.VERIFY_TIMEOUT],
        ["VERIFICATION_TIMEOUT"],
    )
    assert reload(other).status == AccountStatus.ACTIVE


def test_a_code_entered_after_the_deadline_expires_the_verification(verifying, now):
    account, code = verifying
    challenge = verification_submit(account=account, code=code, now=now + timedelta(hours=24))
    assert challenge.status == ChallengeStatus.EXPIRED
    assert reload(account).freeze_reasons == [FreezeReason.VERIFY_TIMEOUT]


def test_a_new_code_replaces_the_old_one_a_few_times_at_most(verifying, now):
    account, old = verifying
    with capture_events() as events:
        verification_resend(account=account, now=now)
    (event,) = events
    new = event.context["code"]
    assert event.dedupe_key.endswith(":code:2")
    if new != old:
        assert verification_submit(account=account, code=old, now=now).attempts == 1
    assert verification_submit(account=account, code=new, now=now).status == "PASSED"


def test_resends_are_limited(verifying, now):
    account, _code = verifying
    for _ in range(3):
        verification_resend(account=account, now=now)
    with pytest.raises(VerificationResendsExhausted):
        verification_resend(account=account, now=now)


def test_the_database_holds_one_open_verification_per_account(verifying, now):
    account, _code = verifying
    challenge = VerificationChallenge.objects.get(account=account)
    challenge.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        challenge.save()


def test_a_second_rule_does_not_open_a_second_verification(verifying, now):
    account, _code = verifying
    rules_ensure()
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(threshold=2)
    second = open_account(now=OPENED_AT)
    for user in (account.customer, second.customer):
        LoginEvent.objects.create(
            user=user,
            ip_address="198.51.100.4",
            user_agent_hash="ua",
            device_id="x",
            occurred_at=now,
        )
    rules_run(now=now + timedelta(minutes=1))
    assert VerificationChallenge.objects.filter(account=account).count() == 1
    assert VerificationChallenge.objects.filter(account=second).count() == 1


# --- purchases wait above the small amount -------------------------------------------------


def test_a_purchase_above_the_small_amount_waits_and_a_smaller_one_goes_through(verifying, now):
    account, code = verifying
    merchant, _key = shop()
    before = row_counts()
    with pytest.raises(VerificationRequired) as refused:
        buy(account, "500.01", merchant=merchant)
    assert refused.value.code == "verification_required" and "500" in str(refused.value.message)
    assert row_counts() == before
    buy(account, "500.00")
    verification_submit(account=account, code=code, now=now)
    buy(account, "3000.00")
    assert reload(account).outstanding_principal == D("3500.00")


def test_the_api_refuses_a_large_purchase_with_a_stable_code_in_both_languages(verifying, now):
    account, code = verifying
    merchant, _key = shop()
    api = customer_client(account.customer)
    data = {"merchant_id": merchant.pk, "amount": "800.00", "term": 3}
    before = row_counts()
    zh = api.post("/api/v1/purchases/", data, format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert zh.status_code == 403
    assert zh.json()["code"] == "verification_required"
    assert "确认是您本人" in zh.json()["detail"]
    account.customer.preferred_language = "en"
    account.customer.save(update_fields=["preferred_language"])
    en = api.post("/api/v1/purchases/", data, format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert en.status_code == 403 and "Confirm it is you" in en.json()["detail"]
    assert api.get("/api/v1/account/").json()["verification_purchase_max"] == "500.00"
    assert row_counts() == before
    small = {**data, "amount": "200.00"}
    ok = api.post("/api/v1/purchases/", small, format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert ok.status_code == 201, ok.content
    verification_submit(account=account, code=code, now=now)
    assert api.get("/api/v1/account/").json()["verification_purchase_max"] is None
    ok = api.post("/api/v1/purchases/", data, format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert ok.status_code == 201, ok.content


# --- the portal ------------------------------------------------------------------------------


def test_the_overview_links_to_the_page_where_the_customer_enters_the_code(client):
    (account, _other), (code, _code) = asked_to_verify(now=timezone.now())
    client.force_login(account.customer)
    overview = client.get("/")
    assert b'data-notice="verification"' in overview.content
    assert "/credit/verify/" in overview.content.decode()
    assert "请确认是您本人" in overview.content.decode()

    page = client.get("/credit/verify/")
    assert page.status_code == 200 and "确认是您本人" in page.content.decode()
    assert b"data-sandbox-hint" in page.content
    account.customer.preferred_language = "en"
    account.customer.save(update_fields=["preferred_language"])
    bad = client.post("/credit/verify/", {"code": wrong(code)})
    assert bad.status_code == 400 and b"Attempts left: 4" in bad.content
    good = client.post("/credit/verify/", {"code": code}, follow=True)
    assert good.redirect_chain[-1][0] == "/"
    assert b'data-notice="verification"' not in good.content
    assert VerificationChallenge.objects.get(account=account).status == ChallengeStatus.PASSED
    assert client.get("/credit/verify/").status_code == 200  # nothing to confirm


def test_a_failed_verification_in_the_portal_shows_the_freeze_and_an_appeal_link(client):
    (account, _other), (code, _code) = asked_to_verify(now=timezone.now())
    client.force_login(account.customer)
    for _ in range(4):
        client.post("/credit/verify/", {"code": wrong(code)})
    last = client.post("/credit/verify/", {"code": wrong(code)}, follow=True)
    assert reload(account).status == AccountStatus.FROZEN
    assert b'data-status="FROZEN"' in last.content
    assert b"/appeals/new/" in last.content


def test_the_demo_customer_can_read_the_sandbox_sms(client):
    account = open_account(now=OPENED_AT)
    SandboxSms.objects.create(
        idempotency_key="k1",
        message_id="sbx-1",
        phone=account.customer.phone,
        text="【信用付】验证码123456",
        segments=1,
        created_at=timezone.now(),
        last_called_at=timezone.now(),
    )
    client.force_login(account.customer)
    page = client.get("/notifications/sandbox-sms/")
    assert page.status_code == 200 and "验证码123456" in page.content.decode()
    with override_settings(
        NOTIFICATIONS_SMS_PROVIDER="notifications.providers.http_gateway.HttpSmsGateway"
    ):
        assert client.get("/notifications/sandbox-sms/").status_code == 404
