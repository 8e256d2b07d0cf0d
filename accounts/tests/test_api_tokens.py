"""/api/v1/auth/: a customer app gets a token with phone + password (axes counts failures),
uses it as `Token <token>`, and revokes it; staff get none; the database keeps digests only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import LoginEvent
from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory, customer
from testkit.people import staff

pytestmark = pytest.mark.django_db
ISSUE = "/api/v1/auth/token/"
REVOKE = "/api/v1/auth/token/revoke/"
ME = "/api/v1/appeals/"  # any customer endpoint


def issue(phone, password=PASSWORD, **extra):
    return APIClient().post(
        ISSUE,
        {"phone": phone, "password": password, **extra},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_customer_gets_a_token_once_and_the_database_keeps_only_its_digest():
    user = customer(user__phone="+8613800138000")

    response = issue("138 0013 8000", device_name="Pixel 9")

    assert response.status_code == 201, response.json()
    body = response.json()
    token = body["token"]
    assert set(body) == {"token", "token_prefix", "expiry"}
    assert body["token_prefix"] == token[:8]
    row = AuthToken.objects.get(user=user)
    assert row.digest == hash_token(token) != token
    assert row.token_key == token[:15]
    assert row.expiry - timezone.now() > timedelta(days=29, hours=23)
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        assert all(token not in value for value in cursor.fetchone())
    assert bearer(token).get(ME).status_code == 200
    assert LoginEvent.objects.get(user=user).device_id == "Pixel 9"


def test_the_token_lifetime_is_the_setting(settings):
    settings.API_TOKEN_TTL_DAYS = 2
    customer(user__phone="+8613800138000")
    response = issue("13800138000")
    assert response.status_code == 201
    expiry = AuthToken.objects.get().expiry
    assert timedelta(days=1, hours=23) < expiry - timezone.now() <= timedelta(days=2)


def test_a_wrong_password_and_an_unknown_number_get_the_same_answer():
    customer(user__phone="+8613800138000")
    wrong = issue("13800138000", "wrong")
    unknown = issue("13900000000", "wrong")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"
    assert not AuthToken.objects.exists()


def test_after_the_failure_limit_the_number_is_locked_even_for_the_right_password(settings):
    customer(user__phone="+8613800138000")
    answers = [issue("13800138000", "wrong") for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [a.status_code for a in answers[:-1]] == [400] * (settings.AXES_FAILURE_LIMIT - 1)

    locked = issue("+86 138 0013 8000")  # the right password, another form of the number

    for response in (answers[-1], locked):
        assert response.status_code == 429
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "login_locked"
        assert "Too many failed attempts" in response.json()["detail"]
        assert int(response["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)
    assert not AuthToken.objects.exists()


def test_the_lockout_message_is_translated():
    customer(user__phone="+8613800138000")
    for _ in range(5):
        response = APIClient().post(
            ISSUE,
            {"phone": "13800138000", "password": "wrong"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.json()["detail"] == "登录失败次数过多，该手机号已被暂时锁定。"


@pytest.mark.parametrize("role", [*Role, "superuser", "group only"])
def test_no_staff_member_gets_a_token(role):
    if role == "superuser":
        user = UserFactory(is_staff=True, is_superuser=True)
    elif role == "group only":  # in a staff group without the staff flag: still staff
        user = UserFactory()
        user.groups.add(staff(Role.AUDITOR).groups.get())
    else:
        user = staff(role)

    response = issue(user.phone)

    assert response.status_code == 403
    assert response.json()["code"] == "not_a_customer"
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    "path", ["/api/v1/account/", "/api/v1/purchases/", "/api/v1/appeals/", "/api/v1/quotes/"]
)
def test_a_staff_session_from_the_back_office_cannot_use_the_customer_api(path):
    client = APIClient()
    client.force_login(staff(Role.AUDITOR))

    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_an_inactive_user_gets_no_token_and_learns_nothing_about_the_account():
    # Django's ModelBackend never authenticates an inactive user: the same 400 as a wrong
    # password (api_token_issue refuses one too, should another backend let it through).
    user = customer()
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = issue(user.phone)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_credentials")
    assert not AuthToken.objects.exists()


def test_an_expired_token_is_refused_and_deleted():
    user = customer()
    _row, token = AuthToken.objects.create(user, expiry=timedelta(seconds=-1))
    response = bearer(token).get(ME)
    assert response.status_code == 401
    assert not AuthToken.objects.exists()


def test_a_token_stops_working_when_its_owner_becomes_staff():
    user = customer()
    _row, token = AuthToken.objects.create(user)
    assert bearer(token).get(ME).status_code == 200
    type(user).objects.filter(pk=user.pk).update(is_staff=True)
    assert bearer(token).get(ME).status_code == 401


def test_revoking_ends_the_token_of_the_call_only():
    user = customer()
    _one, first = AuthToken.objects.create(user)
    _two, second = AuthToken.objects.create(user)

    response = bearer(first).post(REVOKE, {}, format="json")

    assert response.status_code == 204
    assert bearer(first).get(ME).status_code == 401
    assert bearer(second).get(ME).status_code == 200


def test_revoking_all_ends_every_token_of_the_caller_and_no_one_elses():
    user, other = customer(), customer()
    tokens = [AuthToken.objects.create(user)[1] for _ in range(3)]
    _row, others = AuthToken.objects.create(other)

    response = bearer(tokens[0]).post(REVOKE, {"all": True}, format="json")

    assert response.status_code == 204
    assert [bearer(t).get(ME).status_code for t in tokens] == [401, 401, 401]
    assert bearer(others).get(ME).status_code == 200


def test_revoking_needs_a_token():
    assert APIClient().post(REVOKE, {}, format="json").status_code == 401


def test_token_issuing_is_limited_per_number_in_any_form(settings):
    settings.THROTTLE_TOKEN_PER_PHONE = "3/minute"
    customer(user__phone="+8613800138000")
    for phone in ("13800138000", "+86 138 0013 8000", "0086-138-0013-8000"):
        assert issue(phone, "wrong").status_code == 400

    refused = issue("138 0013 8000")

    assert refused.status_code == 429
    assert refused.json() == {
        "code": "throttled",
        "detail": "Too many requests. Try again in 60 seconds.",
    }
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert issue("13900000000", "wrong").status_code == 400  # another number still may


def test_token_issuing_is_limited_per_address(settings):
    settings.THROTTLE_TOKEN_PER_IP = "3/minute"
    for n in range(3):
        assert issue(f"1390000000{n}", "wrong").status_code == 400
    refused = issue("13900000009", "wrong")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1


def test_a_lock_without_cool_off_is_refused_without_a_retry_time(settings):
    settings.AXES_COOLOFF_TIME = None  # locked until staff unlock the number
    customer(user__phone="+8613800138000")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        issue("13800138000", "wrong")
    locked = issue("13800138000")
    assert (locked.status_code, locked.json()["code"]) == (429, "login_locked")
    assert "Retry-After" not in locked
