"""Read-only admins build on core/admin.py instead of a copy per app."""

import ast

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import LoginEvent
from conftest import ROOT
from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from credit.models import JournalLine
from testkit.people import staff

APPS = ("accounts", "credit", "appeals", "notifications")
PERMISSIONS = {"has_add_permission", "has_change_permission", "has_delete_permission"}


def read_only_copies(source: str, label: str) -> list[str]:
    """`label:Class` for every class that refuses add, change and delete by itself."""

    def refuses(node) -> bool:
        return (
            len(node.body) == 1
            and isinstance(node.body[0], ast.Return)
            and isinstance(node.body[0].value, ast.Constant)
            and node.body[0].value.value is False
        )

    return [
        f"{label}:{node.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef)
        and {f.name for f in node.body if isinstance(f, ast.FunctionDef) and refuses(f)}
        >= PERMISSIONS
    ]


def admin_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" not in parts and (path.name == "admin.py" or "admin" in parts):
                yield path


def test_no_app_admin_copies_the_read_only_base():
    assert list(admin_modules())
    copies = []
    for path in admin_modules():
        copies += read_only_copies(path.read_text(), str(path.relative_to(ROOT)))
    assert copies == []


def test_the_check_sees_a_read_only_copy_but_not_a_partial_one():
    source = (
        "class Copy:\n"
        "    def has_add_permission(self, request):\n        return False\n"
        "    def has_change_permission(self, request, obj=None):\n        return False\n"
        "    def has_delete_permission(self, request, obj=None):\n        return False\n"
        "class AddsOnly:\n"
        "    def has_add_permission(self, request):\n        return request.user.is_staff\n"
        "    def has_change_permission(self, request, obj=None):\n        return False\n"
        "    def has_delete_permission(self, request, obj=None):\n        return False\n"
    )
    assert read_only_copies(source, "planted.py") == ["planted.py:Copy"]


class JournalLineInline(ReadOnlyTabularInline):
    model = JournalLine
    fields = ("ledger_account", "debit", "credit")


@pytest.mark.django_db
def test_the_read_only_bases_refuse_add_change_and_delete_even_to_a_superuser():
    request = RequestFactory().get("/")
    request.user = staff(is_superuser=True)
    for model_admin, row in (
        (ReadOnlyAdmin(LoginEvent, admin.site), LoginEvent()),
        (JournalLineInline(JournalLine, admin.site), JournalLine()),
    ):
        assert not model_admin.has_add_permission(request, row)
        assert not model_admin.has_change_permission(request, row)
        assert not model_admin.has_delete_permission(request, row)
        assert model_admin.has_view_permission(request, row)
    assert JournalLineInline(JournalLine, admin.site).get_readonly_fields(request) == (
        "ledger_account",
        "debit",
        "credit",
    )
