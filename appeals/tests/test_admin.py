"""The staff queue: filters, assign to me, decisions through intermediate pages, permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from appeals import services
from appeals.models import Appeal, AppealStatus
from appeals.tests.factories import cut, freeze, frozen_appeal, in_review, pdf, submit
from credit.models import CreditAccount, LimitChange, LimitChangeKind
from testkit import reload
from testkit.credit import open_account
from testkit.people import manager, officer, staff

pytestmark = pytest.mark.django_db
D = Decimal
CHANGELIST = reverse("admin:appeals_appeal_changelist")


def change_url(appeal):
    return reverse("admin:appeals_appeal_change", args=[appeal.pk])


def action_url(name, appeal):
    return reverse(f"admin:appeals_appeal_{name}", args=[appeal.pk])


def as_(client, user):
    client.force_login(user)
    return client


def real_now_appeal(**kwargs):
    """An appeal submitted by the real clock (the admin's filters read the real time)."""
    return frozen_appeal(now=timezone.now() + kwargs.pop("offset", timedelta()), **kwargs)


def listed(response) -> set[int]:
    return {appeal.pk for appeal in response.context["cl"].result_list}


def test_the_queue_filters_by_type_state_sla_and_reviewer(client, django_assert_max_num_queries):
    reviewer = officer()
    breached = real_now_appeal(offset=-timedelta(hours=49))
    services.appeals_flag_sla_breaches(now=timezone.now())
    due_today = real_now_appeal(offset=-timedelta(hours=47, minutes=59))
    mine = in_review(real_now_appeal(), reviewer, now=timezone.now())
    account = open_account()
    cut_appeal = submit(account, "limit_change", cut(account, "100.00"), now=timezone.now())
    as_(client, reviewer)

    with django_assert_max_num_queries(20):
        everything = client.get(CHANGELIST)
    assert everything.status_code == 200
    assert listed(everything) == {breached.pk, due_today.pk, mine.pk, cut_appeal.pk}
    assert listed(client.get(CHANGELIST, {"sla": "breached"})) == {breached.pk}
    due = listed(client.get(CHANGELIST, {"sla": "due_today"}))
    assert breached.pk not in due
    if timezone.localtime().hour * 60 + timezone.localtime().minute < 23 * 60 + 58:
        assert due_today.pk in due  # (its deadline, a minute away, is still today)
    assert listed(client.get(CHANGELIST, {"reviewer": "me"})) == {mine.pk}
    assert mine.pk not in listed(client.get(CHANGELIST, {"reviewer": "none"}))
    assert listed(client.get(CHANGELIST, {"type__exact": "LIMIT_DECREASE"})) == {cut_appeal.pk}
    assert listed(client.get(CHANGELIST, {"status__exact": "IN_REVIEW"})) == {mine.pk}
    assert "appeal-sla-summary" in everything.content.decode()


def test_the_appeal_page_shows_the_account_beside_it(client, django_assert_max_num_queries):
    account = open_account("10000.00")
    change = cut(account, "4000.00")
    appeal = submit(account, "limit_change", change, files=[pdf("payslip.pdf")])
    as_(client, officer())

    with django_assert_max_num_queries(40):
        page = client.get(change_url(appeal))

    body = page.content.decode()
    assert page.status_code == 200
    assert "account-context" in body and "¥4,000.00" in body and "RESCORE" in body
    assert "payslip.pdf" in body
    assert action_url("decide", appeal) in body


def test_assign_to_me_then_approve_through_the_decision_page(client):
    account = open_account("10000.00")
    appeal = submit(account, "limit_change", cut(account, "4000.00"))
    reviewer = officer()
    as_(client, reviewer)

    client.post(action_url("assign", appeal))
    assert reload(appeal).assigned_to == reviewer

    form = client.get(action_url("decide", appeal))
    assert form.status_code == 200
    response = client.post(
        action_url("decide", appeal), {"outcome": "APPROVED", "note": "Stale data."}
    )

    assert response.status_code == 302
    assert reload(appeal).status == AppealStatus.APPROVED
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("10000.00")
    change = LimitChange.objects.filter(account=account).latest("pk")
    assert (change.kind, change.actor) == (LimitChangeKind.APPEAL, reviewer)


def test_a_decision_without_a_note_or_a_rejection_without_a_reason_is_shown_back(client):
    appeal = frozen_appeal()
    as_(client, officer())

    no_note = client.post(action_url("decide", appeal), {"outcome": "APPROVED", "note": ""})
    no_reason = client.post(
        action_url("decide", appeal), {"outcome": "REJECTED", "note": "internal"}
    )

    assert no_note.status_code == 200 and no_reason.status_code == 200
    assert "Write the reason the customer will read." in no_reason.content.decode()
    assert reload(appeal).status == AppealStatus.SUBMITTED


def test_asking_for_information_through_the_admin(client):
    appeal = frozen_appeal()
    as_(client, officer())
    client.post(action_url("request_info", appeal), {"note": "Which campus?"})
    appeal = reload(appeal)
    assert appeal.status == AppealStatus.NEEDS_INFO
    assert appeal.messages.get().body == "Which campus?"


def test_maker_checker_through_the_admin(client, settings):
    settings.APPEALS_SECOND_APPROVAL_ABOVE = Decimal("1000.00")
    account = open_account("10000.00")
    appeal = submit(account, "limit_change", cut(account, "4000.00"))
    maker, checker = manager(), manager()

    as_(client, maker).post(action_url("decide", appeal), {"outcome": "APPROVED", "note": "ok"})
    assert reload(appeal).status == AppealStatus.AWAITING_CONFIRMATION
    same = client.post(action_url("confirm", appeal), {"note": "me again"})
    assert "different risk manager" in same.content.decode()
    assert reload(appeal).status == AppealStatus.AWAITING_CONFIRMATION

    as_(client, checker).post(action_url("confirm", appeal), {"note": "checked"})
    assert reload(appeal).status == AppealStatus.APPROVED
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("10000.00")


@pytest.mark.parametrize("role", [Role.SUPPORT_AGENT, Role.AUDITOR])
def test_support_and_auditors_see_the_queue_but_cannot_decide(client, role):
    appeal = frozen_appeal()
    as_(client, staff(role))

    assert client.get(CHANGELIST).status_code == 200
    assert client.get(change_url(appeal)).status_code == 200
    for name in ("assign", "decide", "request_info", "confirm"):
        assert (
            client.post(action_url(name, appeal), {"outcome": "APPROVED", "note": "x"}).status_code
            == 403
        )
    assert reload(appeal).status == AppealStatus.SUBMITTED


def test_a_support_agent_writes_to_the_customer(client):
    appeal = frozen_appeal()
    as_(client, staff(Role.SUPPORT_AGENT))
    client.post(action_url("message", appeal), {"body": "We have your appeal."})
    assert appeal.messages.get().body == "We have your appeal."


def test_risk_officer_opens_files_support_agent_cannot(client):
    account = open_account()
    freeze(account)
    appeal = submit(account, "freeze", files=[pdf()])
    url = reverse("appeals:attachment", args=[appeal.pk, appeal.attachments.get().pk])

    assert as_(client, officer()).get(url).status_code == 200
    assert as_(client, staff(Role.SUPPORT_AGENT)).get(url).status_code == 404


def test_the_admin_never_saves_an_appeal_directly(client):
    appeal = frozen_appeal()
    as_(client, manager())
    response = client.post(change_url(appeal), {"status": "APPROVED"})
    assert response.status_code == 403
    assert not Appeal.objects.filter(status=AppealStatus.APPROVED).exists()
    assert client.get(reverse("admin:appeals_appeal_add")).status_code == 403


def test_the_sla_dashboard(client):
    real_now_appeal(offset=-timedelta(hours=49))
    services.appeals_flag_sla_breaches(now=timezone.now())
    as_(client, staff(Role.AUDITOR))
    page = client.get(reverse("admin:appeals_appeal_sla"))
    assert page.status_code == 200
    assert page.context["summary"]["open_breached"] == 1
