import hashlib
from decimal import Decimal

import factory

from accounts.tests.factories import CustomerProfileFactory
from conftest import shanghai
from credit.models import CreditAccount, Merchant

MERCHANT_API_KEY = "mk_test_0123456789abcdef"


class CreditAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditAccount

    customer = factory.LazyFunction(lambda: CustomerProfileFactory().user)
    base_limit = Decimal("10000.00")
    due_day = 10
    opened_at = factory.LazyFunction(lambda: shanghai(2026, 1, 1, 9, 0))


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"商户{n}")
    api_key_prefix = factory.Sequence(lambda n: f"mk_{n:08d}")
    api_key_hash = factory.LazyFunction(
        lambda: hashlib.sha256(MERCHANT_API_KEY.encode()).hexdigest()
    )
    created_at = factory.LazyFunction(lambda: shanghai(2026, 1, 1, 9, 0))
