"""The customer portal as its customer sees it: a page's HTML, and the status banner in it."""

import re

from django.conf import settings
from django.test import Client


def portal_page(account, path: str = "/", *, language: str = "zh-hans") -> str:
    """The page at `path`, signed in as the account's customer, in `language`; asserts 200."""
    client = Client()
    client.force_login(account.customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def status_banner(page: str) -> str:
    """The status banner's HTML (`<section class="banner …">`)."""
    return re.search(r'<section class="banner.*?</section>', page, re.S).group(0)
