import pytest
from django.urls import reverse

from accounts.models import LoginEvent
from accounts.tests.factories import PASSWORD, customer

LOGIN = reverse("accounts:login")


@pytest.mark.django_db
def test_a_customer_logs_in_with_the_number_in_any_form_and_lands_on_the_portal(client):
    user = customer(user__phone="+8613800138000")
    response = client.post(LOGIN, {"username": "138 0013 8000", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).wsgi_request.user == user


@pytest.mark.django_db
def test_a_malformed_number_on_the_login_page_gets_a_form_error(client):
    response = client.post(LOGIN, {"username": "12345", "password": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "11 digits" in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_password_gets_a_form_error_not_a_crash(client):
    customer(user__phone="+8613800138000")
    response = client.post(
        LOGIN, {"username": "13800138000", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "mobile number or password is incorrect" in response.content.decode()


@pytest.mark.django_db
def test_five_failures_lock_the_number_for_fifteen_minutes_with_a_clear_page(client):
    customer(user__phone="+8613800138000")
    for _ in range(4):
        assert (
            client.post(LOGIN, {"username": "13800138000", "password": "wrong"}).status_code == 200
        )
    locked = client.post(
        LOGIN, {"username": "+86 13800138000", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    # Even the right password is refused while locked.
    again = client.post(LOGIN, {"username": "13800138000", "password": PASSWORD})
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lock_lifts_after_fifteen_minutes(client, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    customer(user__phone="+8613800138000")
    for _ in range(5):
        client.post(LOGIN, {"username": "13800138000", "password": "wrong"})
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    response = client.post(LOGIN, {"username": "13800138000", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_every_login_is_recorded_with_ip_user_agent_hash_and_device(client):
    user = customer(user__phone="+8613800138000")
    client.post(
        LOGIN, {"username": "13800138000", "password": PASSWORD}, HTTP_USER_AGENT="Browser/1.0"
    )
    client.post(reverse("accounts:logout"))
    client.post(
        LOGIN, {"username": "13800138000", "password": PASSWORD}, HTTP_USER_AGENT="Browser/1.0"
    )
    client.cookies.pop("device_id")
    client.post(reverse("accounts:logout"))
    client.post(
        LOGIN, {"username": "13800138000", "password": PASSWORD}, HTTP_USER_AGENT="Browser/1.0"
    )
    events = list(LoginEvent.objects.filter(user=user).order_by("occurred_at", "pk"))
    assert len(events) == 3
    assert events[0].ip_address == "127.0.0.1"
    assert len(events[0].user_agent_hash) == 64 and "Browser" not in events[0].user_agent_hash
    assert events[0].device_id == events[1].device_id != events[2].device_id
    assert [e.is_new_device for e in events] == [False, False, True]


@pytest.mark.django_db
def test_the_language_switch_changes_the_page_and_is_kept_for_the_user(client):
    user = customer()
    client.force_login(user)
    client.post(reverse("accounts:language"), {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.preferred_language == "en"
    assert "My account" in client.get(reverse("portal:home")).content.decode()
    client.post(reverse("accounts:language"), {"language": "zh-hans", "next": "/"})
    assert "我的账户" in client.get(reverse("portal:home")).content.decode()


@pytest.mark.django_db
def test_one_address_trying_many_numbers_is_stopped_with_429(client, settings):
    settings.THROTTLE_LOGIN_PER_IP = "3/minute"
    user = customer(user__phone="+8613800138000")
    for n in range(3):  # a different number each time: axes locks none of them
        response = client.post(LOGIN, {"username": f"1390000000{n}", "password": "x"})
        assert response.status_code == 200

    refused = client.post(
        LOGIN, {"username": "13800138000", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many requests. Try again in" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(LOGIN).status_code == 200
    other = client.post(
        LOGIN, {"username": "13800138000", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert other.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
