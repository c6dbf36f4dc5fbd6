import pytest

from clients.errors import ClientHierarchyError
from clients.models import Client
from clients.services import client_set_parent
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_it_moves_a_company_under_a_group_head(admin_user) -> None:
    holding, subsidiary = ClientFactory(), ClientFactory()
    client_set_parent(client=subsidiary, parent=holding, by=admin_user)
    assert Client.objects.get(pk=subsidiary.pk).parent == holding


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_it_refuses_to_make_a_company_its_own_ancestor(depth: int, admin_user) -> None:
    top = ClientFactory()
    chain = [top]
    for _ in range(depth):
        chain.append(ClientFactory(parent=chain[-1]))
    with pytest.raises(ClientHierarchyError, match="its own parent"):
        client_set_parent(client=top, parent=chain[-1], by=admin_user)
    assert Client.objects.get(pk=top.pk).parent is None


def test_it_makes_a_company_a_group_head_again(admin_user) -> None:
    child = ClientFactory(parent=ClientFactory())
    client_set_parent(client=child, parent=None, by=admin_user)
    assert Client.objects.get(pk=child.pk).parent is None


# --- client master data ---------------------------------------------------------------------

import datetime  # noqa: E402

from django.core.exceptions import ValidationError  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts_crm.errors import ConcurrentEditError, NotAllowedError  # noqa: E402
from clients import services  # noqa: E402
from clients.models import AccountTeamMember, Activity, Contact  # noqa: E402
from tests.factories import (  # noqa: E402
    AccountPlanFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    OrderFactory,
    SiteFactory,
    TeamFactory,
    TrainingSessionFactory,
    UserFactory,
)


def italian_client(**fields) -> Client:
    defaults = {
        "name": "Padano",
        "legal_name": "Padano S.p.A.",
        "vat_number": "04123450159",
        "sdi_code": "M5UXCR1",
        "team": fields.pop("team", None) or TeamFactory(),
    }
    return Client(**(defaults | fields))


def test_it_lets_a_team_lead_create_a_client_for_their_team_only(team_lead) -> None:
    own = TeamFactory(lead=team_lead)
    created = services.client_create(by=team_lead, client=italian_client(team=own))
    assert created.pk is not None
    with pytest.raises(NotAllowedError):
        services.client_create(by=team_lead, client=italian_client(vat_number="02876540580"))


def test_it_refuses_client_creation_to_account_staff_and_finance(account_staff, finance) -> None:
    for person in (account_staff, finance):
        with pytest.raises(NotAllowedError):
            services.client_create(by=person, client=italian_client())
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"vat_number": "04123450158"}, "vat_number", "not a valid Italian VAT number"),
        ({"vat_number": "", "tax_code": ""}, "vat_number", "needs a VAT number or a tax code"),
        ({"sdi_code": "", "pec": ""}, "sdi_code", "SDI recipient code or a PEC"),
        ({"sdi_code": "0000000", "pec": ""}, "pec", "PEC address"),
        ({"sdi_code": "abc"}, "sdi_code", "exactly 7"),
    ],
)
def test_it_rejects_bad_fiscal_data_and_writes_nothing(admin_user, fields, field, message) -> None:
    with pytest.raises(ValidationError) as error:
        services.client_create(by=admin_user, client=italian_client(**fields))
    assert message in " ".join(error.value.message_dict[field])
    assert not Client.objects.exists()


def test_it_accepts_a_foreign_client_without_italian_fiscal_data(admin_user) -> None:
    client = italian_client(
        vat_number="ESB12345674", sdi_code="", country="ES", scope="international"
    )
    assert services.client_create(by=admin_user, client=client).pk


def test_it_explains_a_duplicate_vat_number_instead_of_failing(admin_user) -> None:
    services.client_create(by=admin_user, client=italian_client())
    with pytest.raises(ValidationError) as error:
        services.client_create(by=admin_user, client=italian_client(name="Padano bis"))
    assert "exists already" in error.value.message_dict["vat_number"][0]
    assert Client.objects.count() == 1


def test_it_refuses_a_stale_edit_instead_of_overwriting(admin_user, team_lead) -> None:
    client = services.client_create(
        by=admin_user, client=italian_client(team=TeamFactory(lead=team_lead))
    )
    mine = Client.objects.get(pk=client.pk)
    theirs = Client.objects.get(pk=client.pk)

    theirs.industry = "Logistics"
    services.client_update(by=team_lead, client=theirs, version=theirs.version)
    mine.industry = "Retail"
    with pytest.raises(ConcurrentEditError, match="Someone else changed this client"):
        services.client_update(by=admin_user, client=mine, version=mine.version)

    saved = Client.objects.get(pk=client.pk)
    assert saved.industry == "Logistics"
    assert saved.version == client.version + 1


def test_it_lets_the_nam_edit_but_not_finance_or_another_nam(finance, make_user) -> None:
    client = ClientFactory(vat_number="04123450159", sdi_code="M5UXCR1")
    nam = AccountTeamMemberFactory(client=client, role="nam").user
    client.industry = "Food"
    assert services.client_update(by=nam, client=client, version=client.version).industry == "Food"
    other_nam = AccountTeamMemberFactory(role="nam").user
    for person in (finance, other_nam):
        fresh = Client.objects.get(pk=client.pk)
        with pytest.raises(NotAllowedError):
            services.client_update(by=person, client=fresh, version=fresh.version)


def test_it_will_not_delete_a_group_head_with_subsidiaries(admin_user) -> None:
    head = ClientFactory()
    ClientFactory(parent=head)
    with pytest.raises(ValidationError, match="subsidiaries first"):
        services.client_delete(by=admin_user, client=head)


def test_it_will_not_delete_a_client_that_has_orders_and_says_so(admin_user) -> None:
    order = OrderFactory()
    with pytest.raises(ValidationError, match="still has orders; it can be made inactive"):
        services.client_delete(by=admin_user, client=order.client)
    assert Client.objects.filter(pk=order.client_id).exists()


def test_it_will_not_delete_a_site_a_training_session_uses_and_says_so(admin_user) -> None:
    site = SiteFactory()
    session = TrainingSessionFactory(client=site.client, site=site, remote=False)
    with pytest.raises(ValidationError, match="still used by training sessions"):
        services.child_delete(by=admin_user, row=session.site)
    assert session.site.__class__.objects.filter(pk=session.site_id).exists()


# --- account team ------------------------------------------------------------------------------


def test_it_hands_the_account_over_to_a_new_nam(team_lead) -> None:
    client = ClientFactory(team=TeamFactory(lead=team_lead))
    old = AccountTeamMemberFactory(client=client, role="nam", starts_on=datetime.date(2025, 1, 1))
    newcomer = UserFactory()
    services.account_team_member_add(
        by=team_lead,
        member=AccountTeamMember(client=client, user=newcomer, role="nam"),
    )
    old.refresh_from_db()
    assert old.ends_on == timezone.localdate() - datetime.timedelta(days=1)
    active = AccountTeamMember.objects.active().get(client=client, role="nam")
    assert active.user == newcomer


def test_it_ends_access_on_the_next_request_when_someone_is_removed(team_lead) -> None:
    client = ClientFactory(team=TeamFactory(lead=team_lead))
    member = AccountTeamMemberFactory(
        client=client, role="project_manager", starts_on=datetime.date(2025, 1, 1)
    )
    assert Client.objects.visible_to(member.user).filter(pk=client.pk).exists()
    services.account_team_member_end(by=team_lead, member=member)
    assert not Client.objects.visible_to(member.user).filter(pk=client.pk).exists()


def test_it_lets_only_the_nam_and_team_lead_change_the_account_team() -> None:
    client = ClientFactory()
    pm = AccountTeamMemberFactory(client=client, role="project_manager").user
    with pytest.raises(NotAllowedError):
        services.account_team_member_add(
            by=pm, member=AccountTeamMember(client=client, user=UserFactory(), role="sales")
        )


# --- sites, contacts, activities, plans ---------------------------------------------------


def test_it_keeps_contacts_inside_their_client(admin_user) -> None:
    contact = ContactFactory()
    contact.site = SiteFactory()  # another client's site
    contact.reports_to = ContactFactory()  # another client's contact
    with pytest.raises(ValidationError) as error:
        services.contact_save(by=admin_user, contact=contact)
    assert set(error.value.message_dict) == {"site", "reports_to"}


def test_it_refuses_a_reporting_line_that_loops(admin_user) -> None:
    ceo = ContactFactory()
    director = ContactFactory(client=ceo.client, reports_to=ceo)
    manager = ContactFactory(client=ceo.client, reports_to=director)
    ceo.reports_to = manager
    with pytest.raises(ValidationError, match="reports to them"):
        services.contact_save(by=admin_user, contact=ceo)
    assert Contact.objects.get(pk=ceo.pk).reports_to is None


def test_it_explains_a_duplicate_contact_email(admin_user) -> None:
    first = ContactFactory(email="anna@padano.example")
    twin = Contact(client=first.client, first_name="Anna", last_name="Bis", email=first.email)
    with pytest.raises(ValidationError, match="already has this e-mail"):
        services.contact_save(by=admin_user, contact=twin)


def test_it_logs_an_activity_by_its_author_with_this_clients_contacts_only() -> None:
    member = AccountTeamMemberFactory(role="customer_service")
    own, foreign = ContactFactory(client=member.client), ContactFactory()
    activity = services.activity_log(
        by=member.user,
        activity=Activity(client=member.client, subject="Call", next_step="Send offer",
                          next_step_due=datetime.date(2026, 12, 1)),
        contacts=[own],
    )  # fmt: skip
    assert activity.author == member.user
    assert list(activity.contacts.all()) == [own]
    with pytest.raises(ValidationError, match="belong to this client"):
        services.activity_log(
            by=member.user, activity=Activity(client=member.client, subject="x"), contacts=[foreign]
        )


def test_it_refuses_a_due_date_without_a_next_step(admin_user) -> None:
    with pytest.raises(ValidationError):
        services.activity_log(
            by=admin_user,
            activity=Activity(
                client=ClientFactory(), subject="x", next_step_due=datetime.date(2026, 1, 1)
            ),
        )


def test_it_keeps_finance_read_only_and_plans_to_the_managers(finance) -> None:
    plan = AccountPlanFactory()
    pm = AccountTeamMemberFactory(client=plan.client, role="project_manager").user
    for person in (finance, pm):
        with pytest.raises(NotAllowedError):
            services.account_plan_save(by=person, plan=plan)
        with pytest.raises(NotAllowedError):
            services.child_delete(by=person, row=plan)
    with pytest.raises(NotAllowedError):
        services.site_save(by=finance, site=SiteFactory(client=plan.client))


def test_it_explains_a_second_plan_for_the_same_year(admin_user) -> None:
    plan = AccountPlanFactory()
    twin = type(plan)(client=plan.client, year=plan.year, revenue_target=1)
    with pytest.raises(ValidationError, match="already has an account plan"):
        services.account_plan_save(by=admin_user, plan=twin)


def test_it_turns_a_constraint_hit_in_a_race_into_the_same_message() -> None:
    """Between full_clean() and the INSERT another transaction may commit the same row."""
    plan = AccountPlanFactory()
    twin = type(plan)(client=plan.client, year=plan.year, revenue_target=1)
    # _constraint_messages() is what _save() wraps around save().
    with (
        pytest.raises(ValidationError, match="already has an account plan"),
        services._constraint_messages(),
    ):
        twin.save()
    client = ClientFactory(vat_number="04123450159")
    with pytest.raises(ValidationError) as error, services._constraint_messages():
        ClientFactory(vat_number=client.vat_number)
    assert "exists already" in error.value.message_dict["vat_number"][0]
