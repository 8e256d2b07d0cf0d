"""Customer verification: what a behaviour-only risk signal asks instead of a freeze.

A rule whose action is VERIFY (credit.risk.rules) opens a `VerificationChallenge` for each
account it names: a one-time numeric code goes to the customer's reserved mobile number by
SMS (event VERIFICATION_CODE, urgent: never held by quiet hours or the daily SMS cap), only
its keyed hash is stored, and the customer enters it on the portal page "Confirm it is you"
(linked from the banner on the overview). Meanwhile purchases above
`RISK_VERIFICATION_PURCHASE_MAX` wait (the account's `verification_purchase_max`, read by
the purchase statement); smaller ones go through.

- the right code → PASSED: the challenge closes, the purchase maximum is lifted, the account
  is untouched; the flag stays open for staff, with the verification on record;
- `max_attempts` wrong codes (`RISK_VERIFICATION_MAX_ATTEMPTS`) → FAILED: the account is
  frozen with reason VERIFY_FAILED (the banner shows the appeal link);
- not verified within `RISK_VERIFICATION_HOURS` → EXPIRED by the `risk.verifications_expire`
  beat task: the account is frozen with reason VERIFY_TIMEOUT;
- the flag cleared by staff as a false alarm → CANCELLED, the purchase maximum lifted.

One OPEN challenge per account (a unique partial index); a second flag while one is open
adds nothing. Services take keyword arguments and the clock (`now`).
"""

import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User
from core.events import EventType, publish
from credit.models import AccountStatus, CreditAccount, FreezeReason
from credit.risk.errors import (
    VerificationCodeInvalid,
    VerificationNotOpen,
    VerificationResendsExhausted,
)
from credit.risk.models import ChallengeStatus, RiskFlag, VerificationChallenge
from credit.risk.selectors import verification_open_for
from credit.services import account_freeze, account_lock
from credit.services.errors import TransitionRefused

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
# New codes a customer may ask for on top of the first one.
RESENDS_MAX = 3
_HASH_SALT = "credit.risk.verification"


def _code_new() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _code_hash(challenge_key: str, code: str) -> str:
    """Keyed (SECRET_KEY) and bound to the challenge: the table alone never gives a code."""
    return salted_hmac(_HASH_SALT, f"{challenge_key}:{code}", algorithm="sha256").hexdigest()


def _code_send(challenge: VerificationChallenge, code: str, now: datetime) -> None:
    hours = max(1, round((challenge.expires_at - now).total_seconds() / 3600))
    publish(
        event=EventType.VERIFICATION_CODE,
        user=challenge.account.customer,
        context={"code": code, "hours": hours},
        dedupe_key=f"verification:{challenge.pk}:code:{challenge.codes_sent}",
        now=now,
    )


def _new_code(challenge: VerificationChallenge) -> str:
    code = _code_new()
    challenge.code_hash = _code_hash(f"{challenge.pk}:{challenge.codes_sent}", code)
    return code


@transaction.atomic
def verification_open(
    *, account: CreditAccount, flag: RiskFlag, now: datetime
) -> VerificationChallenge | None:
    """Ask the customer to verify; None when one is already open (or the line is closed)."""
    account = account_lock(account)
    if account.status == AccountStatus.CLOSED or verification_open_for(account=account) is not None:
        return None
    challenge = VerificationChallenge.objects.create(
        account=account,
        flag=flag,
        code_hash="-",
        created_at=now,
        expires_at=now + timedelta(hours=settings.RISK_VERIFICATION_HOURS),
        max_attempts=settings.RISK_VERIFICATION_MAX_ATTEMPTS,
    )
    code = _new_code(challenge)
    challenge.save(update_fields=["code_hash"])
    account.verification_purchase_max = settings.RISK_VERIFICATION_PURCHASE_MAX
    account.save(update_fields=["verification_purchase_max"])
    challenge.account = account
    _code_send(challenge, code, now)
    return challenge


def _locked_open(account: CreditAccount) -> VerificationChallenge:
    challenge = (
        VerificationChallenge.objects.select_for_update()
        .filter(account=account, status=ChallengeStatus.OPEN)
        .first()
    )
    if challenge is None:
        raise VerificationNotOpen()
    return challenge


def _close(
    challenge: VerificationChallenge,
    account: CreditAccount,
    *,
    status: str,
    now: datetime,
    actor: User | None = None,
    freeze_reason: str | None = None,
) -> VerificationChallenge:
    """Close the challenge, lift the purchase maximum, and freeze the account if it failed."""
    challenge.status, challenge.closed_at, challenge.closed_by = status, now, actor
    challenge.save(update_fields=["status", "closed_at", "closed_by", "attempts"])
    account.verification_purchase_max = None
    account.save(update_fields=["verification_purchase_max"])
    if freeze_reason is not None and account.status != AccountStatus.CLOSED:
        try:
            account_freeze(account=account, reason=freeze_reason, now=now)
        except TransitionRefused:  # cannot happen outside CLOSED; keep the record anyway
            logger.warning("verification %s: account %s cannot be frozen", challenge.pk, account.pk)
    return challenge


@transaction.atomic
def verification_submit(*, account: CreditAccount, code: str, now: datetime):
    """The customer enters a code. Returns the challenge: PASSED, FAILED (the last attempt
    was wrong: the account is now frozen), EXPIRED (too late: frozen), or still OPEN with one
    attempt fewer left. A code that is not six digits is refused and costs no attempt."""
    code = (code or "").strip()
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise VerificationCodeInvalid()
    account = account_lock(account)
    challenge = _locked_open(account)
    if now >= challenge.expires_at:
        return _close(
            challenge,
            account,
            status=ChallengeStatus.EXPIRED,
            now=now,
            freeze_reason=FreezeReason.VERIFY_TIMEOUT,
        )
    expected = challenge.code_hash
    if constant_time_compare(expected, _code_hash(f"{challenge.pk}:{challenge.codes_sent}", code)):
        return _close(challenge, account, status=ChallengeStatus.PASSED, now=now)
    challenge.attempts += 1
    if challenge.attempts >= challenge.max_attempts:
        return _close(
            challenge,
            account,
            status=ChallengeStatus.FAILED,
            now=now,
            freeze_reason=FreezeReason.VERIFY_FAILED,
        )
    challenge.save(update_fields=["attempts"])
    return challenge


@transaction.atomic
def verification_resend(*, account: CreditAccount, now: datetime) -> VerificationChallenge:
    """A new code (the old one stops working); the deadline and attempts are unchanged."""
    account = account_lock(account)
    challenge = _locked_open(account)
    if challenge.codes_sent > RESENDS_MAX:
        raise VerificationResendsExhausted()
    challenge.codes_sent += 1
    code = _new_code(challenge)
    challenge.save(update_fields=["codes_sent", "code_hash"])
    challenge.account = account
    _code_send(challenge, code, now)
    return challenge


def verifications_expire(*, now: datetime) -> int:
    """Expire every open challenge past its deadline (each in its own transaction) and
    freeze its account (VERIFY_TIMEOUT). Idempotent: returns how many it expired."""
    expired = 0
    due = VerificationChallenge.objects.filter(status=ChallengeStatus.OPEN, expires_at__lte=now)
    for challenge_id, account_id in due.order_by("pk").values_list("pk", "account_id"):
        with transaction.atomic():
            account = account_lock(account_id)
            challenge = (
                VerificationChallenge.objects.select_for_update()
                .filter(pk=challenge_id, status=ChallengeStatus.OPEN)
                .first()
            )
            if challenge is None:  # closed meanwhile
                continue
            _close(
                challenge,
                account,
                status=ChallengeStatus.EXPIRED,
                now=now,
                freeze_reason=FreezeReason.VERIFY_TIMEOUT,
            )
            expired += 1
    return expired


@transaction.atomic
def verifications_cancel_for_flag(*, flag: RiskFlag, actor: User | None, now: datetime) -> int:
    """The flag was a false alarm: cancel the challenges it opened that are still open."""
    cancelled = 0
    ids = flag.verification_challenges.filter(status=ChallengeStatus.OPEN).order_by("account_id")
    for challenge_id, account_id in ids.values_list("pk", "account_id"):
        account = account_lock(account_id)
        challenge = VerificationChallenge.objects.select_for_update().get(pk=challenge_id)
        if challenge.status == ChallengeStatus.OPEN:
            _close(challenge, account, status=ChallengeStatus.CANCELLED, now=now, actor=actor)
            cancelled += 1
    return cancelled
