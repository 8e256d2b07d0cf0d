"""The notification channels: the one place that says what each channel is.

Each `Channel` has one `ChannelSpec`: where its recipient's address comes from (a `User`
field, or none for the in-app inbox, whose rows are delivered by being written), which
setting names its provider, where its templates live, how its text is shaped and how long
it may be, and which pacing rules (quiet hours, a daily cap) hold it back. Enqueue,
dispatch, rendering, the catalogue and the deploy checks read this table instead of
testing channel names, so a new channel is a `Channel` member, an entry here, a provider
and its templates (see docs/notifications.md, "Adding a channel").
"""

from dataclasses import dataclass

from notifications.models import Channel


@dataclass(frozen=True)
class ChannelSpec:
    key: str
    # The `User` field holding the recipient's address; None: the in-app inbox.
    address: str | None
    # The setting holding the dotted path of the channel's `Provider` (None for the inbox).
    provider_setting: str | None
    # Templates: notifications/<template_folder>/<template_key>.<language>.<extension>
    template_folder: str
    template_extension: str = "txt"
    # The text's first line is its subject (title); otherwise the text is one line.
    has_subject: bool = True
    # Longer texts are cut to this many characters, an ellipsis last (None: no limit).
    subject_max_length: int | None = None
    body_max_length: int | None = None
    # Waits out the quiet hours (urgent events do not).
    quiet_hours: bool = False
    # The setting holding how many per customer per local day (urgent events not counted).
    daily_cap_setting: str | None = None
    # The setting holding the cap's room kept per class ({Priority name: slots}; see
    # notifications.catalogue.Priority): a class may use the cap minus the room of those above.
    cap_reserved_setting: str | None = None

    @property
    def is_inbox(self) -> bool:
        return self.address is None

    def recipient(self, user) -> str:
        """The user's address on this channel ("" when they have none)."""
        return getattr(user, self.address)

    def reaches(self, user) -> bool:
        """Whether a notice to `user` gets a row on this channel (not without an address)."""
        return self.is_inbox or bool(self.recipient(user))


CHANNELS: dict[str, ChannelSpec] = {
    spec.key: spec
    for spec in (
        ChannelSpec(
            key=Channel.SMS,
            address="phone",
            provider_setting="NOTIFICATIONS_SMS_PROVIDER",
            template_folder="sms",
            has_subject=False,
            quiet_hours=True,
            daily_cap_setting="NOTIFICATIONS_SMS_DAILY_CAP",
            cap_reserved_setting="NOTIFICATIONS_SMS_CAP_RESERVED",
        ),
        ChannelSpec(
            key=Channel.EMAIL,
            address="email",
            provider_setting="NOTIFICATIONS_EMAIL_PROVIDER",
            template_folder="email",
        ),
        ChannelSpec(
            key=Channel.IN_APP, address=None, provider_setting=None, template_folder="in_app"
        ),
    )
}


def inbox_channels() -> list[str]:
    return [key for key, spec in CHANNELS.items() if spec.is_inbox]


def capped_channels() -> list[str]:
    return [key for key, spec in CHANNELS.items() if spec.daily_cap_setting]
