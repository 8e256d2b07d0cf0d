"""The channel registry: every channel has an entry, and a new entry is all a channel needs
for dispatch, rendering and the deploy check to serve it."""

import pytest
from django.conf import settings as django_settings

from accounts.tests.factories import UserFactory
from core.events import EventType
from notifications.catalogue import POLICIES
from notifications.channels import CHANNELS, ChannelSpec
from notifications.checks import providers_are_real
from notifications.models import Channel, Notification, NotificationStatus
from notifications.rendering import notice_render, template_path
from notifications.services.dispatch import notifications_dispatch
from notifications.tests.factories import NOW, NotificationFactory
from notifications.tests.providers import RecordingProvider

pytestmark = pytest.mark.django_db

PIGEON = ChannelSpec(
    key="PIGEON_POST",
    address="email",
    provider_setting="NOTIFICATIONS_PIGEON_PROVIDER",
    template_folder="pigeon",
    template_extension="msg",
    subject_max_length=12,
    body_max_length=20,
)


@pytest.fixture
def pigeon(monkeypatch, settings, tmp_path):
    """A throwaway channel: registered, given a provider and a template, removed after."""
    monkeypatch.setitem(CHANNELS, PIGEON.key, PIGEON)
    monkeypatch.setattr(RecordingProvider, "messages", [])
    settings.NOTIFICATIONS_PIGEON_PROVIDER = "notifications.tests.providers.RecordingProvider"
    folder = tmp_path / "notifications" / "pigeon"
    folder.mkdir(parents=True)
    (folder / "limit_cut.en.msg").write_text(
        "Limit changed for you\n"
        "Your limit is now {{ new_limit|money }}, was {{ old_limit|money }}.\n"
    )
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    return PIGEON


def test_the_registry_has_an_entry_for_every_channel_and_nothing_else():
    assert set(CHANNELS) == set(Channel.values)
    for key, spec in CHANNELS.items():
        assert spec.key == key
        assert spec.is_inbox == (spec.provider_setting is None)
        if not spec.is_inbox:
            assert hasattr(django_settings, spec.provider_setting)


def test_each_channel_keeps_its_templates_in_its_own_folder():
    paths = {
        key: template_path(channel=key, template_key="limit_cut", language="en") for key in CHANNELS
    }

    assert paths == {
        Channel.SMS: "notifications/sms/limit_cut.en.txt",
        Channel.EMAIL: "notifications/email/limit_cut.en.txt",
        Channel.IN_APP: "notifications/in_app/limit_cut.en.txt",
    }


def test_a_registered_channel_is_dispatched_to_the_address_its_entry_names(pigeon):
    user = UserFactory(email="pigeon@example.com", preferred_language="en")
    row = NotificationFactory(user=user, channel=pigeon.key, event=EventType.LIMIT_CUT)

    report = notifications_dispatch(now=NOW)

    assert report.sent == 1
    [message] = RecordingProvider.messages
    assert (message.to, message.idempotency_key) == ("pigeon@example.com", str(row.pk))
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == (NotificationStatus.SENT, f"rec-{row.pk}")


def test_rendering_cuts_a_registered_channels_texts_to_its_length_limits(pigeon):
    notice = notice_render(
        channel=pigeon.key,
        template_key="limit_cut",
        language="en",
        context=POLICIES[EventType.LIMIT_CUT].sample,
    )

    assert notice.subject == "Limit chang…"
    assert notice.body == "Your limit is now ¥…"


def test_the_deploy_check_warns_about_each_channel_on_a_sandbox_provider(pigeon, settings):
    settings.NOTIFICATIONS_SMS_PROVIDER = "notifications.providers.http_gateway.HttpSmsGateway"

    warnings = providers_are_real(None)

    assert [(w.id, w.msg.split()[0]) for w in warnings] == [("notifications.W001", pigeon.key)]


def test_the_default_sms_sandbox_draws_the_deploy_warning():
    assert [w.msg.split()[0] for w in providers_are_real(None)] == [Channel.SMS]


def test_a_notice_on_a_channel_named_like_wechat_mp_is_stored():
    row = NotificationFactory(channel="WECHAT_MP", status=NotificationStatus.SENT)

    assert Notification.objects.get(pk=row.pk).channel == "WECHAT_MP"
