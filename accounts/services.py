"""Write use cases of the accounts app (see conventions: keyword-only, injected clock)."""

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import (
    CustomerProfile,
    KycStatus,
    Language,
    LoginEvent,
    PiiField,
    PiiReveal,
    SecondFactorReset,
    User,
)
from accounts.national_id import national_id_hash, normalize_national_id
from accounts.phone import normalize_phone
from core.errors import DomainError
from core.permissions import NotPermitted, permission_require

REVEAL_PII = "accounts.reveal_pii"
REVEAL_REASON_MIN_LENGTH = 10


class AccountsError(DomainError):
    code = "accounts_error"


class PhoneTaken(AccountsError):
    code = "phone_taken"
    http_status = 409
    default_message = _("This mobile number is already registered.")


class NationalIdTaken(AccountsError):
    code = "national_id_taken"
    http_status = 409
    default_message = _("A customer with this national ID number already exists.")


@transaction.atomic
def customer_register(
    *,
    phone: str,
    password: str,
    real_name: str,
    national_id: str,
    province_code: str | None = None,
    email: str = "",
    language: str = Language.ZH_HANS,
    kyc_status: str = KycStatus.PENDING,
    now: datetime,
) -> User:
    """Create a customer login and profile. The national ID is kept only as hash + last four."""
    phone = normalize_phone(phone)
    normalized_id = normalize_national_id(national_id)
    id_hash = national_id_hash(normalized_id)
    if User.objects.filter(phone=phone).exists():
        raise PhoneTaken()
    if CustomerProfile.objects.filter(national_id_hash=id_hash).exists():
        raise NationalIdTaken()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                phone, password, email=email, preferred_language=language, joined_at=now
            )
            CustomerProfile.objects.create(
                user=user,
                real_name=real_name,
                national_id_hash=id_hash,
                national_id_last4=normalized_id[-4:],
                # The first two digits of the ID name the province of registration.
                province_code=province_code or normalized_id[:2],
                kyc_status=kyc_status,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError as exc:  # lost a race with an identical registration
        raise PhoneTaken() from exc
    return user


def _user_agent_hash(user_agent: str) -> str:
    return hashlib.sha256(user_agent.encode("utf-8", "replace")).hexdigest()


def login_event_record(
    *, user: User, ip_address: str | None, user_agent: str, device_id: str, now: datetime
) -> LoginEvent:
    """Record a successful login; `is_new_device` is true the first time a device is seen."""
    seen_before = LoginEvent.objects.filter(user=user, device_id=device_id).exists()
    has_history = seen_before or LoginEvent.objects.filter(user=user).exists()
    return LoginEvent.objects.create(
        user=user,
        ip_address=ip_address,
        user_agent_hash=_user_agent_hash(user_agent),
        device_id=device_id,
        # A first-ever login is not a "new device" alert; a new device after history is.
        is_new_device=has_history and not seen_before,
        occurred_at=now,
    )


def user_language_set(*, user: User, language: str) -> None:
    if language not in Language.values:
        raise AccountsError(_("Unknown language."))
    User.objects.filter(pk=user.pk).update(preferred_language=language)


class RevealReasonMissing(AccountsError):
    code = "reveal_reason_missing"
    default_message = _("Say why you need the full number (at least 10 characters).")


@transaction.atomic
def pii_reveal(*, actor: User, user: User, field: str, reason: str, now: datetime) -> str:
    """The full value of one customer's personal field, recorded with who asked and why.

    Refused (`NotPermitted`) without `accounts.reveal_pii`; the audit row is written in the
    same transaction as the read, so no one sees a number without a row saying so."""
    permission_require(actor, REVEAL_PII)
    reason = (reason or "").strip()
    if len(reason) < REVEAL_REASON_MIN_LENGTH:
        raise RevealReasonMissing()
    if field != PiiField.PHONE:
        raise AccountsError(_("This field cannot be revealed."))
    PiiReveal.objects.create(actor=actor, user=user, field=field, reason=reason, revealed_at=now)
    return User.objects.values_list("phone", flat=True).get(pk=user.pk)


@transaction.atomic
def second_factor_reset(*, actor: User, user: User, now: datetime) -> SecondFactorReset:
    """Remove every TOTP device of `user` (lost phone): they enrol again at their next sign-in.
    Superusers only; audited."""
    if actor is None or not actor.is_active or not actor.is_superuser:
        raise NotPermitted()
    removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
    return SecondFactorReset.objects.create(
        actor=actor, user=user, devices_removed=removed, reset_at=now
    )


# --- staff second factor (TOTP) ---------------------------------------------------------------


class SecondFactorError(AccountsError):
    code = "second_factor_error"


class SecondFactorCodeWrong(SecondFactorError):
    code = "second_factor_code_wrong"
    default_message = _("This code is not right (or was already used). Try the current one.")


class SecondFactorAlreadyEnrolled(SecondFactorError):
    code = "second_factor_enrolled"
    default_message = _(
        "You already have a second factor. A superuser can reset it if you lost it."
    )


def second_factor_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device `user` is enrolling (made once, kept until confirmed), so
    reloading the page shows the same secret. Refused once a device is confirmed."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise SecondFactorAlreadyEnrolled()
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="admin", confirmed=False)


@transaction.atomic
def second_factor_enrol_confirm(*, user: User, token: str) -> TOTPDevice:
    """The first code from the authenticator app confirms the device."""
    device = second_factor_enrolment(user=user)
    if not device.verify_token(token.strip()):
        raise SecondFactorCodeWrong()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return device


def second_factor_check(*, user: User, token: str) -> TOTPDevice:
    """The confirmed device the code belongs to (django-otp throttles repeated failures)."""
    for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
        if device.verify_token(token.strip()):
            return device
    raise SecondFactorCodeWrong()
