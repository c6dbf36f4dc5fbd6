"""The access rules of DESIGN.md, at the queryset level every selector starts from."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from accounts_crm.access import Role, get_visible_or_404, has_role, role_required, roles_of
from clients.models import AccountTeamMember, Client
from tests.factories import AccountTeamMemberFactory, ClientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    """Two teams, each with one client; a NAM on each client."""
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    ours, theirs = ClientFactory(team=north), ClientFactory(team=south)
    nam = AccountTeamMemberFactory(client=ours).user
    AccountTeamMemberFactory(client=theirs)
    return {"north": north, "south": south, "ours": ours, "theirs": theirs, "nam": nam}


def visible(user) -> set[int]:
    return set(Client.objects.visible_to(user).values_list("pk", flat=True))


def test_it_shows_a_nam_only_the_clients_of_their_account_team(book) -> None:
    assert visible(book["nam"]) == {book["ours"].pk}


def test_it_shows_a_team_lead_every_client_of_the_teams_they_lead(book) -> None:
    extra = ClientFactory(team=book["north"])
    assert visible(book["north"].lead) == {book["ours"].pk, extra.pk}


def test_it_shows_finance_and_admin_every_client(book, finance, admin_user) -> None:
    everyone = {book["ours"].pk, book["theirs"].pk}
    assert visible(finance) == everyone
    assert visible(admin_user) == everyone
    assert visible(UserFactory(is_superuser=True)) == everyone


def test_it_shows_nothing_to_anonymous_inactive_or_roleless_people(book) -> None:
    assert visible(AnonymousUser()) == set()
    assert visible(UserFactory(roles=[Role.FINANCE], is_active=False)) == set()
    assert visible(UserFactory()) == set()


def test_it_drops_access_when_membership_ends(book) -> None:
    membership = AccountTeamMember.objects.get(user=book["nam"])
    membership.ends_on = timezone.localdate() - timedelta(days=1)
    membership.starts_on = membership.ends_on
    membership.save()
    assert visible(book["nam"]) == set()


def test_it_does_not_grant_access_before_membership_starts(book) -> None:
    late = AccountTeamMemberFactory(
        client=book["theirs"], role="sales", starts_on=timezone.localdate() + timedelta(days=3)
    )
    assert visible(late.user) == set()


def test_it_answers_404_for_a_row_the_person_may_not_see(book) -> None:
    assert get_visible_or_404(Client.objects, book["nam"], pk=book["ours"].pk) == book["ours"]
    with pytest.raises(Http404):
        get_visible_or_404(Client.objects, book["nam"], pk=book["theirs"].pk)


def test_it_reads_roles_once_per_user_object(account_staff, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        assert roles_of(account_staff) == {Role.ACCOUNT_STAFF}
        assert has_role(account_staff, Role.ACCOUNT_STAFF)
        assert not has_role(account_staff, Role.FINANCE)


def test_it_guards_views_by_role(account_staff, finance) -> None:
    view = role_required(Role.FINANCE)(lambda request: "ok")
    request = RequestFactory().get("/")
    request.user = finance
    assert view(request) == "ok"
    request.user = account_staff
    with pytest.raises(PermissionDenied):
        view(request)
