"""Staff second factor (django-otp TOTP): with ADMIN_REQUIRE_OTP on, no admin page opens on a
password alone; enrolment once; a superuser's audited reset. The customer portal is unchanged."""

import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecondFactorReset
from accounts.roles import Role
from accounts.services import second_factor_reset
from conftest import ROOT, subprocess_env
from core.permissions import NotPermitted
from testkit.people import staff

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")
VERIFY = reverse("accounts:second_factor_verify")
ENROL = reverse("accounts:second_factor_enrol")


@pytest.fixture(autouse=True)
def otp_required(client, settings):
    settings.ADMIN_REQUIRE_OTP = True
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the English texts, unless a test asks


def code(device, offset=0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def enrolled(role=Role.SUPPORT_AGENT, **kwargs):
    user = staff(role, **kwargs)
    return user, TOTPDevice.objects.create(user=user, name="admin", confirmed=True)


def test_a_staff_member_signed_in_with_a_password_only_is_sent_to_the_code_page(client):
    user, _device = enrolled()
    client.force_login(user)

    response = client.get(ADMIN)

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fadmin%2F"


def test_a_valid_code_opens_the_admin(client):
    user, device = enrolled()
    client.force_login(user)

    verified = client.post(VERIFY, {"token": code(device), "next": ADMIN})

    assert verified.status_code == 302
    assert verified["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_a_wrong_code_is_refused(client):
    user, device = enrolled()
    client.force_login(user)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"

    refused = client.post(VERIFY, {"token": wrong, "next": ADMIN})

    assert refused.status_code == 200
    assert "not right" in refused.content.decode()
    assert client.get(ADMIN).status_code == 302


def test_without_a_device_staff_enrol_with_a_qr_code_and_a_first_code(client):
    user = staff(Role.AUDITOR)
    client.force_login(user)
    assert client.get(ADMIN)["Location"].startswith(ENROL)

    page = client.get(ENROL)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert page.context["secret"]

    confirmed = client.post(ENROL, {"token": code(device), "next": ADMIN})

    assert confirmed["Location"] == ADMIN
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(ADMIN).status_code == 200


def test_enrolment_is_closed_once_a_device_is_confirmed(client):
    user, _device = enrolled()
    client.force_login(user)

    response = client.get(ENROL)

    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_the_setting_off_leaves_the_admin_on_a_password(client, settings):
    settings.ADMIN_REQUIRE_OTP = False
    user, _device = enrolled()
    client.force_login(user)

    assert client.get(ADMIN).status_code == 200


def test_the_customer_portal_is_unchanged(client):
    user, _device = enrolled()
    client.force_login(user)

    assert client.get(reverse("accounts:profile")).status_code == 200


def test_a_superuser_resets_a_second_factor_and_it_is_recorded(client):
    boss, boss_device = enrolled(is_superuser=True)
    agent, _device = enrolled()
    client.force_login(boss)
    client.post(VERIFY, {"token": code(boss_device), "next": ADMIN})

    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [agent.pk]},
    )

    assert not TOTPDevice.objects.filter(user=agent).exists()
    reset = SecondFactorReset.objects.get()
    assert (reset.actor, reset.user, reset.devices_removed) == (boss, agent, 1)


def test_only_a_superuser_may_reset_a_second_factor():
    agent, _device = enrolled()
    with pytest.raises(NotPermitted):
        second_factor_reset(actor=staff(Role.RISK_MANAGER), user=agent, now=timezone.now())
    assert TOTPDevice.objects.filter(user=agent).exists()
    assert not SecondFactorReset.objects.exists()


def test_production_settings_require_the_second_factor():
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="example.com",
    )
    env.pop("ADMIN_REQUIRE_OTP", None)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.ADMIN_REQUIRE_OTP)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip().splitlines()[-1] == "True"


def test_the_code_page_is_translated(client, settings):
    user, _device = enrolled()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    page = client.get(VERIFY)

    assert "请输入身份验证器应用为本站显示的六位验证码。" in page.content.decode()
