import factory

from accounts.models import CustomerProfile, KycStatus, User
from accounts.national_id import national_id_check_char, national_id_hash

PASSWORD = "correct-horse-battery"


def _valid_national_id(n: int) -> str:
    """A syntactically valid 18-character ID (Shanghai, born 1990) with the right check digit."""
    body = f"310101199001{n % 10**5:05d}"[:17].ljust(17, "0")
    return body + national_id_check_char(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerProfile

    user = factory.SubFactory(UserFactory)
    real_name = factory.Sequence(lambda n: f"客户{n}")
    national_id_last4 = factory.LazyAttribute(lambda o: o.national_id[-4:])
    national_id_hash = factory.LazyAttribute(lambda o: national_id_hash(o.national_id))
    province_code = "31"
    kyc_status = KycStatus.VERIFIED

    class Params:
        national_id = factory.Sequence(_valid_national_id)


def customer(**kwargs) -> User:
    """A customer login with a verified profile."""
    return CustomerProfileFactory(**kwargs).user
