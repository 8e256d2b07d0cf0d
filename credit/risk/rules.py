"""Risk-event rules over login events and profile changes, and the flags they raise.

Rules are rows (`RiskRule`, editable by risk managers in the admin) and run every 10 minutes
(`risk.rules_run`, django-celery-beat) and from `manage.py risk_rules`:

SHARED_IP   one IP address logged into at least `threshold` (5) distinct users within
            `window_minutes` (60). Every window ending in the last `lookback_minutes` is
            examined, so a missed evaluation is caught up. The accounts are frozen with
            reason SHARED_IP (credit.services.account_freeze) and a flag queues them for
            review. Evidence: the IP, the first and last login of the busiest window, the
            users and how many logins each made.
PHONE_CHANGES the reserved mobile number changed at least `threshold` (2) times within
            `window_minutes` (30 days). Flagged for review, not frozen. Evidence: the
            changes (numbers masked) and when.

One OPEN flag per rule and subject (`ip:…`, `user:…`): a later evaluation adds to it
(new accounts, fresher evidence) rather than raising a second one. Once staff reviewed a
subject, only evidence newer than the review raises a new flag.

Staff review (`risk.review_riskflag`): confirm (the freeze stays; staff act on the account)
or clear (a false alarm: the SHARED_IP freeze is reversed as our error on every account no
other open or confirmed shared-IP flag still holds — `decision_reverse`, back to ACTIVE with
the whole limit, penalties since waived, the customer told). Open and confirmed flags of the
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
from accounts.phone import mask_phone, normalize_phone
from core.permissions import permission_require
from credit.models import AccountStatus, CreditAccount, FreezeReason, ReversalSource
from credit.risk.errors import FlagNotOpen, NoteRequired, PhoneInvalid, PhoneTaken, PhoneUnchanged
from credit.risk.models import FlagStatus, PhoneChange, RiskFlag, RiskRule, RuleCode
from credit.services import account_freeze
from credit.services.errors import TransitionRefused
from credit.services.reversals import decision_reverse, wrong_freeze

logger = logging.getLogger(__name__)

DEFAULT_RULES = {
    RuleCode.SHARED_IP: {"threshold": 5, "window_minutes": 60, "freeze": True},
    RuleCode.PHONE_CHANGES: {"threshold": 2, "window_minutes": 30 * 24 * 60, "freeze": False},
}


@dataclass(frozen=True)
class Finding:
    subject: str
    user_ids: list[int]
    evidence: dict
    last_seen_at: datetime


# --- rule queries --------------------------------------------------------------------------
_SHARED_IP = """
WITH reviewed AS (
    SELECT subject, max(reviewed_at) AS at FROM risk_riskflag
     WHERE rule = 'SHARED_IP' AND status <> 'OPEN' GROUP BY subject
), windows AS (
    SELECT e.ip_address, e.occurred_at AS window_end,
           count(DISTINCT o.user_id) AS users,
           array_agg(DISTINCT o.user_id ORDER BY o.user_id) AS user_ids,
           min(o.occurred_at) AS window_first
      FROM accounts_loginevent e
      JOIN accounts_loginevent o
        ON o.ip_address = e.ip_address
       AND o.occurred_at > e.occurred_at - make_interval(mins => %(window)s)
       AND o.occurred_at <= e.occurred_at
      LEFT JOIN reviewed r ON r.subject = 'ip:' || host(e.ip_address)
     WHERE e.ip_address IS NOT NULL
       AND e.occurred_at > %(now)s - make_interval(mins => %(lookback)s)
       AND e.occurred_at <= %(now)s
       AND (r.at IS NULL OR e.occurred_at > r.at)
     GROUP BY e.ip_address, e.occurred_at
    HAVING count(DISTINCT o.user_id) >= %(threshold)s
)
SELECT host(w.ip_address), w.window_first, w.window_end, w.users, w.user_ids
  FROM windows w
 ORDER BY w.ip_address, w.users DESC, w.window_end DESC
"""

_LOGINS_PER_USER = """
SELECT user_id, count(*) FROM accounts_loginevent
 WHERE ip_address = %(ip)s::inet AND occurred_at >= %(first)s AND occurred_at <= %(last)s
 GROUP BY user_id ORDER BY user_id
"""


def shared_ip_findings(rule: RiskRule, now: datetime) -> list[Finding]:
    with connection.cursor() as cursor:
        cursor.execute(
            _SHARED_IP,
            {
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
                ip, {"users": set(), "busiest": (users, first, last), "last": last}
            )
            entry["users"].update(user_ids)
            entry["last"] = max(entry["last"], last)
        findings = []
        for ip, entry in by_ip.items():
            users, first, last = entry["busiest"]
            cursor.execute(_LOGINS_PER_USER, {"ip": ip, "first": first, "last": last})
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
    for change in PhoneChange.objects.filter(changed_at__gt=since, changed_at__lte=now).order_by(
        "user_id", "changed_at"
    ):
        changes.setdefault(change.user_id, []).append(change)
    findings = []
    for user_id, items in changes.items():
        if len(items) < rule.threshold:
            continue
        subject = f"user:{user_id}"
        last = items[-1].changed_at
        if subject in reviewed and reviewed[subject] and last <= reviewed[subject]:
            continue
        findings.append(
            Finding(
                subject=subject,
                user_ids=[user_id],
                evidence={
                    "threshold": rule.threshold,
                    "window_days": round(rule.window_minutes / 1440, 1),
                    "changes": [
                        {
                            "from": mask_phone(c.old_phone),
                            "to": mask_phone(c.new_phone),
                            "at": c.changed_at.isoformat(),
                            "by_staff": c.actor_id is not None and c.actor_id != user_id,
                        }
                        for c in items
                    ],
                },
                last_seen_at=last,
            )
        )
    return findings


FINDERS = {RuleCode.SHARED_IP: shared_ip_findings, RuleCode.PHONE_CHANGES: phone_change_findings}


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
    """Raise (or extend the open) flag of a finding; freeze its accounts if the rule says so."""
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
    if rule.freeze and rule.code == RuleCode.SHARED_IP:
        for account in new_accounts:
            try:
                account_freeze(account=account, reason=FreezeReason.SHARED_IP, now=now)
            except TransitionRefused:
                logger.warning(
                    "shared-IP flag %s: account %s cannot be frozen", flag.pk, account.pk
                )
    return flag


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
    """A false alarm: lift the SHARED_IP freeze it caused where no other flag holds it."""
    flag = _review(flag, status=FlagStatus.CLEARED, actor=actor, now=now, note=note)
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
