import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import User
from accounts.phone import normalize_phone, phone_masked, phones_masked_in


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+8613800138000",
        "86 138 0013 8000",
        "0086-138-0013-8000",
        " +86 (138) 0013-8000 ",
    ],
)
def test_mainland_numbers_in_any_common_form_normalise_to_e164(raw):
    assert normalize_phone(raw) == "+8613800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12800138000",
        "1380013800",
        "138001380001",
        "+85261234567",
        "+1 415 555 0100",
        "1380013800a",
        "+86 0138 0013 8000",
    ],
)
def test_numbers_that_are_not_mainland_mobiles_are_refused_with_a_clear_message(raw):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(raw)
    assert exc.value.code == "invalid_phone"
    with translation.override("en"):
        assert "11 digits" in str(exc.value.messages[0])
    with translation.override("zh-hans"):
        assert "11 位数字" in str(exc.value.messages[0])


def test_masked_number_shows_only_prefix_and_last_four():
    assert phone_masked("+8613800138000") == "138****8000"


@pytest.mark.django_db
def test_users_are_stored_with_the_normalised_number():
    user = User.objects.create_user("138 0013 8000", "pw-123456789")
    assert User.objects.get(pk=user.pk).phone == "+8613800138000"


@pytest.mark.django_db
def test_a_bad_number_is_refused_when_creating_a_user_and_nothing_is_written():
    with pytest.raises(ValidationError):
        User.objects.create_user("12345", "pw-123456789")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_the_database_refuses_a_number_that_bypassed_normalisation():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(phone="13800138000")])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("/admin/?q=13600000101", "/admin/?q=136****0101"),
        ("q=%2B8613600000101&x=1", "q=136****0101&x=1"),
        ("+8613600000101 and 8613600000102", "136****0101 and 136****0102"),
        ("order 213600000101 stays", "order 213600000101 stays"),
        ("12345678901 is not a mobile", "12345678901 is not a mobile"),
    ],
)
def test_numbers_in_free_text_are_masked(text, masked):
    assert phones_masked_in(text) == masked
