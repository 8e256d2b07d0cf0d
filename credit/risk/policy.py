"""The limit policy: score → base limit, in SQL for runs and in Python for one account.

    band limit   the limit of the highest band whose min_score ≤ score
    × multiplier the account's province multiplier in force on the run's date (the smallest,
                 if several overlap; 1 when none)
    → rounded down to a multiple of `limit_step`, then held within [min_limit, max_limit]
    → per-run caps: at most `max_raise_*` above and `max_cut_*` below the current base limit
                 (amount and percent: the smaller move wins; none set: no cap)

The result is the *proposed* limit. Whether and when it applies (cool-down after a cut,
cooling-off for a deep cut, frozen accounts) is the run's decision (`credit.risk.decide`).

Services here: `policy_activate` (a risk manager asks, a second one approves; audited) and
`policy_duplicate`.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from core.permissions import permission_require
from credit.models import ApprovalKind, ApprovalRequest
from credit.money import quantize
from credit.risk.errors import (
    NoActivePolicy,
    PolicyAlreadyActivated,
    PolicyInvalid,
)
from credit.risk.models import (
    RegionalMultiplier,
    RiskPolicy,
    RiskPolicyActivation,
    SeasonalCampaign,
)
from credit.services.approvals import approval_gate

ACTIVATE_PERMISSION = "risk.activate_riskpolicy"
DRAFT_PERMISSION = "risk.add_riskpolicy"
_NO_CAP = Decimal("1000000000000")


def policy_active() -> RiskPolicy:
    policy = RiskPolicy.objects.filter(is_active=True).first()
    if policy is None:
        raise NoActivePolicy()
    return policy


@transaction.atomic
def policy_activate(
    *,
    policy: RiskPolicy,
    actor: User,
    now: datetime,
    note: str = "",
    approval: ApprovalRequest | None = None,
) -> RiskPolicy | ApprovalRequest:
    """Make `policy` the active version (the previous one is deactivated); audited.

    A second risk manager approves it first: asked by one, the request is returned."""
    permission_require(actor, ACTIVATE_PERMISSION)
    policy = RiskPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.is_active:
        return policy
    try:
        policy.full_clean()
    except Exception as exc:
        raise PolicyInvalid(str(exc)) from exc
    waiting = approval_gate(
        kind=ApprovalKind.RISK_POLICY,
        target=policy,
        actor=actor,
        approval=approval,
        now=now,
        summary=_("Activate risk policy %(policy)s") % {"policy": policy},
        reason=note,
    )
    if waiting is not None:
        return waiting
    previous = RiskPolicy.objects.select_for_update().filter(is_active=True).first()
    if previous is not None:
        previous.is_active = False
        previous.save(update_fields=["is_active"])
    policy.is_active = True
    if policy.activated_at is None:
        policy.activated_at, policy.activated_by = now, actor
    policy.save(update_fields=["is_active", "activated_at", "activated_by"])
    RiskPolicyActivation.objects.create(
        policy=policy, previous=previous, activated_by=actor, activated_at=now, note=note
    )
    return policy


@transaction.atomic
def policy_duplicate(*, policy: RiskPolicy, actor: User | None, now: datetime) -> RiskPolicy:
    """A new draft version with the same bands, caps, multipliers and campaigns."""
    if actor is not None:
        permission_require(actor, DRAFT_PERMISSION)
    next_version = (
        RiskPolicy.objects.order_by("-version").values_list("version", flat=True).first() or 0
    ) + 1
    multipliers = list(policy.regional_multipliers.all())
    campaigns = list(policy.campaigns.all())
    draft = RiskPolicy.objects.get(pk=policy.pk)
    draft.pk = None
    draft.version = next_version
    draft.name = f"{policy.name} (v{next_version})"
    draft.is_active = False
    draft.created_at, draft.created_by = now, actor
    draft.activated_at = draft.activated_by = None
    draft.save()
    for item in multipliers:
        item.pk, item.policy = None, draft
    RegionalMultiplier.objects.bulk_create(multipliers)
    for item in campaigns:
        item.pk, item.policy = None, draft
    SeasonalCampaign.objects.bulk_create(campaigns)
    return draft


def policy_is_frozen(policy: RiskPolicy) -> bool:
    """Activated versions never change (runs refer to them)."""
    return policy.activated_at is not None


def guard_draft(policy: RiskPolicy) -> None:
    if policy_is_frozen(policy):
        raise PolicyAlreadyActivated()


# --- SQL ---------------------------------------------------------------------------------
def multipliers_cte() -> str:
    """`mult(province_code, m)`: multipliers in force on %(as_of)s for %(policy_id)s."""
    return """
    mult AS (
        SELECT rm.province_code, min(rm.multiplier) AS m
          FROM risk_regionalmultiplier rm
         WHERE rm.policy_id = %(policy_id)s AND rm.effective_from <= %(as_of)s::date
           AND (rm.effective_to IS NULL OR rm.effective_to >= %(as_of)s::date)
         GROUP BY rm.province_code
    )"""


def band_limit_sql(policy: RiskPolicy, score: str) -> str:
    """CASE over the bands, highest first (numbers only: no user text reaches the SQL)."""
    bands = policy.bands()
    whens = " ".join(
        f"WHEN {score} >= {int(min_score)} THEN {Decimal(limit):f}::numeric"
        for min_score, limit in reversed(bands)
    )
    return f"(CASE {whens} ELSE 0::numeric END)"


def proposed_limit_sql(policy: RiskPolicy, *, band: str, multiplier: str, base: str) -> str:
    """The proposed limit for a band limit, a multiplier and the current base (SQL)."""
    step = f"{policy.limit_step:f}"
    raw = (
        f"LEAST({policy.max_limit:f}, GREATEST({policy.min_limit:f}, "
        f"floor({band} * {multiplier} / {step}) * {step}))"
    )

    def cap(amount, percent) -> str:
        parts = []
        if amount is not None:
            parts.append(f"{Decimal(amount):f}")
        if percent is not None:
            parts.append(f"round({base} * {Decimal(percent):f} / 100, 2)")
        return f"LEAST({', '.join(parts)})" if parts else f"{_NO_CAP:f}"

    raise_cap = cap(policy.max_raise_amount, policy.max_raise_percent)
    cut_cap = cap(policy.max_cut_amount, policy.max_cut_percent)
    return f"round(GREATEST({base} - {cut_cap}, LEAST({base} + {raise_cap}, {raw})), 2)"


# --- Python (one account) ------------------------------------------------------------------
@dataclass(frozen=True)
class Proposal:
    band_limit: Decimal
    multiplier: Decimal
    proposed: Decimal
    # What the policy would propose without the regional multiplier.
    proposed_without_multiplier: Decimal


def multiplier_for(policy: RiskPolicy, province_code: str, as_of: date) -> Decimal:
    values = RegionalMultiplier.objects.filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=as_of),
        policy=policy,
        province_code=province_code,
        effective_from__lte=as_of,
    ).values_list("multiplier", flat=True)
    return min(values, default=Decimal("1"))


def band_limit(policy: RiskPolicy, score: int) -> Decimal:
    limit = Decimal("0")
    for min_score, band in policy.bands():
        if score >= min_score:
            limit = band
    return limit


def proposed_limit(
    policy: RiskPolicy, *, score: int, base: Decimal, multiplier: Decimal = Decimal("1")
) -> Decimal:
    """The same as `proposed_limit_sql`, in Python."""
    step = policy.limit_step
    raw = (band_limit(policy, score) * multiplier / step).to_integral_value(ROUND_FLOOR) * step
    raw = min(policy.max_limit, max(policy.min_limit, raw))

    def cap(amount, percent) -> Decimal:
        caps = []
        if amount is not None:
            caps.append(amount)
        if percent is not None:
            caps.append(quantize(base * percent / 100))
        return min(caps) if caps else _NO_CAP

    upper = base + cap(policy.max_raise_amount, policy.max_raise_percent)
    lower = base - cap(policy.max_cut_amount, policy.max_cut_percent)
    return quantize(max(lower, min(upper, raw)))


def propose(
    policy: RiskPolicy, *, score: int, base: Decimal, province_code: str, as_of: date
) -> Proposal:
    multiplier = multiplier_for(policy, province_code, as_of)
    return Proposal(
        band_limit=band_limit(policy, score),
        multiplier=multiplier,
        proposed=proposed_limit(policy, score=score, base=base, multiplier=multiplier),
        proposed_without_multiplier=proposed_limit(policy, score=score, base=base),
    )
