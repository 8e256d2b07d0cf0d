"""Staff roles and the permissions each holds.

The groups are created by migration 0002; their permissions are (re)applied from this table
after every `migrate` (see `apps.AccountsConfig`), so each capability adds its permissions
here, next to the others, and a deployment converges to exactly this table.
"""

from django.contrib.auth.models import Group, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SUPPORT_AGENT = "Support agent", _("Support agent")
    RISK_OFFICER = "Risk officer", _("Risk officer")
    RISK_MANAGER = "Risk manager", _("Risk manager")
    AUDITOR = "Auditor", _("Auditor (read-only)")


_ACCOUNTS_READ = ["accounts.view_user", "accounts.view_customerprofile", "accounts.view_loginevent"]

# Appeals: support reads and writes to the customer; officers also open the files, ask for
# information and decide; managers also give the second approval (maker-checker).
_APPEALS_READ = ["appeals.view_appeal", "appeals.view_appealmessage", "appeals.message_appeal"]
_APPEALS_REVIEW = [*_APPEALS_READ, "appeals.view_appealattachment", "appeals.review_appeal"]

# Servicing: staff read it; officers extend installments (延期) and withdraw early repayment
# demands (an approved appeal does); only managers demand early repayment (提前结清).
_SERVICING_READ = [
    "servicing.view_acceleration",
    "servicing.view_installmentextension",
    "servicing.view_accountdelinquency",
    "servicing.view_delinquencychange",
    "servicing.view_businessday",
]
_SERVICING_STAFF = [
    *_SERVICING_READ,
    "servicing.extend_installment",
    "servicing.withdraw_acceleration",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.SUPPORT_AGENT: [*_ACCOUNTS_READ, *_APPEALS_READ, *_SERVICING_READ],
    Role.RISK_OFFICER: [*_ACCOUNTS_READ, *_APPEALS_REVIEW, *_SERVICING_STAFF],
    Role.RISK_MANAGER: [
        *_ACCOUNTS_READ,
        "accounts.change_customerprofile",
        *_APPEALS_REVIEW,
        "appeals.confirm_appeal",
        *_SERVICING_STAFF,
        "servicing.demand_acceleration",
    ],
    # The auditor reads everything and changes nothing: every `view_*` permission there is.
    Role.AUDITOR: [],
}

# Risk engine: support reads decisions and announced decreases (to answer customers);
# officers read everything of it, confirm or cancel announced decreases and review flags;
# managers also write and activate policy versions, approve or discard runs held by the
# circuit breaker, roll runs back and tune the risk-event rules.
_RISK_SUPPORT = [
    "risk.view_rescoringdecision",
    "risk.view_pendinglimitdecrease",
    "risk.view_verificationchallenge",  # "I was asked for a code": support answers
]
_RISK_OFFICER = [
    *_RISK_SUPPORT,
    *(f"risk.view_{m}" for m in ("rescoringrun", "riskpolicy", "riskpolicyactivation")),
    *(f"risk.view_{m}" for m in ("regionalmultiplier", "seasonalcampaign", "riskrule")),
    *("risk.view_riskflag", "risk.view_phonechange", "risk.review_riskflag"),
    "risk.decide_pendinglimitdecrease",
]
_RISK_MANAGER = [
    *_RISK_OFFICER,
    *("risk.add_riskpolicy", "risk.change_riskpolicy", "risk.activate_riskpolicy"),
    *(
        f"risk.{a}_{m}"
        for a in ("add", "change", "delete")
        for m in ("regionalmultiplier", "seasonalcampaign")
    ),
    *("risk.approve_rescoringrun", "risk.rollback_rescoringrun", "risk.change_riskrule"),
]
# Notifications: every staff role answers "did my SMS arrive?" — the outbox, its resends and
# the customer's marketing choice — and may send a notice again (recorded with the actor).
_NOTIFICATIONS_STAFF = [
    "notifications.view_notification",
    "notifications.view_notificationresend",
    "notifications.view_notificationpreference",
    "notifications.resend_notification",
]
for _role in (Role.SUPPORT_AGENT, Role.RISK_OFFICER, Role.RISK_MANAGER):
    ROLE_PERMISSIONS[_role] += _NOTIFICATIONS_STAFF
ROLE_PERMISSIONS[Role.SUPPORT_AGENT] += _RISK_SUPPORT
ROLE_PERMISSIONS[Role.RISK_OFFICER] += _RISK_OFFICER
ROLE_PERMISSIONS[Role.RISK_MANAGER] += _RISK_MANAGER


# Credit back office: every staff role reads it; officers freeze, unfreeze, set limits and
# reverse a wrong decision as our error;
# managers also grant temporary limits and write and activate fee schedules (credit/admin/).
_CREDIT_READ = [
    f"credit.view_{m}"
    for m in (
        *("creditaccount", "temporarylimitgrant", "limitchange", "feeschedule", "feescheduleterm"),
        *("merchant", "purchase", "installmentplan", "installment", "repayment"),
        *("repaymentallocation", "refund", "journalentry", "journalline", "decisionreversal"),
    )
]
_CREDIT_OFFICER = [
    *_CREDIT_READ,
    *("credit.freeze_creditaccount", "credit.set_limit_creditaccount", "credit.reverse_decision"),
]
_CREDIT_MANAGER = [
    *_CREDIT_OFFICER,
    "credit.grant_temporary_limit",
    *("credit.add_feeschedule", "credit.change_feeschedule", "credit.activate_feeschedule"),
]
ROLE_PERMISSIONS[Role.SUPPORT_AGENT] += _CREDIT_READ
ROLE_PERMISSIONS[Role.RISK_OFFICER] += _CREDIT_OFFICER
ROLE_PERMISSIONS[Role.RISK_MANAGER] += _CREDIT_MANAGER

# Four eyes on exposure (credit/services/approvals.py): officers and managers see the queue and
# approve or reject another person's request for an action they may take themselves; only
# managers may ask for (and approve) a base limit above the active risk policy's maximum.
_APPROVALS_STAFF = ["credit.view_approvalrequest", "credit.decide_approvalrequest"]
ROLE_PERMISSIONS[Role.RISK_OFFICER] += _APPROVALS_STAFF
ROLE_PERMISSIONS[Role.RISK_MANAGER] += [*_APPROVALS_STAFF, "credit.exceed_policy_limit"]
ROLE_PERMISSIONS[Role.RISK_OFFICER] += ["risk.view_riskruleversion"]
ROLE_PERMISSIONS[Role.RISK_MANAGER] += ["risk.view_riskruleversion"]

# Customer API tokens (knox): the roles that answer "I lost my phone" see the tokens' prefixes
# and revoke them (accounts/admin.py); the auditor sees the prefixes (every view_*). Nobody
# adds or changes a token here, and no role ever sees a token or its digest.
_API_TOKENS_REVOKE = ["knox.view_authtoken", "knox.delete_authtoken"]
for _role in (Role.SUPPORT_AGENT, Role.RISK_OFFICER, Role.RISK_MANAGER):
    ROLE_PERMISSIONS[_role] += _API_TOKENS_REVOKE
# Personal data (accounts/pii.py): everyone sees numbers masked. The roles that call customers
# may reveal one number at a time, with a reason that is recorded: support agents (call-backs
# on a complaint, an undelivered SMS, an appeal) and risk officers (verification calls about
# suspicious activity, overdue installments). Managers decide on what officers prepared and
# the auditor reads the reveal records, so neither needs the number itself.
ROLE_PERMISSIONS[Role.SUPPORT_AGENT] += ["accounts.reveal_pii"]
ROLE_PERMISSIONS[Role.RISK_OFFICER] += ["accounts.reveal_pii"]


def sync_role_permissions() -> None:
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        if role == Role.AUDITOR:
            permissions = Permission.objects.filter(codename__startswith="view_")
        else:
            wanted = ROLE_PERMISSIONS[role]
            by_app: dict[str, list[str]] = {}
            for label in wanted:
                app_label, codename = label.split(".", 1)
                by_app.setdefault(app_label, []).append(codename)
            query = models.Q(pk__in=[])
            for app_label, codenames in by_app.items():
                query |= models.Q(content_type__app_label=app_label, codename__in=codenames)
            permissions = Permission.objects.filter(query)
            missing = set(wanted) - {
                f"{p.content_type.app_label}.{p.codename}"
                for p in permissions.select_related("content_type")
            }
            if missing:
                raise LookupError(
                    f"Role {role.value!r} names unknown permissions: {sorted(missing)}"
                )
        group.permissions.set(permissions)


# --- who is staff: never counted as a customer by the risk rules -----------------------------


def staff_user_q(prefix: str = "") -> models.Q:
    """Staff users (`prefix`: the path to the user, e.g. "actor__"): the staff flag, a
    superuser, or a member of any staff role's group."""
    return (
        models.Q(**{f"{prefix}is_staff": True})
        | models.Q(**{f"{prefix}is_superuser": True})
        | models.Q(**{f"{prefix}groups__name__in": Role.values})
    )


def user_has_staff_flag(user) -> bool:
    """Staff by the user's own flags, without a query: every staff member who can sign in to
    the back office holds `is_staff` (checked on every API call)."""
    return user.is_staff or user.is_superuser


def user_is_staff(user) -> bool:
    """Whether this one user is staff (as `staff_user_q`): never acts as a customer."""
    return user_has_staff_flag(user) or user.groups.filter(name__in=Role.values).exists()


def sql_staff_user_ids() -> str:
    """SQL selecting the ids of every staff user (as `staff_user_q`), for `NOT IN (…)`."""
    user_model = Group.user_set.rel.related_model
    users = user_model._meta.db_table
    memberships = user_model.groups.through._meta.db_table
    groups = Group._meta.db_table
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in Role.values)
    return (
        f"SELECT id FROM {users} WHERE is_staff OR is_superuser"  # noqa: S608 - code constants
        f" UNION SELECT m.user_id FROM {memberships} m JOIN {groups} g ON g.id = m.group_id"
        f" WHERE g.name IN ({names})"
    )
