"""Write use cases of the accounts app (see conventions: keyword-only, injected clock)."""

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import CustomerProfile, KycStatus, Language, LoginEvent, User
from accounts.national_id import national_id_hash, normalize_national_id
from accounts.phone import normalize_phone
from core.errors import DomainError


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
