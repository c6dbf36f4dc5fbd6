import datetime

import pytest

from clients.filters import ClientFilter
from clients.selectors import (
    client_group_tree,
    client_list,
    my_accounts,
    stakeholder_map,
    team_accounts,
)
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContactFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def names(tree) -> dict:
    return {tree.client.name: [names(child) for child in tree.children]}


def test_it_shows_the_whole_group_from_its_head(admin_user) -> None:
    head = ClientFactory(name="Holding")
    italy = ClientFactory(name="Italia", parent=head)
    ClientFactory(name="Spagna", parent=head)
    milano = ClientFactory(name="Milano", parent=italy)
    tree = client_group_tree(user=admin_user, client=milano)
    assert names(tree) == {"Holding": [{"Italia": [{"Milano": []}]}, {"Spagna": []}]}


def test_it_leaves_out_group_companies_the_person_may_not_see() -> None:
    head = ClientFactory(name="Holding")
    italy = ClientFactory(name="Italia", parent=head)
    ClientFactory(name="Spagna", parent=head)
    nam = AccountTeamMemberFactory(client=italy).user
    assert names(client_group_tree(user=nam, client=italy)) == {"Italia": []}


def test_it_lists_rows_with_their_nam_and_group(django_assert_num_queries, admin_user) -> None:
    head = ClientFactory(name="Holding")
    ClientFactory(parent=head)
    nam = AccountTeamMemberFactory(client=head, role="nam").user
    AccountTeamMemberFactory(
        client=head,
        role="nam",
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2021, 1, 1),
    )
    with django_assert_num_queries(2):  # the user's roles, then the list
        rows = {c.name: c for c in client_list(user=admin_user)}
    assert rows["Holding"].nam_name == f"{nam.first_name} {nam.last_name}"
    assert rows["Holding"].subsidiary_count == 1


def test_it_separates_my_accounts_from_my_teams_accounts(team_lead) -> None:
    team = TeamFactory(lead=team_lead)
    led = ClientFactory(team=team)
    on_team = AccountTeamMemberFactory(user=team_lead, role="executive_sponsor").client
    assert set(team_accounts(user=team_lead)) == {led}
    assert set(my_accounts(user=team_lead)) == {on_team}


def test_it_draws_the_org_chart_from_reporting_lines(admin_user) -> None:
    ceo = ContactFactory(last_name="Alfa")
    cfo = ContactFactory(client=ceo.client, reports_to=ceo, last_name="Beta")
    ContactFactory(client=ceo.client, reports_to=cfo, last_name="Gamma")
    loner = ContactFactory(client=ceo.client, last_name="Zeta")
    ContactFactory(client=ceo.client, is_active=False)
    roots = stakeholder_map(user=admin_user, client=ceo.client)
    assert [root.contact for root in roots] == [ceo, loner]
    assert roots[0].reports[0].contact == cfo
    assert roots[0].reports[0].reports[0].contact.last_name == "Gamma"


def filtered(user, **params) -> set[str]:
    return {c.name for c in ClientFilter(params, queryset=client_list(user=user)).qs}


def test_it_searches_by_name_vat_number_and_city_of_any_site(admin_user) -> None:
    ClientFactory(name="Padano", vat_number="04123450159", city="Lodi")
    other = ClientFactory(name="Mediterranea")
    SiteFactory(client=other, city="Bari", region="puglia")
    assert filtered(admin_user, q="pada") == {"Padano"}
    assert filtered(admin_user, q="IT 04123450159") == {"Padano"}
    assert filtered(admin_user, q="lodi") == {"Padano"}
    assert filtered(admin_user, q="bari") == {"Mediterranea"}
    assert filtered(admin_user, region="puglia") == {"Mediterranea"}


def test_it_filters_by_nam_and_sorts_by_nam(admin_user) -> None:
    giulia = UserFactory(first_name="Giulia", last_name="Romano")
    marco = UserFactory(first_name="Marco", last_name="Ferrari")
    AccountTeamMemberFactory(client=ClientFactory(name="A"), user=giulia, role="nam")
    AccountTeamMemberFactory(client=ClientFactory(name="B"), user=marco, role="nam")
    assert filtered(admin_user, nam=str(giulia.pk)) == {"A"}
    ordered = ClientFilter({"ordering": "nam"}, queryset=client_list(user=admin_user)).qs
    assert [c.name for c in ordered] == ["A", "B"]


def test_it_counts_only_the_subsidiaries_the_person_may_see() -> None:
    head = ClientFactory(name="Holding")
    ClientFactory(parent=head)
    ClientFactory(parent=head)
    nam = AccountTeamMemberFactory(client=head).user
    AccountTeamMemberFactory(client=head.subsidiaries.first(), user=nam, role="sales")
    row = client_list(user=nam).get(pk=head.pk)
    assert row.subsidiary_count == 1


def test_it_gathers_the_accounts_history_but_not_other_companies() -> None:
    from clients.selectors import client_history

    head = ClientFactory(name="Holding")
    contact = ContactFactory(client=head, job_title="CFO")
    contact.job_title = "CEO"
    contact.save()
    ClientFactory(name="Subsidiary", parent=head)  # its insert points at head, but is its own
    ClientFactory(name="Elsewhere")

    events = list(client_history(client=head))
    assert {e.pgh_obj_model for e in events} == {"clients.Client", "clients.Contact"}
    assert {e.pgh_obj_id for e in events if e.pgh_obj_model == "clients.Client"} == {str(head.pk)}
    # One transaction gives every event the same time; find the update rather than rely on order.
    update = next(e for e in events if e.pgh_label == "update")
    assert update.pgh_diff == {"job_title": ["CFO", "CEO"]}


def test_it_answers_a_foreign_id_filter_like_a_missing_one(admin_user) -> None:
    from clients.filters import ContactFilter
    from clients.models import Contact

    nam = AccountTeamMemberFactory().user
    foreign_site = SiteFactory()
    for site_id in (foreign_site.pk, 987654):
        f = ContactFilter({"site": str(site_id)}, queryset=Contact.objects.visible_to(nam))
        assert f.is_valid()
        assert list(f.qs) == []


def test_it_keeps_rows_that_tie_in_a_stable_order(admin_user) -> None:
    for _ in range(3):
        ClientFactory(name="Same")
    ordered = ClientFilter({"ordering": "name"}, queryset=client_list(user=admin_user)).qs
    assert [c.pk for c in ordered] == sorted(c.pk for c in ordered)
