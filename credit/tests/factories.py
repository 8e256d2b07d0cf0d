"""Leaf models only: accounts come from testkit.credit.open_account (through the service)."""

import hashlib

import factory

from conftest import shanghai
from credit.models import Merchant

MERCHANT_API_KEY = "mk_test_0123456789abcdef"


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"商户{n}")
    api_key_prefix = factory.Sequence(lambda n: f"mk_{n:08d}")
    api_key_hash = factory.LazyFunction(
        lambda: hashlib.sha256(MERCHANT_API_KEY.encode()).hexdigest()
    )
    created_at = factory.LazyFunction(lambda: shanghai(2026, 1, 1, 9, 0))
