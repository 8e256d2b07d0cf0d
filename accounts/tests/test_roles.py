import pytest
from django.contrib.auth.models import Group, Permission

from accounts.roles import ROLE_PERMISSIONS, Role, sync_role_permissions
from testkit.people import staff


@pytest.mark.django_db
def test_the_four_staff_roles_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


@pytest.mark.django_db
def test_each_role_holds_exactly_the_permissions_of_its_table():
    for role in (Role.SUPPORT_AGENT, Role.RISK_OFFICER, Role.RISK_MANAGER):
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role.value).permissions.all()
        }
        assert held == set(ROLE_PERMISSIONS[role]), role


@pytest.mark.django_db
def test_the_auditor_can_view_everything_and_change_nothing():
    auditor = staff(Role.AUDITOR)
    permissions = auditor.get_all_permissions()
    assert "accounts.view_user" in permissions
    assert all(p.split(".", 1)[1].startswith("view_") for p in permissions)
    assert Permission.objects.filter(codename__startswith="view_").count() == len(permissions)


@pytest.mark.django_db
def test_a_support_agent_cannot_change_customer_profiles_but_a_risk_manager_can():
    assert not staff(Role.SUPPORT_AGENT).has_perm("accounts.change_customerprofile")
    assert staff(Role.RISK_MANAGER).has_perm("accounts.change_customerprofile")


@pytest.mark.django_db
def test_a_role_table_naming_an_unknown_permission_is_refused(monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.SUPPORT_AGENT, ["accounts.fly_to_the_moon"])
    with pytest.raises(LookupError, match="fly_to_the_moon"):
        sync_role_permissions()


@pytest.mark.django_db
def test_staff_roles_gate_the_admin(client):
    agent = staff(Role.SUPPORT_AGENT)
    client.force_login(agent)
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/auth/group/").status_code == 403


@pytest.mark.django_db
def test_every_staff_role_but_the_auditor_can_read_the_outbox_and_resend_a_notice():
    for role in (Role.SUPPORT_AGENT, Role.RISK_OFFICER, Role.RISK_MANAGER):
        user = staff(role)
        assert user.has_perm("notifications.view_notification"), role
        assert user.has_perm("notifications.resend_notification"), role
    assert not staff(Role.AUDITOR).has_perm("notifications.resend_notification")
