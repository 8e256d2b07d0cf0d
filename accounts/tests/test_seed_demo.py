"""`manage.py seed_demo`: idempotent demo users, one per staff role, and the app contract."""

import sys
import types
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.demo import (
    ADMIN_PHONE,
    CUSTOMER_PHONE,
    DEMO_PASSWORD,
    STAFF_PHONES,
    DemoLogin,
    demo_national_id,
)
from accounts.models import KycStatus, User
from accounts.national_id import normalize_national_id
from accounts.roles import Role
from testkit.credit import launch_fee_schedule


def seed_demo(**options) -> str:
    launch_fee_schedule()  # the demo's purchases need it; a transactional test may have flushed it
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out, **options)
    return out.getvalue()


def _snapshot():
    return sorted(
        (u.phone, u.password, u.is_staff, u.is_superuser, tuple(u.groups.values_list("name")))
        for u in User.objects.all()
    )


@pytest.mark.django_db
def test_seed_demo_twice_creates_nothing_new_and_prints_the_same_logins():
    first = seed_demo()
    before = _snapshot()
    second = seed_demo()
    assert second == first
    # Same users, same password hashes (a new hash would sign everyone out).
    assert _snapshot() == before


@pytest.mark.django_db
def test_seed_demo_creates_one_staff_user_per_role_with_its_group():
    seed_demo()
    for role in Role:
        user = User.objects.get(phone="+86" + STAFF_PHONES[role])
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role.value]
        assert user.check_password(DEMO_PASSWORD)
    assert Group.objects.filter(name__in=[r.value for r in Role]).count() == len(Role)


@pytest.mark.django_db
def test_seed_demo_creates_a_superuser_and_a_verified_customer_whose_logins_work(client):
    output = seed_demo()
    admin = User.objects.get(phone="+86" + ADMIN_PHONE)
    customer = User.objects.get(phone="+86" + CUSTOMER_PHONE)
    assert admin.is_superuser and admin.is_staff
    assert customer.profile.kyc_status == KycStatus.VERIFIED
    assert not customer.is_staff
    for user in (admin, customer):
        assert user.phone.removeprefix("+86") in output
        response = client.post(
            "/accounts/login/",
            {"username": user.phone.removeprefix("+86"), "password": DEMO_PASSWORD},
        )
        assert response.status_code == 302, user
        client.logout()


@pytest.mark.django_db
def test_seed_demo_keeps_a_changed_password_unless_asked_to_reset_the_demo_passwords():
    seed_demo()
    admin = User.objects.get(phone="+86" + ADMIN_PHONE)
    admin.set_password("changed-it-myself")
    admin.save()
    seed_demo()
    admin.refresh_from_db()
    assert admin.check_password("changed-it-myself")
    seed_demo(reset_passwords=True)
    admin.refresh_from_db()
    assert admin.check_password(DEMO_PASSWORD)


def test_demo_national_ids_have_a_valid_check_digit_and_differ():
    ids = {demo_national_id(n) for n in (0, 1, 999, 1000, 123456, 999999)}
    assert len(ids) == 6
    for national_id in ids:
        assert normalize_national_id(national_id) == national_id


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


def _fake_demo_module(monkeypatch, app: str, seed) -> None:
    module = types.ModuleType(f"{app}.demo")
    module.seed = seed
    monkeypatch.setitem(sys.modules, f"{app}.demo", module)


@pytest.mark.django_db
def test_each_apps_demo_seed_runs_after_the_accounts_one_and_its_logins_are_listed(monkeypatch):
    seen = {}

    def seed(*, now):
        seen["now"] = now
        seen["staff_existed"] = User.objects.filter(is_superuser=True).exists()
        return [DemoLogin("Customer (notices demo)", "13600009901", DEMO_PASSWORD, "inbox")]

    _fake_demo_module(monkeypatch, "notifications", seed)
    output = seed_demo()
    assert seen["staff_existed"], "accounts comes first in INSTALLED_APPS"
    assert seen["now"] is not None
    assert output.index("Customer (notices demo)") > output.index("Administrator")


@pytest.mark.django_db
def test_a_failing_app_seed_rolls_back_its_own_writes_and_stops_the_command(monkeypatch):
    def seed(*, now):
        User.objects.create_user("13600000199", "x")
        raise RuntimeError("credit demo is broken")

    _fake_demo_module(monkeypatch, "notifications", seed)
    with pytest.raises(RuntimeError, match="credit demo is broken"):
        seed_demo()
    assert not User.objects.filter(phone="+8613600000199").exists()


@pytest.mark.django_db
def test_two_apps_listing_the_same_demo_phone_are_refused(monkeypatch):
    _fake_demo_module(
        monkeypatch,
        "notifications",
        lambda *, now: [DemoLogin("Customer again", "13600000000", DEMO_PASSWORD)],
    )
    with pytest.raises(CommandError, match="13600000000"):
        seed_demo()
