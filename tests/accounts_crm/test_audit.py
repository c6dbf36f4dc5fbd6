"""The audit trail records who changed what, with old and new values, bulk updates included."""

import pytest
from django.contrib.auth.models import Group

from accounts_crm.access import Role
from accounts_crm.audit import audit_context, audit_trail
from accounts_crm.models import UserEvent, UserRoleEvent
from clients.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_it_records_old_and_new_values_with_the_author(admin_user) -> None:
    client = ClientFactory(name="Padano")
    with audit_context(user=admin_user.pk):
        client.name = "Padano Group"
        client.save()

    latest = audit_trail(client).first()
    assert latest.pgh_label == "update"
    assert latest.pgh_diff == {"name": ["Padano", "Padano Group"]}
    assert latest.pgh_context["user"] == admin_user.pk


def test_it_catches_bulk_updates_and_deletes() -> None:
    clients = ClientFactory.create_batch(3, industry="Retail")
    Client.objects.filter(pk__in=[c.pk for c in clients]).update(industry="Grocery")
    for client in clients:
        assert audit_trail(client).first().pgh_diff == {"industry": ["Retail", "Grocery"]}

    pk = clients[0].pk
    Client.objects.filter(pk=pk).delete()
    assert Client.pgh_event_model.objects.filter(pgh_obj_id=pk, pgh_label="delete").exists()


def test_it_records_role_changes_and_not_passwords(account_staff) -> None:
    account_staff.groups.add(Group.objects.get_or_create(name=Role.FINANCE)[0])
    account_staff.groups.remove(Group.objects.get_or_create(name=Role.ACCOUNT_STAFF)[0])
    labels = list(
        UserRoleEvent.objects.filter(user_id=account_staff.pk)
        .order_by("pgh_id")
        .values_list("pgh_label", flat=True)
    )
    assert labels[-2:] == ["role.added", "role.removed"]

    before = UserEvent.objects.count()
    account_staff.set_password("another-long-passphrase")
    account_staff.save(update_fields=["password"])
    assert UserEvent.objects.count() == before


def test_it_keeps_the_trail_append_only() -> None:
    from django.db import ProgrammingError, transaction

    client = ClientFactory()
    event = audit_trail(client).first()
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        Client.pgh_event_model.objects.filter(pgh_id=event.pgh_id).update(name="forged")


def test_it_attaches_the_request_user_to_changes_made_through_the_web(admin_user, login) -> None:
    client = login(admin_user)
    response = client.post(
        f"/admin/auth/user/{admin_user.pk}/change/",
        {
            "username": admin_user.username,
            "first_name": "Renamed",
            "last_name": admin_user.last_name,
            "email": admin_user.email,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
            "groups": list(admin_user.groups.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert response["Location"] == "/admin/auth/user/"
    event = UserEvent.objects.filter(pgh_obj_id=admin_user.pk, pgh_label="update").latest("pgh_id")
    assert event.first_name == "Renamed"
    assert event.pgh_context.metadata["user"] == admin_user.pk
    assert event.pgh_context.metadata["url"] == f"/admin/auth/user/{admin_user.pk}/change/"
