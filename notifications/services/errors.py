from django.utils.translation import gettext_lazy as _


class NotificationError(Exception):
    default_message = _("This notification cannot be changed that way.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))


class NotificationNotFound(NotificationError):
    default_message = _("There is no such notice in your inbox.")


class NotResendable(NotificationError):
    default_message = _("This notification cannot be resent.")


class InAppNotResendable(NotResendable):
    default_message = _("In-app notices stay in the inbox; there is nothing to resend.")


class AlreadyOnItsWay(NotResendable):
    default_message = _("This notification is already on its way.")
