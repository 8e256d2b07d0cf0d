"""Must 6 of issue #12: each freeze reason has its own appeal; approving it lifts that reason
only, and the record, the account and the customer's notice agree on what is left."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from appeals import services
from appeals.errors import AppealAlreadyOpen, AppealTargetNotEligible, DecisionNotApplicable
from appeals.models import Appeal, AppealStatus
from appeals.tests.factories import NOW, submit
from appeals.tests.test_api import BASE, api_for
from appeals.tests.test_decisions_agree import DECIDE_AT, approve, decided_notice, texts
from credit.models import AccountStatus, DecisionReversal, FreezeReason, ReversedDecision
from credit.services import account_freeze, account_unfreeze
from testkit import reload
from testkit.credit import open_account
from testkit.people import officer

pytestmark = pytest.mark.django_db
D = Decimal
FROZEN_AT = NOW - timedelta(days=1)


def frozen_for(*reasons, limit="10000.00"):
    account = open_account(limit)
    for reason in reasons:
        account_freeze(account=account, reason=reason, now=FROZEN_AT)
    return reload(account)


def appeal_of(account, freeze_reason, **kwargs):
    return services.appeal_submit(
        customer=account.customer,
        kind="freeze",
        target_id=account.pk,
        reason="The rule misfired: I share a campus network.",
        now=NOW,
        freeze_reason=freeze_reason,
        **kwargs,
    )


def overview(account, language="en") -> str:
    client = Client()
    client.force_login(account.customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get("/").content.decode()


def test_approving_one_reason_lifts_only_it_and_record_account_and_notice_agree(events):
    """The pain: one approved freeze appeal lifted every reason, a real one too."""
    account = frozen_for(FreezeReason.SHARED_IP, FreezeReason.STAFF)
    appeal = appeal_of(account, FreezeReason.SHARED_IP)
    assert appeal.freeze_reason == FreezeReason.SHARED_IP

    appeal = approve(appeal)

    account = reload(account)
    assert (account.status, account.freeze_reasons) == (AccountStatus.FROZEN, ["STAFF"])
    reversal = DecisionReversal.objects.get(account=account)
    assert (reversal.decision, reversal.freeze_reason) == (ReversedDecision.FREEZE, "SHARED_IP")
    assert reversal.source_ref == f"appeals.appeal:{appeal.pk}"
    assert reversal.status_after == AccountStatus.FROZEN
    assert appeal.restored_amount == D("0.00")  # still frozen: nothing usable came back yet
    notice = decided_notice(events, appeal)
    assert notice["effect"] == "UNFROZEN" and notice["account_status"] == AccountStatus.FROZEN
    words = texts(notice)
    assert "stays frozen for its other reasons" in words["en"] and "unfrozen" not in words["en"]
    assert "仍处于冻结状态" in words["zh-hans"]


def test_the_other_reasons_link_still_works_and_its_approval_unfreezes(events):
    account = frozen_for(FreezeReason.SHARED_IP, FreezeReason.STAFF)
    approve(appeal_of(account, FreezeReason.SHARED_IP))
    page = overview(reload(account))
    assert "freeze_reason=STAFF" in page and "freeze_reason=SHARED_IP" not in page

    appeal = approve(appeal_of(reload(account), FreezeReason.STAFF))

    account = reload(account)
    assert (account.status, account.freeze_reasons) == (AccountStatus.ACTIVE, [])
    assert appeal.restored_amount == account.effective_limit == D("10000.00")
    assert [r.freeze_reason for r in DecisionReversal.objects.order_by("pk")] == [
        "SHARED_IP",
        "STAFF",
    ]
    notices = [e for e in events if e.event == "APPEAL_DECIDED"]
    assert "Your credit line is unfrozen." in texts(notices[-1].context)["en"]


def test_each_reason_may_have_its_own_open_appeal_but_not_two():
    account = frozen_for(FreezeReason.SHARED_IP, FreezeReason.STAFF)
    first = appeal_of(account, FreezeReason.SHARED_IP)
    second = appeal_of(account, FreezeReason.STAFF)
    assert {first.freeze_reason, second.freeze_reason} == {"SHARED_IP", "STAFF"}
    with pytest.raises(AppealAlreadyOpen):
        appeal_of(account, FreezeReason.SHARED_IP)
    # Its banner link is gone while it is open; the other cause's appeal is open too.
    page = overview(account)
    assert "freeze_reason=" not in page


def test_an_overdue_reason_is_repaid_not_appealed_and_an_appeal_of_another_leaves_it(events):
    account = frozen_for(FreezeReason.OVERDUE, FreezeReason.SHARED_IP)
    with pytest.raises(AppealTargetNotEligible) as refused:
        appeal_of(account, FreezeReason.OVERDUE)
    assert "lifted by repaying them" in str(refused.value.message)

    approve(appeal_of(account, FreezeReason.SHARED_IP))

    account = reload(account)
    assert (account.status, account.freeze_reasons) == (AccountStatus.FROZEN, ["OVERDUE"])


def test_a_reason_no_longer_in_force_is_refused_in_both_languages(client):
    account = frozen_for(FreezeReason.STAFF)
    with pytest.raises(AppealTargetNotEligible):
        appeal_of(account, FreezeReason.SHARED_IP)
    assert not Appeal.objects.exists()

    client.force_login(account.customer)
    link = {"kind": "freeze", "target": account.pk, "freeze_reason": "SHARED_IP"}
    for language, words in (("en", "no longer frozen for this reason"), ("zh-hans", "无需申诉")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        body = client.get(reverse("appeals:new"), link).content.decode()
        assert words in body and 'name="reason"' not in body


def test_the_form_names_the_reason_and_the_submission_keeps_it(client):
    account = frozen_for(FreezeReason.SHARED_IP, FreezeReason.STAFF)
    client.force_login(account.customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    link = {"kind": "freeze", "target": account.pk, "freeze_reason": "STAFF"}

    form = client.get(reverse("appeals:new"), link).content.decode()
    assert "Staff decision" in form and 'name="freeze_reason" value="STAFF"' in form
    client.post(reverse("appeals:new"), {**link, "reason": "Nobody called me before."})

    appeal = Appeal.objects.get()
    assert appeal.freeze_reason == FreezeReason.STAFF
    detail = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "the freeze reason appealed: Staff decision" in detail


def test_a_link_without_a_reason_takes_the_only_appealable_one_or_asks_to_choose():
    account = frozen_for(FreezeReason.OVERDUE, FreezeReason.RISK_RULE)
    assert submit(account, "freeze").freeze_reason == FreezeReason.RISK_RULE

    several = frozen_for(FreezeReason.SHARED_IP, FreezeReason.STAFF)
    with pytest.raises(AppealTargetNotEligible) as refused:
        submit(several, "freeze")
    assert "more than one reason" in str(refused.value.message)
    with translation.override("zh-hans"), pytest.raises(AppealTargetNotEligible) as refused:
        submit(several, "freeze")
    assert "分别申诉" in str(refused.value.message)


def test_a_reason_lifted_while_the_appeal_waits_cannot_be_approved():
    account = frozen_for(FreezeReason.SHARED_IP, FreezeReason.STAFF)
    appeal = appeal_of(account, FreezeReason.SHARED_IP)
    account_unfreeze(account=account, now=NOW, only_reason=FreezeReason.SHARED_IP)

    with pytest.raises(DecisionNotApplicable) as refused:
        services.appeal_decide(
            appeal=appeal,
            actor=officer(),
            outcome=AppealStatus.APPROVED,
            note="Checked.",
            now=DECIDE_AT,
        )
    assert "Shared network address" in str(refused.value.message)
    assert reload(appeal).status != AppealStatus.APPROVED
    assert reload(account).freeze_reasons == ["STAFF"]
    assert not DecisionReversal.objects.exists()


def test_the_api_names_the_reason_in_each_causes_link_and_takes_it_on_submission():
    account = frozen_for(FreezeReason.SHARED_IP, FreezeReason.STAFF)
    api = api_for(account.customer)
    causes = api.get("/api/v1/account/").json()["status"]["causes"]
    assert [c["appeal_url"].split("freeze_reason=")[1] for c in causes] == ["SHARED_IP", "STAFF"]

    response = api.post(
        BASE,
        {"kind": "freeze", "target_id": account.pk, "freeze_reason": "STAFF", "reason": "x"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["freeze_reason"] == "STAFF"
    refused = api.post(
        BASE,
        {"kind": "freeze", "target_id": account.pk, "freeze_reason": "RISK_RULE", "reason": "x"},
        format="json",
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "appeal_target_not_eligible")
