"""Demo data of the accounts app: an administrator, one staff user per role, a customer.

`manage.py seed_demo` calls `seed(now=...)` here and in every other app's `demo.py`; see
`accounts/management/commands/seed_demo.py` for the contract. Other apps build their demo
customers with `customer_ensure` and describe them with `DemoLogin`.

Demo phone numbers, so apps do not collide: staff use 137 0000 00xx; customers use
136 0000 xxxx, accounts taking 136 0000 0000 and credit 136 0000 01xx.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import Group

from accounts.models import KycStatus, User
from accounts.national_id import national_id_check_char
from accounts.phone import normalize_phone
from accounts.roles import Role
from accounts.services import customer_register

# One password for every demo login; it is printed by `make run` and listed in docs/running.md.
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - public on purpose; seed_demo wants DEBUG


@dataclass(frozen=True)
class DemoLogin:
    """One line of the demo logins table."""

    role: str  # who this is: "Administrator", "Risk officer", "Customer (FROZEN)", ...
    phone: str  # what to type on the login page: the 11 digits
    password: str
    note: str = ""  # where to go and what to look at


ADMIN_PHONE = "13700000000"
STAFF_PHONES = {
    Role.SUPPORT_AGENT: "13700000001",
    Role.RISK_OFFICER: "13700000002",
    Role.RISK_MANAGER: "13700000003",
    Role.AUDITOR: "13700000004",
}
CUSTOMER_PHONE = "13600000000"


def demo_national_id(n: int) -> str:
    """A valid, clearly fictitious ID number (Shanghai Huangpu), distinct for each n < 10**6."""
    born = date(1980, 1, 1) + timedelta(days=n // 1000)
    body = f"310101{born:%Y%m%d}{n % 1000:03d}"
    return body + national_id_check_char(body)


def staff_ensure(
    *, phone: str, now: datetime, role: Role | None = None, superuser: bool = False
) -> User:
    """The staff login `phone` with `role`'s group; created with the demo password if missing.

    An existing user's password is left alone: checking it would cost an Argon2 hash per user
    on every `make run` (`seed_demo --reset-passwords` puts the demo passwords back).
    """
    user = User.objects.filter(phone=normalize_phone(phone)).first()
    if user is None:
        user = User.objects.create_user(phone, DEMO_PASSWORD, joined_at=now)
    user.is_staff = True
    user.is_superuser = superuser
    user.save(update_fields=["is_staff", "is_superuser"])
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def customer_ensure(
    *,
    phone: str,
    real_name: str,
    now: datetime,
    kyc_status: str = KycStatus.VERIFIED,
    national_id: str | None = None,
) -> User:
    """The customer `phone` with a profile, registered through the real service if missing.

    The ID number defaults to one derived from the phone's last six digits, so it is stable
    between runs and distinct between demo customers. An existing user is returned as it is.
    """
    user = User.objects.filter(phone=normalize_phone(phone)).first()
    if user is not None:
        return user
    return customer_register(
        phone=phone,
        password=DEMO_PASSWORD,
        real_name=real_name,
        national_id=national_id or demo_national_id(int(phone[-6:])),
        kyc_status=kyc_status,
        now=now,
    )


def seed(*, now: datetime) -> list[DemoLogin]:
    staff_ensure(phone=ADMIN_PHONE, superuser=True, now=now)
    logins = [
        DemoLogin(
            "Administrator", ADMIN_PHONE, DEMO_PASSWORD, "superuser: everything under /admin/"
        )
    ]
    for role, phone in STAFF_PHONES.items():
        staff_ensure(phone=phone, role=role, now=now)
        logins.append(
            DemoLogin(role.value, phone, DEMO_PASSWORD, f"/admin/ with the {role.value} group")
        )
    customer_ensure(phone=CUSTOMER_PHONE, real_name="王小明", now=now)
    logins.append(
        DemoLogin(
            "Customer", CUSTOMER_PHONE, DEMO_PASSWORD, "portal at /, verified, no credit account"
        )
    )
    return logins
