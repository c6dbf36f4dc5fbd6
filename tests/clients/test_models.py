"""Every constraint of the foundation's client tables, violated once."""

import pytest
from django.db import IntegrityError, transaction

from clients.models import Client
from tests.factories import AccountTeamMemberFactory, ClientFactory

pytestmark = pytest.mark.django_db


def violates(name: str):
    return pytest.raises(IntegrityError, match=name)


def test_it_refuses_an_unknown_status() -> None:
    with violates("client_status_valid"), transaction.atomic():
        ClientFactory(status="dormant")


def test_it_refuses_an_unknown_scope() -> None:
    with violates("client_scope_valid"), transaction.atomic():
        ClientFactory(scope="galactic")


def test_it_refuses_a_client_that_is_its_own_parent() -> None:
    client = ClientFactory()
    with violates("client_not_own_parent"), transaction.atomic():
        Client.objects.filter(pk=client.pk).update(parent=client)


def test_it_refuses_two_active_clients_with_one_vat_number() -> None:
    ClientFactory(vat_number="04123450159")
    ClientFactory(vat_number="04123450159", status="inactive")  # an old record may share it
    ClientFactory(vat_number="")  # and so may clients with no VAT number yet
    ClientFactory(vat_number="")
    with violates("client_unique_active_vat_number"), transaction.atomic():
        ClientFactory(vat_number="04123450159")


def test_it_refuses_a_second_active_nam() -> None:
    first = AccountTeamMemberFactory(role="nam")
    AccountTeamMemberFactory(client=first.client, role="project_manager")
    with violates("one_active_nam_per_client"), transaction.atomic():
        AccountTeamMemberFactory(client=first.client, role="nam")


def test_it_refuses_an_unknown_team_role_or_work_base() -> None:
    with violates("account_team_member_role_valid"), transaction.atomic():
        AccountTeamMemberFactory(role="astrologer")
    with violates("account_team_member_work_base_valid"), transaction.atomic():
        AccountTeamMemberFactory(work_base="beach")


def test_it_refuses_a_membership_that_ends_before_it_starts() -> None:
    import datetime

    with violates("account_team_member_dates_ordered"), transaction.atomic():
        AccountTeamMemberFactory(
            starts_on=datetime.date(2026, 5, 1), ends_on=datetime.date(2026, 4, 30)
        )


def test_it_refuses_a_malformed_sdi_code_even_past_validation() -> None:
    with violates("client_sdi_code_format"), transaction.atomic():
        ClientFactory(sdi_code="abc")


def test_it_refuses_an_unknown_tier() -> None:
    with violates("client_tier_valid"), transaction.atomic():
        ClientFactory(tier="platinum")
