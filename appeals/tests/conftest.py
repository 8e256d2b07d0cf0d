import pytest
from django.utils import translation

from testkit.events import capture_events


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Each test stores attachments in its own private folder."""
    location = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


@pytest.fixture
def events():
    """Every event published while the test runs (the outbox's input)."""
    with capture_events() as seen:
        yield seen


@pytest.fixture(autouse=True)
def english(client, settings):
    """These tests read the English texts; the zh-hans catalogue is checked by its own tests.

    The language cookie wins over a signed-in user's preferred language (zh-hans by default).
    """
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield
