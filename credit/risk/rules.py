"""Risk-event rules over login events and profile changes, and the flags they raise.

Rules are rows (`RiskRule`, editable by risk managers in the admin) and run every 10 minutes
(`risk.rules_run`, django-celery-beat) and from `manage.py risk_rules`. Every rule is a
behaviour-only signal: by default (`action` VERIFY) its finding asks each customer to verify
with a one-time SMS code (credit.risk.verification) and queues the flag for review; the
account is frozen only if the verification fails or times out. FREEZE (at once) and
REVIEW_ONLY are there for a risk manager who decides otherwise.

SHARED_IP   one IP address logged into at least `threshold` (20) distinct customers within
            `window_minutes` (60). Every window ending in the last `lookback_minutes` is
            examined, so a missed evaluation is caught up. Evidence: the IP, the first and
            last login of the busiest window, the users and how many logins each made.
PHONE_CHANGES the reserved mobile number changed at least `threshold` (2) times within
            `window_minutes` (30 days). Evidence: the changes (numbers masked) and when.
DEVICE_CHURN at least `threshold` (5) new devices on one account within `window_minutes`
            (7 days). Evidence: the devices (ids shortened), first and last seen, IPs.

What never counts: staff (is_staff, superusers, any staff role; `accounts.roles`) — their
logins and their own number changes — and a number change staff made for a customer (staff
verify the caller before changing a reserved number: it is not an unexplained behaviour).
What counts is only evidence newer than the latest review of the subject: every login or
change counted by a finding happened after the flag for that subject was last confirmed or
cleared, so a cleared false alarm never comes back on the same logins.

One OPEN flag per rule and subject (`ip:…`, `user:…`): a later evaluation adds to it
(new accounts, fresher evidence) rather than raising a second one.

Staff review (`risk.review_riskflag`): confirm (the freeze stays; staff act on the account)
or clear (a false alarm: the SHARED_IP freeze is reversed as our error on every account no
other open or confirmed shared-IP flag still holds — `decision_reverse`, back to ACTIVE with
the whole limit, penalties since waived, the customer told — and the verifications the flag
opened are cancelled). Open and confirmed flags of the
last 90 days lower the score (credit.risk.scorecard, RISK_FLAG).

Phone changes are recorded by `user_phone_change(*, user, new_phone, now, actor)`, the one
way to change a reserved number (the rule reads its history).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from accounts.phone import normalize_phone, phone_masked
from accounts.roles import sql_staff_user_ids, staff_user_q
from core.permissions import permission_require
from credit.models import AccountStatus, CreditAccount, FreezeReason, ReversalSource
from credit.risk.errors import FlagNotOpen, NoteRequired, PhoneInvalid, PhoneTaken, PhoneUnchanged
from credit.risk.models import FlagStatus, PhoneChange, RiskFlag, RiskRule, RuleAction, RuleCode
from credit.risk.verification import verification_open, verifications_cancel_for_flag
from credit.services import account_freeze
from credit.services.errors import TransitionRefused
from credit.services.reversals import decision_reverse, wrong_freeze

logger = logging.getLogger(__name__)

# Defaults (docs/risk.md says why): carrier-grade NAT puts thousands of customers behind one
# address and an office dozens, so one shared IP alone proves nothing.
DEFAULT_RULES = {
    RuleCode.SHARED_IP: {"threshold": 20, "window_minutes": 60, "action": RuleAction.VERIFY},
    RuleCode.PHONE_CHANGES: {
        "threshold": 2,
        "window_minutes": 30 * 24 * 60,
        "action": RuleAction.VERIFY,
    },
    RuleCode.DEVICE_CHURN: {
        "threshold": 5,
        "window_minutes": 7 * 24 * 60,
        "action": RuleAction.VERIFY,
    },
}


@dataclass(frozen=True)
class Finding:
    subject: str
    user_ids: list[int]
    evidence: dict
    last_seen_at: datetime


# --- rule queries --------------------------------------------------------------------------
_REVIEWED = """
    SELECT subject, max(reviewed_at) AS at FROM risk_riskflag
     WHERE rule = %(rule)s AND status <> 'OPEN' GROUP BY subject
"""

# Both ends of a window are customers' logins after the subject's latest review, so every
# login a window counts is new evidence (a window ending after the review never reaches back
# to logins the review saw).
_SHARED_IP = f"""
WITH reviewed AS ({_REVIEWED}), staff AS ({sql_staff_user_ids()}),
windows AS (
    SELECT e.ip_address, e.occurred_at AS window_end,
           count(DISTINCT o.user_id) AS users,
           array_agg(DISTINCT o.user_id ORDER BY o.user_id) AS user_ids,
           min(o.occurred_at) AS window_first
      FROM accounts_loginevent e
      LEFT JOIN reviewed r ON r.subject = 'ip:' || host(e.ip_address)
      JOIN accounts_loginevent o
        ON o.ip_address = e.ip_address
       AND o.occurred_at > e.occurred_at - make_interval(mins => %(window)s)
       AND o.occurred_at <= e.occurred_at
       AND (r.at IS NULL OR o.occurred_at > r.at)
       AND o.user_id NOT IN (SELECT id FROM staff)
     WHERE e.ip_address IS NOT NULL
       AND e.occurred_at > %(now)s - make_interval(mins => %(lookback)s)
       AND e.occurred_at <= %(now)s
       AND (r.at IS NULL OR e.occurred_at > r.at)
       AND e.user_id NOT IN (SELECT id FROM staff)
     GROUP BY e.ip_address, e.occurred_at
    HAVING count(DISTINCT o.user_id) >= %(threshold)s
)
SELECT host(w.ip_address), w.window_first, w.window_end, w.users, w.user_ids
  FROM windows w
 ORDER BY w.ip_address, w.users DESC, w.window_end DESC
"""  # noqa: S608 - SQL built from code constants; values are bound parameters

_LOGINS_PER_USER = """
SELECT user_id, count(*) FROM accounts_loginevent
 WHERE ip_address = %(ip)s::inet AND occurred_at >= %(first)s AND occurred_at <= %(last)s
   AND user_id = ANY(%(users)s)
 GROUP BY user_id ORDER BY user_id
"""

_DEVICE_CHURN = f"""
WITH reviewed AS ({_REVIEWED}), staff AS ({sql_staff_user_ids()})
SELECT l.user_id, count(DISTINCT l.device_id),
       array_agg(DISTINCT left(l.device_id, 8) ORDER BY left(l.device_id, 8)),
       array_agg(DISTINCT host(l.ip_address) ORDER BY host(l.ip_address))
         FILTER (WHERE l.ip_address IS NOT NULL),
       min(l.occurred_at), max(l.occurred_at)
  FROM accounts_loginevent l
  LEFT JOIN reviewed r ON r.subject = 'user:' || l.user_id
 WHERE l.is_new_device
   AND l.occurred_at > %(now)s - make_interval(mins => %(window)s)
   AND l.occurred_at <= %(now)s
   AND (r.at IS NULL OR l.occurred_at > r.at)
   AND l.user_id NOT IN (SELECT id FROM staff)
 GROUP BY l.user_id
HAVING count(DISTINCT l.device_id) >= %(threshold)s
 ORDER BY l.user_id
"""  # noqa: S608 - SQL built from code constants; values are bound parameters


def shared_ip_findings(rule: RiskRule, now: datetime) -> list[Finding]:
    with connection.cursor() as cursor:
        cursor.execute(
            _SHARED_IP,
            {
                "rule": RuleCode.SHARED_IP,
                "now": now,
                "window": rule.window_minutes,
                "lookback": rule.lookback_minutes,
                "threshold": rule.threshold,
            },
        )
        rows = cursor.fetchall()
        by_ip: dict[str, dict] = {}
        # Per IP, the first row is the busiest window (most users, the latest such).
        for ip, first, last, users, user_ids in rows:
            entry = by_ip.setdefault(
                ip, {"users": set(), "busiest": (users, first, last, user_ids), "last": last}
            )
            entry["users"].update(user_ids)
            entry["last"] = max(entry["last"], last)
        findings = []
        for ip, entry in by_ip.items():
            users, first, last, user_ids = entry["busiest"]
            cursor.execute(
                _LOGINS_PER_USER, {"ip": ip, "first": first, "last": last, "users": user_ids}
            )
            logins = {str(user_id): n for user_id, n in cursor.fetchall()}
            findings.append(
                Finding(
                    subject=f"ip:{ip}",
                    user_ids=sorted(entry["users"]),
                    evidence={
                        "ip_address": ip,
                        "threshold": rule.threshold,
                        "window_minutes": rule.window_minutes,
                        "busiest_window": {
                            "first_login_at": first.isoformat(),
                            "last_login_at": last.isoformat(),
                            "distinct_users": users,
                            "logins_per_user": logins,
                        },
                        "users": sorted(entry["users"]),
                    },
                    last_seen_at=entry["last"],
                )
            )
    return findings


def phone_change_findings(rule: RiskRule, now: datetime) -> list[Finding]:
    since = now - timedelta(minutes=rule.window_minutes)
    # Latest review per subject (ordered, so the last assignment wins).
    reviewed = dict(
        RiskFlag.objects.filter(rule=RuleCode.PHONE_CHANGES)
        .exclude(status=FlagStatus.OPEN)
        .values_list("subject", "reviewed_at")
        .order_by("reviewed_at")
    )
    changes: dict[int, list[PhoneChange]] = {}
    # Not counted: staff's own numbers, and changes staff made for a customer.
    counted = (
        PhoneChange.objects.filter(changed_at__gt=since, changed_at__lte=now)
        .exclude(user__in=User.objects.filter(staff_user_q()))
        .exclude(actor__in=User.objects.filter(staff_user_q()))
        .order_by("user_id", "changed_at")
    )
    for change in counted:
        seen_at = reviewed.get(f"user:{change.user_id}")
        if seen_at is None or change.changed_at > seen_at:  # only evidence after the review
            changes.setdefault(change.user_id, []).append(change)
    findings = []
    for user_id, items in changes.items():
        if len(items) < rule.threshold:
            continue
        subject = f"user:{user_id}"
        last = items[-1].changed_at
        findings.append(
            Finding(
                subject=subject,
                user_ids=[user_id],
                evidence={
                    "threshold": rule.threshold,
                    "window_days": round(rule.window_minutes / 1440, 1),
                    "changes": [
                        {
                            "from": phone_masked(c.old_phone),
                            "to": phone_masked(c.new_phone),
                            "at": c.changed_at.isoformat(),
                        }
                        for c in items
                    ],
                },
                last_seen_at=last,
            )
        )
    return findings


def device_churn_findings(rule: RiskRule, now: datetime) -> list[Finding]:
    params = {
        "rule": RuleCode.DEVICE_CHURN,
        "now": now,
        "window": rule.window_minutes,
        "threshold": rule.threshold,
    }
    with connection.cursor() as cursor:
        cursor.execute(_DEVICE_CHURN, params)
        rows = cursor.fetchall()
    return [
        Finding(
            subject=f"user:{user_id}",
            user_ids=[user_id],
            evidence={
                "threshold": rule.threshold,
                "window_days": round(rule.window_minutes / 1440, 1),
                "new_devices": devices,
                "devices": device_ids,
                "ip_addresses": ips or [],
                "first_login_at": first.isoformat(),
                "last_login_at": last.isoformat(),
            },
            last_seen_at=last,
        )
        for user_id, devices, device_ids, ips, first, last in rows
    ]


FINDERS = {
    RuleCode.SHARED_IP: shared_ip_findings,
    RuleCode.PHONE_CHANGES: phone_change_findings,
    RuleCode.DEVICE_CHURN: device_churn_findings,
}


# --- running the rules ------------------------------------------------------------------------
def rules_ensure() -> list[RiskRule]:
    """The rule rows, created with their defaults when missing (a flushed test database)."""
    rules = []
    for code, defaults in DEFAULT_RULES.items():
        rule, _created = RiskRule.objects.get_or_create(code=code, defaults=defaults)
        rules.append(rule)
    return rules


def rules_run(*, now: datetime) -> list[RiskFlag]:
    """Evaluate every enabled rule; returns the flags raised or extended."""
    flags = []
    for rule in rules_ensure():
        if not rule.enabled:
            continue
        for finding in FINDERS[rule.code](rule, now):
            flag = flag_raise(rule=rule, finding=finding, now=now)
            if flag is not None:
                flags.append(flag)
    return flags


@transaction.atomic
def flag_raise(*, rule: RiskRule, finding: Finding, now: datetime) -> RiskFlag | None:
    """Raise (or extend the open) flag of a finding; then, per the rule's action, ask each new
    account to verify (VERIFY) or freeze it (FREEZE)."""
    accounts = list(
        CreditAccount.objects.filter(customer_id__in=finding.user_ids).exclude(
            status=AccountStatus.CLOSED
        )
    )
    flag = (
        RiskFlag.objects.select_for_update()
        .filter(rule=rule.code, subject=finding.subject, status=FlagStatus.OPEN)
        .first()
    )
    if flag is None:
        try:
            with transaction.atomic():
                flag = RiskFlag.objects.create(
                    rule=rule.code,
                    subject=finding.subject,
                    explanation=str(rule.explanation),
                    evidence=finding.evidence,
                    froze_accounts=rule.freeze,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # raised concurrently by another evaluation
            return None
        new_accounts = accounts
    else:
        known = set(flag.accounts.values_list("pk", flat=True))
        new_accounts = [a for a in accounts if a.pk not in known]
        if not new_accounts and flag.evidence == finding.evidence:
            return None
        flag.evidence = finding.evidence
        flag.updated_at = now
        flag.froze_accounts = flag.froze_accounts or rule.freeze
        flag.save(update_fields=["evidence", "updated_at", "froze_accounts"])
    flag.accounts.add(*new_accounts)
    if rule.action == RuleAction.VERIFY:
        for account in new_accounts:
            verification_open(account=account, flag=flag, now=now)
    elif rule.action == RuleAction.FREEZE:
        reason = FREEZE_REASONS.get(rule.code, FreezeReason.RISK_RULE)
        for account in new_accounts:
            try:
                account_freeze(account=account, reason=reason, now=now)
            except TransitionRefused:
                logger.warning("flag %s: account %s cannot be frozen", flag.pk, account.pk)
    return flag


FREEZE_REASONS = {RuleCode.SHARED_IP: FreezeReason.SHARED_IP}


# --- review ------------------------------------------------------------------------------------
REVIEW_PERMISSION = "risk.review_riskflag"


def _review(flag: RiskFlag, *, status: str, actor: User, now: datetime, note: str) -> RiskFlag:
    permission_require(actor, REVIEW_PERMISSION)
    if not (note or "").strip():
        raise NoteRequired()
    flag = RiskFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status != FlagStatus.OPEN:
        raise FlagNotOpen()
    flag.status = status
    flag.reviewed_by, flag.reviewed_at, flag.review_note = actor, now, note
    flag.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    return flag


@transaction.atomic
def flag_confirm(*, flag: RiskFlag, actor: User, now: datetime, note: str) -> RiskFlag:
    """The finding is real: the flag stays on record (and in the score); freezes stay."""
    return _review(flag, status=FlagStatus.CONFIRMED, actor=actor, now=now, note=note)


@transaction.atomic
def flag_clear(*, flag: RiskFlag, actor: User, now: datetime, note: str) -> RiskFlag:
    """A false alarm: cancel the verifications it opened; lift the SHARED_IP freeze it caused
    where no other flag holds it."""
    flag = _review(flag, status=FlagStatus.CLEARED, actor=actor, now=now, note=note)
    verifications_cancel_for_flag(flag=flag, actor=actor, now=now)
    if flag.rule != RuleCode.SHARED_IP:
        return flag
    for account in flag.accounts.filter(
        status=AccountStatus.FROZEN, freeze_reasons__contains=[FreezeReason.SHARED_IP]
    ).order_by("pk"):
        held = (
            account.risk_flags.filter(rule=RuleCode.SHARED_IP)
            .exclude(pk=flag.pk)
            .exclude(status=FlagStatus.CLEARED)
            .exists()
        )
        if not held:  # a false alarm froze it: reversed as our error, not a plain unfreeze
            decision_reverse(
                account=account,
                wrong=wrong_freeze(account, reason=FreezeReason.SHARED_IP),
                source=ReversalSource.FLAG_CLEARED,
                reason=note,
                actor=actor,
                now=now,
                source_ref=f"risk.riskflag:{flag.pk}",
            )
    return flag


# --- phone changes -----------------------------------------------------------------------------
@transaction.atomic
def user_phone_change(
    *, user: User, new_phone: str, now: datetime, actor: User | None
) -> PhoneChange:
    """Change a user's reserved mobile number and record it (the PHONE_CHANGES rule reads
    this history). `actor`: the user themself, or the staff member acting for them."""
    try:
        new_phone = normalize_phone(new_phone)
    except ValidationError as exc:
        raise PhoneInvalid(exc.messages[0]) from exc
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.phone == new_phone:
        raise PhoneUnchanged()
    if User.objects.filter(phone=new_phone).exclude(pk=user.pk).exists():
        raise PhoneTaken()
    change = PhoneChange.objects.create(
        user=user, old_phone=user.phone, new_phone=new_phone, changed_at=now, actor=actor
    )
    user.phone = new_phone
    try:
        with transaction.atomic():
            user.save(update_fields=["phone"])
    except IntegrityError as exc:  # taken concurrently
        raise PhoneTaken() from exc
    return change
