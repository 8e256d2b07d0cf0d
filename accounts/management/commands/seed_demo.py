"""`manage.py seed_demo`: load the demo data of every app and print the demo logins.

`make run` calls it after `migrate`; you can run it by hand at any time. It is idempotent:
a second run creates nothing new and prints the same table.

Contract for an app's demo data
-------------------------------
Each of the project's own apps (the apps of this checkout listed in INSTALLED_APPS: accounts,
credit and its sub-apps such as credit.servicing, notifications, appeals) may have a module
`<app>/demo.py` with a function

    def seed(*, now: datetime) -> list[accounts.demo.DemoLogin]

The command calls them in INSTALLED_APPS order, each inside its own transaction, so an app can
rely on the demo data of the apps listed before it (every app can use the accounts' staff and
`accounts.demo.customer_ensure`). `seed` must:

- be idempotent: look rows up by a natural key (phone number, reference) and create only
  what is missing; running it twice changes nothing the second time;
- create data through the app's services (the same rules as production), passing `now` on;
- return one `DemoLogin` per login it wants listed (e.g. one customer per account state), with
  the shared `accounts.demo.DEMO_PASSWORD`, and phone numbers from its own block (see
  `accounts/demo.py`); the same phone listed twice is refused;
- raise on failure: the command stops, that app's transaction is rolled back, `make run` stops.

Existing users keep their password (verifying it would cost an Argon2 hash per login on every
`make run`); `--reset-passwords` sets every listed login's password back to the listed one.

Demo logins are well known, so the command refuses to run when DEBUG is off unless given
`--force` (`make run` passes it: it is meant for a developer's machine).
"""

import importlib
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.demo import DemoLogin
from accounts.models import User
from accounts.phone import normalize_phone


def demo_modules() -> Iterator[tuple[str, ModuleType]]:
    """(app label, its `demo` module) for each project app that has one, in INSTALLED_APPS order."""
    root = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        package = root / config.name.split(".", 1)[0]
        if not Path(config.path).resolve().is_relative_to(package):
            continue  # Django's and third-party apps (they live in site-packages)
        name = f"{config.name}.demo"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # demo.py exists but imports something missing: say so
            continue
        if hasattr(module, "seed"):
            yield config.label, module


def passwords_reset(logins: list[DemoLogin]) -> None:
    for login in logins:
        try:
            phone = normalize_phone(login.phone)
        except ValidationError:
            continue  # not a user login (the demo merchant's API key row)
        user = User.objects.get(phone=phone)
        user.set_password(login.password)
        user.save(update_fields=["password"])


def seed_all() -> list[DemoLogin]:
    now = timezone.now()
    logins: list[DemoLogin] = []
    for label, module in demo_modules():
        with transaction.atomic():
            seeded = module.seed(now=now)
        for login in seeded:
            if not isinstance(login, DemoLogin):
                raise CommandError(f"{label}.demo.seed returned {login!r}, not a DemoLogin")
        logins.extend(seeded)
    phones = [login.phone for login in logins]
    duplicates = sorted({phone for phone in phones if phones.count(phone) > 1})
    if duplicates:
        raise CommandError(f"Demo phone numbers used twice: {', '.join(duplicates)}")
    return logins


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_logins(logins: list[DemoLogin]) -> str:
    """The logins as an aligned plain-text table."""
    rows = [("Role", "Phone", "Password", "Note")]
    rows += [(login.role, login.phone, login.password, login.note) for login in logins]
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]

    def line(row) -> str:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


class Command(BaseCommand):
    help = "Create the demo users and data of every app (idempotent) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo passwords are public).",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the password of every demo login back to the one listed.",
        )

    def handle(self, *args, force: bool = False, reset_passwords: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: demo users have public passwords. Use --force if this "
                "database really is for a demo."
            )
        logins = seed_all()
        if reset_passwords:
            passwords_reset(logins)
        return format_logins(logins)
