"""Personal data in the back office: numbers masked in every list for every role, the full
number only through "Show full number" (permission, reason, one audit row), searches by
number that never put it in a URL."""

import importlib
import re
from urllib.parse import parse_qs

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import PiiField, PiiReveal
from accounts.national_id import national_id_masked
from accounts.phone import phone_masked
from accounts.roles import Role
from accounts.services import RevealReasonMissing, pii_reveal
from accounts.tests.factories import PASSWORD
from appeals.tests.factories import freeze, submit
from core.admin import TokenSearchMixin
from core.permissions import NotPermitted
from credit.risk.models import PhoneChange
from notifications.tests.factories import NotificationFactory, SandboxSmsFactory
from testkit.credit import open_account
from testkit.people import officer, staff

pytestmark = pytest.mark.django_db
MASK_LOG = importlib.import_module("accounts.migrations.0005_mask_numbers_in_admin_log")

PHONE = "+8613600000101"
DIGITS = "13600000101"
MASKED = "136****0101"
REASON = "Calling the customer back about their appeal."


@pytest.fixture(autouse=True)
def english(client, settings):
    """These tests read the English texts (a staff user's preferred language is zh-hans)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def account():
    account = open_account(user__phone=PHONE)
    freeze(account)
    submit(account)  # an appeal in the queue
    NotificationFactory(user=account.customer)
    SandboxSmsFactory(phone=PHONE)
    PhoneChange.objects.create(
        user=account.customer,
        old_phone="+8613600000999",
        new_phone=PHONE,
        changed_at=timezone.now(),
    )
    return account


LISTS = [
    "admin:accounts_user_changelist",
    "admin:accounts_customerprofile_changelist",
    "admin:credit_creditaccount_changelist",
    "admin:notifications_notification_changelist",
    "admin:notifications_sandboxsms_changelist",
    "admin:appeals_appeal_changelist",
    "admin:risk_phonechange_changelist",
]


def test_the_mask_keeps_the_first_three_and_last_four_digits_only():
    assert phone_masked(PHONE) == MASKED
    assert phone_masked("13600000101") == MASKED
    assert national_id_masked("123X") == "**************123X"


@pytest.mark.parametrize(
    ("role", "changelist"),
    [(Role.AUDITOR, url) for url in LISTS]
    # the SMS sandbox is a developer's page: officers do not read it
    + [(Role.RISK_OFFICER, url) for url in LISTS if "sandboxsms" not in url],
)
def test_every_staff_list_shows_numbers_masked(client, account, role, changelist):
    client.force_login(staff(role))

    page = client.get(reverse(changelist))

    assert page.status_code == 200
    html = page.content.decode()
    assert DIGITS not in html
    assert MASKED in html


@pytest.mark.parametrize(
    "change",
    [
        lambda a: reverse("admin:accounts_user_change", args=[a.customer.pk]),
        lambda a: reverse("admin:accounts_customerprofile_change", args=[a.customer.profile.pk]),
        lambda a: reverse("admin:credit_creditaccount_change", args=[a.pk]),
        lambda a: reverse(
            "admin:risk_phonechange_change", args=[a.customer.phone_changes.get().pk]
        ),
    ],
)
def test_change_pages_show_the_number_masked_to_staff_who_are_not_superusers(
    client, account, change
):
    client.force_login(staff(Role.RISK_MANAGER))

    html = client.get(change(account)).content.decode()

    assert DIGITS not in html
    assert MASKED in html


def test_the_profile_shows_the_national_id_tail_masked(client, account):
    client.force_login(staff(Role.AUDITOR))
    last4 = account.customer.profile.national_id_last4

    html = client.get(reverse("admin:accounts_customerprofile_changelist")).content.decode()

    assert national_id_masked(last4) in html


def test_a_superuser_still_edits_the_full_number(client, account):
    client.force_login(staff(is_superuser=True))

    html = client.get(reverse("admin:accounts_user_change", args=[account.customer.pk])).content

    assert f'value="{PHONE}"'.encode() in html


# --- reveal -------------------------------------------------------------------------------------


def reveal_url(user):
    return reverse("admin:accounts_user_reveal", args=[user.pk])


@pytest.mark.parametrize("role", [Role.SUPPORT_AGENT, Role.RISK_OFFICER])
def test_the_roles_that_call_customers_see_the_full_number_with_a_reason_recorded_once(
    client, account, role
):
    agent = staff(role)
    client.force_login(agent)
    change = reverse("admin:accounts_user_change", args=[account.customer.pk])
    assert reveal_url(account.customer) in client.get(change).content.decode()

    shown = client.post(reveal_url(account.customer), {"reason": REASON})

    assert shown.status_code == 200
    assert PHONE in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    record = PiiReveal.objects.get()
    assert (record.actor, record.user, record.field, record.reason) == (
        agent,
        account.customer,
        PiiField.PHONE,
        REASON,
    )


def test_the_credit_account_page_offers_the_reveal_to_an_officer(client, account):
    client.force_login(officer())

    html = client.get(reverse("admin:credit_creditaccount_change", args=[account.pk])).content

    assert reveal_url(account.customer).encode() in html


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.RISK_MANAGER])
def test_without_the_permission_the_button_is_hidden_and_a_post_is_refused(client, account, role):
    client.force_login(staff(role))
    change = reverse("admin:accounts_user_change", args=[account.customer.pk])
    assert reveal_url(account.customer) not in client.get(change).content.decode()

    refused = client.post(reveal_url(account.customer), {"reason": REASON}, follow=True)

    assert DIGITS not in refused.content.decode()
    assert [str(m) for m in refused.context["messages"]] == ["You may not see full mobile numbers."]
    assert not PiiReveal.objects.exists()


def test_a_reveal_needs_a_reason(client, account):
    client.force_login(officer())

    page = client.post(reveal_url(account.customer), {"reason": "because"})

    assert DIGITS not in page.content.decode()
    assert not PiiReveal.objects.exists()


def test_the_service_checks_the_permission_and_the_reason_itself(account):
    now = timezone.now()
    with pytest.raises(NotPermitted):
        pii_reveal(
            actor=staff(Role.AUDITOR), user=account.customer, field="PHONE", reason=REASON, now=now
        )
    with pytest.raises(RevealReasonMissing):
        pii_reveal(actor=officer(), user=account.customer, field="PHONE", reason="  x  ", now=now)
    assert not PiiReveal.objects.exists()


def test_auditors_read_the_reveal_records(client, account):
    pii_reveal(
        actor=officer(), user=account.customer, field="PHONE", reason=REASON, now=timezone.now()
    )
    client.force_login(staff(Role.AUDITOR))

    page = client.get(reverse("admin:accounts_piireveal_changelist"))

    assert REASON in page.content.decode()
    assert DIGITS not in page.content.decode()


# --- searches -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["136 0000 0101", "+86 136-0000-0101", "13600000101"])
@pytest.mark.parametrize(
    "changelist", ["admin:accounts_user_changelist", "admin:credit_creditaccount_changelist"]
)
def test_a_search_by_number_posts_and_redirects_without_the_number(
    client, account, typed, changelist
):
    open_account(user__phone="+8613600000102")  # a neighbour the search must not find
    client.force_login(staff(Role.AUDITOR))
    url = reverse(changelist)
    form = client.get(url).content.decode()
    assert 'id="changelist-search" method="post"' in form

    posted = client.post(reverse("admin-search"), {"q": typed, "changelist": url})

    assert posted.status_code == 302
    path, query = posted["Location"].split("?")
    assert path == url
    params = parse_qs(query)
    assert list(params) == ["_sq"]
    assert "0101" not in params["_sq"][0]
    assert "13600" not in params["_sq"][0]
    results = client.get(posted["Location"])
    assert results.status_code == 200
    assert len(results.context["cl"].result_list) == 1
    html = results.content.decode()
    assert MASKED in html
    assert "136****0102" not in html


def test_the_search_token_is_kept_by_the_list_links_and_a_plain_q_still_works(client, account):
    client.force_login(staff(Role.AUDITOR))
    url = reverse("admin:accounts_user_changelist")
    location = client.post(
        reverse("admin-search"), {"q": DIGITS, "changelist": url, "is_staff__exact": "0"}
    )["Location"]
    assert "is_staff__exact=0" in location

    results = client.get(location)
    links = re.findall(r'href="(\?[^"]*)"', results.content.decode())
    assert links and all(DIGITS not in link for link in links)
    assert any("_sq=" in link for link in links)
    bookmark = client.get(url, {"q": DIGITS})
    assert [u.phone for u in bookmark.context["cl"].result_list] == [PHONE]


def test_every_registered_admin_reads_the_search_token():
    reverse("admin:index")  # the URL configuration installs the mixin
    assert all(isinstance(a, TokenSearchMixin) for a in admin.site._registry.values())


def test_the_migration_masks_numbers_already_in_the_admin_log(account):
    user = account.customer
    kept = LogEntry.objects.create(
        user=staff(is_superuser=True),
        content_type=ContentType.objects.get_for_model(user),
        object_id=str(user.pk),
        object_repr=PHONE,
        action_flag=CHANGE,
    )
    other = LogEntry.objects.create(
        user=kept.user,
        content_type=kept.content_type,
        object_id=str(user.pk),
        object_repr=f"王小明 ({DIGITS}) #12345",
        action_flag=CHANGE,
    )

    MASK_LOG.mask_logged_numbers(django_apps, None)

    kept.refresh_from_db()
    other.refresh_from_db()
    assert kept.object_repr == MASKED
    assert other.object_repr == f"王小明 ({MASKED}) #12345"


@pytest.mark.parametrize("model", ["accessattempt", "accessfailurelog", "accesslog"])
def test_sign_in_records_show_the_number_tried_masked(client, account, model):
    # Failed and successful sign-ins with the customer's number, as axes records them.
    login = reverse("accounts:login")
    client.post(login, {"username": DIGITS, "password": PASSWORD})
    client.logout()
    client.post(login, {"username": DIGITS, "password": "wrong"})
    client.force_login(staff(Role.AUDITOR))
    changelist = client.get(reverse(f"admin:axes_{model}_changelist")).content.decode()
    record = django_apps.get_model("axes", model).objects.get(username__contains=DIGITS)

    change = client.get(reverse(f"admin:axes_{model}_change", args=[record.pk])).content.decode()

    for html in (changelist, change):
        assert DIGITS not in html
        assert MASKED in html


def test_the_admin_header_greets_staff_by_their_masked_number(client):
    member = staff(Role.AUDITOR)
    client.force_login(member)

    html = client.get(reverse("admin:index")).content.decode()

    assert phone_masked(member.phone) in html
    assert member.phone.removeprefix("+86") not in html
