"""The filters on a row's client (clients.filters.ClientScopeFilters) on the projects and
milestones lists (a milestone's client is its project's), HTML and API."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client as HttpClient

from projects.filters import MilestoneFilter, ProjectFilter
from projects.models import Milestone, Project
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    MilestoneFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


class Book:
    """Team North: Alfa (NAM anna, Lombardia, retail) and Bravo (NAM bruno, Lazio, energy);
    Sud, another team's (NAM anna). One project with one milestone each."""

    def __init__(self) -> None:
        self.north = TeamFactory(name="North")
        self.lead = self.north.lead
        self.alfa = ClientFactory(name="Alfa", team=self.north, region="lombardia",
                                  industry="Retail")  # fmt: skip
        self.bravo = ClientFactory(name="Bravo", team=self.north, region="lazio",
                                   industry="Energy")  # fmt: skip
        self.sud = ClientFactory(name="Sud", region="puglia", industry="Retail")
        self.anna = UserFactory(first_name="Anna", last_name="Alti")
        self.bruno = UserFactory(first_name="Bruno", last_name="Bassi")
        nams = ((self.alfa, self.anna), (self.bravo, self.bruno), (self.sud, self.anna))
        for client, nam in nams:
            AccountTeamMemberFactory(client=client, user=nam, role="nam")
            project = ProjectFactory(client=client, name=f"P-{client.name}")
            MilestoneFactory(project=project, name=f"M-{client.name}")


@pytest.fixture
def book() -> Book:
    return Book()


def projects(**data: object) -> list[str]:
    rows = ProjectFilter(data, queryset=Project.objects.all()).qs
    return sorted(rows.values_list("name", flat=True))


def milestones(**data: object) -> list[str]:
    rows = MilestoneFilter(data, queryset=Milestone.objects.all()).qs
    return sorted(rows.values_list("name", flat=True))


def test_projects_filter_by_their_clients_nam_team_region_and_industry(book: Book) -> None:
    assert projects(nam=book.anna.pk) == ["P-Alfa", "P-Sud"]
    assert projects(team=book.north.pk) == ["P-Alfa", "P-Bravo"]
    assert projects(region="lazio") == ["P-Bravo"]
    assert projects(industry="retail") == ["P-Alfa", "P-Sud"]
    assert projects(nam=999_999) == []


def test_milestones_filter_by_their_projects_client(book: Book) -> None:
    assert milestones(nam=book.bruno.pk) == ["M-Bravo"]
    assert milestones(team=book.north.pk, industry="RETAIL") == ["M-Alfa"]
    assert milestones(nam=UserFactory().pk) == []


@pytest.fixture
def lead_client(client: HttpClient, login: Callable[[User], HttpClient], book: Book) -> HttpClient:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return login(book.lead)


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select, name
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select[0])]


@pytest.mark.parametrize("path", ["/projects/", "/projects/milestones/"])
def test_the_html_lists_offer_the_nams_and_teams_the_person_sees_and_filter_by_them(
    lead_client: HttpClient, book: Book, path: str
) -> None:
    html = lead_client.get(path).content.decode()
    assert options(html, "nam") == ["All", "Anna Alti", "Bruno Bassi"]
    assert options(html, "team") == ["All", "North"]
    response = lead_client.get(path, {"nam": book.anna.pk})
    assert response.context["page"].paginator.count == 1
    assert "-Alfa" in response.content.decode()


def test_a_nam_the_person_does_not_see_is_a_form_error(lead_client: HttpClient) -> None:
    stranger = UserFactory(last_name="Sconosciuto")
    AccountTeamMemberFactory(client=ClientFactory(), user=stranger, role="nam")
    response = lead_client.get("/projects/", {"nam": stranger.pk})
    assert "Select a valid choice" in response.content.decode()
    assert "Sconosciuto" not in response.content.decode()


@pytest.mark.parametrize("endpoint", ["projects", "milestones"])
def test_the_api_filters_by_nam_and_an_unknown_one_gives_nothing(
    lead_client: HttpClient, book: Book, endpoint: str
) -> None:
    response = lead_client.get(f"/api/v1/{endpoint}/", {"nam": book.bruno.pk})
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == [
        "P-Bravo" if endpoint == "projects" else "M-Bravo"
    ]
    response = lead_client.get(f"/api/v1/{endpoint}/", {"nam": 999_999})
    assert response.status_code == 200
    assert response.json()["results"] == []
    # Sud is Anna's too, but not the lead's: the filter never widens what the person sees.
    response = lead_client.get(f"/api/v1/{endpoint}/", {"nam": book.anna.pk})
    assert len(response.json()["results"]) == 1
