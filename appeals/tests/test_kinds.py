"""The registry of appeal kinds: complete, keyed by the enum, and the only list anything reads.

A throwaway kind (a disputed purchase), registered by a fixture and gone after the test,
shows that the portal, the API, the link, the labels, eligibility and the staff decision pick
a new kind up from its module alone.
"""

import pkgutil
from importlib import import_module

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.translation import gettext_lazy

from appeals import kinds, services
from appeals.kinds import KINDS, AppealKindKey
from appeals.kinds.base import AppealKind, EffectPlan, row_reference
from appeals.models import Appeal, AppealStatus, AppealType
from appeals.selectors import appeal_target_summary
from appeals.tests.factories import NOW, frozen_appeal, in_review, submit
from appeals.tests.test_admin import action_url, as_
from appeals.tests.test_api import BASE, api_for
from appeals.tests.test_portal import logged_in, render_link
from credit.models import Purchase
from credit.money import ZERO
from testkit import reload
from testkit.credit import buy, open_account
from testkit.people import officer

pytestmark = pytest.mark.django_db

KIND_MODULES = [
    import_module(f"appeals.kinds.{info.name}")
    for info in pkgutil.iter_modules(kinds.__path__)
    if info.name != "base"
]


def test_the_registry_lists_the_kind_of_every_module_exactly_once():
    assert len(KIND_MODULES) == 6
    registered = list(KINDS.values())
    for module in KIND_MODULES:
        assert registered.count(module.KIND) == 1, module.__name__
    assert len(registered) == len(KIND_MODULES)


def test_a_kind_registered_twice_is_refused():
    with pytest.raises(ImproperlyConfigured):
        kinds._registry(*KINDS.values(), KINDS["freeze"])


def test_every_kind_is_keyed_by_the_enum_and_every_key_has_its_kind():
    for key, kind in KINDS.items():
        assert isinstance(kind.key, AppealKindKey) and key == kind.key
    assert set(KINDS) == set(AppealKindKey)


def test_each_appeal_type_means_exactly_one_default_kind():
    for appeal_type in AppealType:
        defaults = [
            k for k in KINDS.values() if k.default_for_type and k.appeal_type == appeal_type
        ]
        assert len(defaults) == 1, appeal_type


def test_no_two_kinds_share_an_appeal_type_and_a_target_model():
    pairs = [(kind.appeal_type, kind.model) for kind in KINDS.values()]
    assert len(set(pairs)) == len(pairs)


# --- a throwaway kind ------------------------------------------------------------------------


class DisputedPurchase(AppealKind):
    key = "disputed_purchase"
    appeal_type = AppealType.REPAYMENT_EXTENSION
    model = Purchase
    label = gettext_lazy("Disputed purchase")
    decision_fields = {"refund_note": forms.CharField(label="Refund note", required=False)}

    def __init__(self):
        self.applied: list[tuple[int, str]] = []

    def refusal(self, purchase, now):
        return "Too small to dispute." if purchase.amount < 100 else None

    def summary(self, purchase):
        return f"Purchase of ¥{purchase.amount}"

    def decision_record(self, appeal, *, refund_note=""):
        self.refund_note = refund_note

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        def apply():
            self.applied.append((target.pk, self.refund_note))
            return row_reference(target)

        return EffectPlan(ZERO, apply)


@pytest.fixture
def disputed(monkeypatch):
    """The throwaway kind, in the registry for this test only."""
    kind = DisputedPurchase()
    monkeypatch.setitem(KINDS, kind.key, kind)
    return kind


@pytest.fixture
def purchase():
    account = open_account()
    return buy(account, "500.00", now=NOW)


def test_the_portal_form_offers_a_registered_kind_and_submits_it(client, disputed, purchase):
    logged_in(client, purchase.account.customer)
    query = {"kind": disputed.key, "target": purchase.pk}

    page = client.get(reverse("appeals:new"), query)
    assert page.status_code == 200
    assert "Disputed purchase" in page.content.decode()

    response = client.post(reverse("appeals:new"), {**query, "reason": "Never delivered."})
    appeal = Appeal.objects.get(customer=purchase.account.customer)
    assert response.status_code == 302
    assert (appeal.type, appeal.target, appeal.account_id) == (
        AppealType.REPAYMENT_EXTENSION,
        purchase,
        purchase.account_id,
    )
    # Old-style links name the kind by its key too (`?disputed_purchase=<id>`).
    assert client.get(reverse("appeals:new"), {disputed.key: purchase.pk}).status_code == 200


def test_a_registered_kind_decides_eligibility_and_ownership(client, disputed):
    small = buy(open_account(), "50.00", now=NOW)
    logged_in(client, small.account.customer)

    refused = client.get(reverse("appeals:new"), {"kind": disputed.key, "target": small.pk})
    assert "Too small to dispute." in refused.content.decode()

    theirs = buy(open_account(), "500.00", now=NOW)
    foreign = client.get(reverse("appeals:new"), {"kind": disputed.key, "target": theirs.pk})
    assert foreign.status_code == 404


def test_the_api_accepts_a_registered_kind(disputed, purchase):
    response = api_for(purchase.account.customer).post(
        BASE, {"kind": disputed.key, "target_id": purchase.pk, "reason": "Never delivered."}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["target_summary"] == "Purchase of ¥500.00"


def test_the_link_and_the_summary_come_from_the_registered_kind(disputed, purchase):
    customer = purchase.account.customer
    link = render_link(customer, disputed.key, purchase)
    assert f"?kind={disputed.key}&amp;target={purchase.pk}" in link
    small = buy(purchase.account, "50.00", now=NOW)
    assert render_link(customer, disputed.key, small).strip() == ""

    appeal = submit(purchase.account, disputed.key, purchase)
    assert appeal_target_summary(appeal) == "Purchase of ¥500.00"
    assert render_link(customer, disputed.key, purchase).strip() == ""


def test_staff_decide_a_registered_kind_with_its_own_inputs_and_its_effect_applies(
    client, disputed, purchase
):
    appeal = submit(purchase.account, disputed.key, purchase)
    reviewer = officer()
    in_review(appeal, reviewer)
    as_(client, reviewer)

    assert 'name="refund_note"' in client.get(action_url("decide", appeal)).content.decode()
    client.post(
        action_url("decide", appeal),
        {"outcome": "APPROVED", "note": "Merchant confirmed.", "refund_note": "full"},
    )

    appeal = reload(appeal)
    assert appeal.status == AppealStatus.APPROVED
    assert appeal.effect_reference == f"credit.purchase:{purchase.pk}"
    assert disputed.applied == [(purchase.pk, "full")]


def test_a_kind_refuses_decision_inputs_it_does_not_take():
    appeal = frozen_appeal()
    with pytest.raises(TypeError):
        services.appeal_decide(
            appeal=appeal,
            actor=officer(),
            outcome=AppealStatus.APPROVED,
            note="ok",
            now=NOW,
            extension_days=10,
        )
