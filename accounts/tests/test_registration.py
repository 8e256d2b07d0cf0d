import pytest
from django.core.exceptions import ValidationError

from accounts.models import CustomerProfile, KycStatus
from accounts.national_id import national_id_hash
from accounts.services import NationalIdTaken, PhoneTaken, customer_register
from accounts.tests.factories import _valid_national_id
from conftest import shanghai

NOW = shanghai(2026, 3, 1, 9, 0)


@pytest.mark.django_db
def test_registering_keeps_only_a_hash_and_the_last_four_digits_of_the_national_id():
    national_id = _valid_national_id(42)
    user = customer_register(
        phone="13900000001",
        password="pw-very-long-1",
        real_name="张三",
        national_id=national_id,
        now=NOW,
    )
    profile = CustomerProfile.objects.get(user=user)
    assert profile.national_id_last4 == national_id[-4:]
    assert profile.national_id_hash == national_id_hash(national_id)
    assert national_id not in profile.national_id_hash
    assert profile.province_code == "31"  # from the ID's first two digits
    assert profile.kyc_status == KycStatus.PENDING


@pytest.mark.django_db
def test_a_national_id_with_a_wrong_check_digit_is_refused():
    good = _valid_national_id(7)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        customer_register(
            phone="13900000002",
            password="pw-very-long-1",
            real_name="李四",
            national_id=bad,
            now=NOW,
        )
    assert exc.value.code == "invalid_national_id"
    assert CustomerProfile.objects.count() == 0


@pytest.mark.django_db
def test_the_same_person_or_number_cannot_register_twice():
    national_id = _valid_national_id(9)
    customer_register(
        phone="13900000003",
        password="pw-very-long-1",
        real_name="王五",
        national_id=national_id,
        now=NOW,
    )
    with pytest.raises(NationalIdTaken):
        customer_register(
            phone="13900000004",
            password="pw-very-long-1",
            real_name="王五",
            national_id=national_id,
            now=NOW,
        )
    with pytest.raises(PhoneTaken):
        customer_register(
            phone="+86 139 0000 0003",
            password="pw-very-long-1",
            real_name="赵六",
            national_id=_valid_national_id(10),
            now=NOW,
        )
