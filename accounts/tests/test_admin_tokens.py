"""The admin shows customers' API tokens by prefix only; the lost-phone roles revoke them."""

import re

import pytest
from django.contrib.admin import helpers
from knox.models import AuthToken

from accounts.roles import ROLE_PERMISSIONS, Role
from accounts.tests.factories import UserFactory, customer
from testkit.people import staff

pytestmark = pytest.mark.django_db
TOKENS = "/admin/knox/authtoken/"
REVOKERS = (Role.SUPPORT_AGENT, Role.RISK_OFFICER, Role.RISK_MANAGER)


def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def signed_in(client, role):
    user = superuser() if role == "superuser" else staff(role)
    client.force_login(user)
    return user


@pytest.mark.parametrize("role", [*Role, "superuser"])
def test_no_staff_member_sees_a_token_or_its_digest(client, role):
    signed_in(client, role)
    row, raw = AuthToken.objects.create(customer())

    listing = client.get(TOKENS)
    detail = client.get(f"{TOKENS}{row.digest}/change/")
    history = client.get(f"{TOKENS}{row.digest}/history/")
    add = client.get(f"{TOKENS}add/")

    assert listing.status_code == 200
    html = listing.content.decode()
    assert raw[:8] in html
    for page in (listing, detail, history, add):
        assert raw not in page.content.decode()
        assert raw[:15] not in page.content.decode()
        assert row.digest not in page.content.decode()
    assert detail.status_code == history.status_code == add.status_code == 404


def test_the_old_raw_token_admin_is_gone(client):
    signed_in(client, "superuser")
    assert client.get("/admin/authtoken/").status_code == 404
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404


def test_only_the_lost_phone_roles_hold_a_token_permission_besides_the_auditors_view():
    for role, permissions in ROLE_PERMISSIONS.items():
        knox = sorted(p for p in permissions if p.startswith("knox."))
        expected = ["knox.delete_authtoken", "knox.view_authtoken"] if role in REVOKERS else []
        assert knox == expected, role
    auditor = staff(Role.AUDITOR)
    assert auditor.has_perm("knox.view_authtoken")
    assert not any(auditor.has_perm(f"knox.{a}_authtoken") for a in ("add", "change", "delete"))


def _handles(html: str) -> list[str]:
    return re.findall(rf'name="{helpers.ACTION_CHECKBOX_NAME}" value="([^"]+)"', html)


@pytest.mark.parametrize("role", REVOKERS)
def test_a_lost_phone_role_revokes_a_customers_token(client, role):
    signed_in(client, role)
    _lost, raw = AuthToken.objects.create(customer())
    kept, _raw = AuthToken.objects.create(customer())
    handles = _handles(client.get(TOKENS).content.decode())
    chosen = [h for h in handles if h.startswith(raw[:8])]
    assert len(handles) == 2 and len(chosen) == 1

    response = client.post(
        TOKENS, {"action": "revoke", helpers.ACTION_CHECKBOX_NAME: chosen}, follow=True
    )

    assert response.status_code == 200
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_auditor_cannot_revoke(client):
    signed_in(client, Role.AUDITOR)
    row, _raw = AuthToken.objects.create(customer())
    assert _handles(client.get(TOKENS).content.decode()) == []  # no action, no checkboxes
    client.post(TOKENS, {"action": "revoke", helpers.ACTION_CHECKBOX_NAME: [row.digest]})
    assert AuthToken.objects.filter(pk=row.pk).exists()


def test_a_forged_selection_revokes_nothing(client):
    signed_in(client, Role.SUPPORT_AGENT)
    row, raw = AuthToken.objects.create(customer())
    for forged in (row.digest, f"{raw[:8]}.{'0' * 20}", raw[:8]):
        client.post(TOKENS, {"action": "revoke", helpers.ACTION_CHECKBOX_NAME: [forged]})
    assert AuthToken.objects.filter(pk=row.pk).exists()
