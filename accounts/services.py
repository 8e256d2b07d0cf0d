"""Write use cases of the accounts app (see conventions: keyword-only, injected clock)."""

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken, get_digest_token
from knox.settings import CONSTANTS

from accounts.models import CustomerProfile, KycStatus, Language, LoginEvent, User
from accounts.national_id import national_id_hash, normalize_national_id
from accounts.phone import normalize_phone
from accounts.roles import user_is_staff
from core.errors import DomainError
from core.permissions import permission_require

logger = logging.getLogger(__name__)


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


# --- customer API tokens (django-rest-knox: the database keeps a digest, never the token) ------


class InvalidCredentials(AccountsError):
    code = "invalid_credentials"
    default_message = _("The mobile number or password is incorrect.")


class LoginLocked(AccountsError):
    code = "login_locked"
    http_status = 429
    default_message = _(
        "Too many failed attempts: signing in with this number is locked for a while."
    )

    def __init__(self, *, retry_after: int | None):
        super().__init__()
        self.retry_after = retry_after


class NotACustomer(AccountsError):
    code = "not_a_customer"
    http_status = 403
    default_message = _("API tokens are for customers only.")


# What a token shows of itself (admin, the issuing answer): enough to tell two apart.
TOKEN_PREFIX_LENGTH = 8


def api_token_issue(
    *,
    user: User,
    ip_address: str | None,
    user_agent: str,
    device_id: str,
    now: datetime,
) -> tuple[AuthToken, str]:
    """A new API token for a customer who has just proved their password: (row, token). The
    token is returned once and never stored; it ends API_TOKEN_TTL_DAYS from `now`. Staff
    (and inactive users) get none: no staff member acts as a customer. The sign-in is
    recorded as a login event from `device_id` (risk signals: new devices, shared IPs)."""
    if not user.is_active or user_is_staff(user):
        raise NotACustomer()
    digest, raw = get_digest_token()
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lt=now).delete()  # the expired ones
        token = AuthToken(
            digest=digest,
            token_key=raw[: CONSTANTS.TOKEN_KEY_LENGTH],
            user=user,
            expiry=now + timedelta(days=settings.API_TOKEN_TTL_DAYS),
        )
        token.save(force_insert=True)
        login_event_record(
            user=user,
            ip_address=ip_address,
            user_agent=user_agent,
            device_id=device_id[:64] or "unknown",
            now=now,
        )
    return token, raw


def api_token_revoke(*, user: User, token: AuthToken | None, everywhere: bool = False) -> int:
    """The customer ends the token they called with, or (`everywhere`) all of theirs."""
    tokens = AuthToken.objects.filter(user=user)
    if not everywhere:
        tokens = tokens.filter(pk=token.pk if token is not None else None)
    deleted, _by_model = tokens.delete()
    return deleted


def api_tokens_revoke_by_staff(*, actor: User, tokens, now: datetime) -> int:
    """Staff end customers' tokens (a lost phone); the log names who, whose and which."""
    permission_require(actor, "knox.delete_authtoken")
    rows = list(tokens.select_related("user"))
    for token in rows:
        logger.info(
            "API token %s of user %s revoked by staff %s at %s",
            token.token_key[:TOKEN_PREFIX_LENGTH],
            token.user_id,
            actor.pk,
            now.isoformat(),
        )
    deleted, _by_model = AuthToken.objects.filter(pk__in=[t.pk for t in rows]).delete()
    return deleted
