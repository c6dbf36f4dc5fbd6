"""Project pages: list (search, filters, sort, CSV, htmx), detail with health and its reason,
the plan's complete/reopen buttons over htmx (the timeline redrawn), milestone and project
forms (errors kept, predecessors, cycles, concurrent edits), the timeline (40 milestones in
the same queries as 1), the client page's sections, and query counts pinned."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.models import Milestone, MilestoneDependency, Project
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    MarketingInitiativeFactory,
    MilestoneDependencyFactory,
    MilestoneFactory,
    ProjectFactory,
    ServiceCaseFactory,
    TaskFactory,
    TrainingAttendanceFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def account():
    return ClientFactory(name="Padano Spa")


@pytest.fixture
def pm(account):
    return AccountTeamMemberFactory(client=account, role="project_manager").user


@pytest.fixture
def pm_client(english, login, pm):
    login(pm)
    return english


@pytest.fixture
def project(account, pm):
    return ProjectFactory(
        client=account, manager=pm, name="Rollout Nord", starts_on=days(-30), due_on=days(60)
    )


def _timeline_rows(html: str) -> list[str]:
    return re.findall(r'data-testid="timeline-row" data-row="([a-z]+-\d+)"', html)


# List ------------------------------------------------------------------------------------------


def test_it_lists_projects_with_their_health(pm_client, account, project) -> None:
    late = ProjectFactory(client=account, name="Late one", starts_on=days(-60), due_on=days(30))
    MilestoneFactory(project=late, due_on=days(-2))
    ProjectFactory(name="Someone else's")  # another client's: never listed
    response = pm_client.get(reverse("projects:project_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rollout Nord" in html
    assert "Late one" in html
    assert "Someone else" not in html
    assert 'data-health="late"' in html
    assert 'data-health="on_track"' in html


def test_it_filters_searches_and_sorts_by_health(pm_client, account, project) -> None:
    late = ProjectFactory(client=account, name="Late one", starts_on=days(-60), due_on=days(30))
    MilestoneFactory(project=late, due_on=days(-2))
    url = reverse("projects:project_list")
    assert "Rollout Nord" not in pm_client.get(url, {"health": "late"}).content.decode()
    assert "Late one" in pm_client.get(url, {"health": "late"}).content.decode()
    assert "Late one" not in pm_client.get(url, {"q": "rollout"}).content.decode()
    html = pm_client.get(url, {"ordering": "health"}).content.decode()
    assert html.index("Late one") < html.index("Rollout Nord")


def test_it_shows_a_bad_filter_as_an_error_not_a_crash(pm_client, project) -> None:
    response = pm_client.get(reverse("projects:project_list"), {"due_after": "tomorrow-ish"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


def test_it_answers_htmx_with_the_results_partial(pm_client, project) -> None:
    response = pm_client.get(reverse("projects:project_list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html


def test_it_exports_the_filtered_list_as_csv(pm_client, account, project) -> None:
    ProjectFactory(client=account, name="Other", status="completed")
    response = pm_client.get(reverse("projects:project_list"), {"format": "csv", "is_open": "true"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["Project", "Client", "Kind", "Status", "Health"]
    assert [row[0] for row in rows[1:]] == ["Rollout Nord"]
    assert rows[1][4] == "On track"


def test_the_list_costs_the_same_queries_for_1_or_30_projects(pm_client, account, pm) -> None:
    url = reverse("projects:project_list")
    ProjectFactory(client=account, manager=pm)
    pm_client.get(url)
    with CaptureQueriesContext(connection) as one:
        pm_client.get(url)
    for _ in range(29):
        MilestoneFactory(project=ProjectFactory(client=account, manager=pm))
    with CaptureQueriesContext(connection) as many:
        assert pm_client.get(url).status_code == 200
    assert len(many) == len(one)


# Detail and plan -------------------------------------------------------------------------------


def test_it_shows_health_with_its_reason(pm_client, project) -> None:
    MilestoneFactory(project=project, name="Site survey", due_on=days(-1))
    html = pm_client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-health="late"' in html
    assert "Past due and not completed: Site survey." in html


def test_it_explains_at_risk(pm_client, project) -> None:
    first = MilestoneFactory(project=project, name="Hardware", due_on=days(20))
    then = MilestoneFactory(project=project, name="Install", due_on=days(3))
    MilestoneDependencyFactory(milestone=then, predecessor=first)
    html = pm_client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-health="at_risk"' in html
    assert "still waiting for a predecessor: Install." in html


def test_it_shows_complete_only_where_allowed(english, login, account, project) -> None:
    milestone = MilestoneFactory(project=project, due_on=days(10))
    sales = AccountTeamMemberFactory(client=account, role="sales").user
    login(sales)
    html = english.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="complete"' not in html
    assert reverse("projects:milestone_edit", args=[milestone.pk]) not in html
    owner = AccountTeamMemberFactory(client=account, role="sales").user
    Milestone.objects.filter(pk=milestone.pk).update(owner=owner)
    login(owner)  # a milestone's owner completes it, even without running projects
    html = english.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert html.count('data-testid="complete"') == 1


def test_completing_over_htmx_redraws_the_plan_and_the_timeline(pm_client, project) -> None:
    milestone = MilestoneFactory(project=project, name="Survey", due_on=days(-3))
    response = pm_client.post(
        reverse("projects:milestone_complete", args=[milestone.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="plan"' in html
    assert 'data-testid="gantt"' in html
    assert f'data-row="milestone-{milestone.pk}" data-done="true"' in html
    assert 'hx-swap-oob="true"' in html
    assert "“Survey” completed." in html
    assert 'data-testid="reopen"' in html
    milestone.refresh_from_db()
    assert milestone.completed_on == TODAY


def test_completing_before_a_predecessor_is_refused_with_a_message(pm_client, project) -> None:
    dependency = MilestoneDependencyFactory(
        milestone__project=project, milestone__name="Go live", predecessor__name="Test"
    )
    response = pm_client.post(
        reverse("projects:milestone_complete", args=[dependency.milestone_id]),
        HTTP_HX_REQUEST="true",
    )
    assert "“Go live” cannot be completed before “Test”." in response.content.decode()
    assert Milestone.objects.get(pk=dependency.milestone_id).completed_on is None


def test_completing_without_htmx_redirects_to_the_plan(pm_client, project) -> None:
    milestone = MilestoneFactory(project=project)
    response = pm_client.post(reverse("projects:milestone_complete", args=[milestone.pk]))
    assert response.status_code == 302
    assert response.url.endswith("#plan")
    response = pm_client.post(reverse("projects:milestone_reopen", args=[milestone.pk]))
    milestone.refresh_from_db()
    assert milestone.completed_on is None


def test_the_detail_shows_tasks_and_history(pm_client, project) -> None:
    milestone = MilestoneFactory(project=project, name="Survey")
    TaskFactory(project=project, milestone=milestone, title="Book the van")
    TaskFactory(project=project, title="Order cables")
    html = pm_client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert "Book the van" in html
    assert "Order cables" in html
    assert 'data-testid="history"' in html


def test_the_detail_and_its_timeline_cost_the_same_for_1_or_40_milestones(
    pm_client, project
) -> None:
    url = reverse("projects:project_detail", args=[project.pk])
    previous = MilestoneFactory(project=project, due_on=days(1))
    TaskFactory(project=project, milestone=previous)
    pm_client.get(url)
    with CaptureQueriesContext(connection) as one:
        pm_client.get(url)
    for n in range(39):
        milestone = MilestoneFactory(project=project, due_on=days(n - 10))
        TaskFactory(project=project, milestone=milestone)
        MilestoneDependency.objects.create(milestone=milestone, predecessor=previous)
        previous = milestone
    with CaptureQueriesContext(connection) as forty:
        response = pm_client.get(url)
    html = response.content.decode()
    assert len(_timeline_rows(html)) == 41  # the project and its 40 milestones
    assert html.count("<line ") == 2 * 39  # one two-segment connector per dependency
    assert 'data-testid="timeline-today"' in html
    assert len(forty) == len(one)


# Forms -----------------------------------------------------------------------------------------


def test_it_creates_a_project_for_a_client(pm_client, account, pm) -> None:
    url = reverse("projects:project_create", args=[account.pk])
    data = {"name": "Roll-out Sud", "kind": "delivery", "status": "planned", "manager": pm.pk,
            "starts_on": days(0).isoformat(), "due_on": days(90).isoformat(), "budget": "1000",
            "currency": "EUR"}  # fmt: skip
    response = pm_client.post(url, data)
    project = Project.objects.get(name="Roll-out Sud")
    assert response.status_code == 302
    assert response.url == reverse("projects:project_detail", args=[project.pk]) + "#top"


def test_a_bad_project_form_keeps_what_was_typed(pm_client, account, pm) -> None:
    url = reverse("projects:project_create", args=[account.pk])
    data = {"name": "Backwards", "kind": "delivery", "status": "planned", "manager": pm.pk,
            "starts_on": days(10).isoformat(), "due_on": days(0).isoformat(), "budget": "1",
            "currency": "EUR"}  # fmt: skip
    response = pm_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "A project cannot be due before it starts." in html
    assert 'value="Backwards"' in html
    assert not Project.objects.filter(name="Backwards").exists()


def test_a_project_edit_on_a_stale_version_is_refused(pm_client, project, pm) -> None:
    url = reverse("projects:project_edit", args=[project.pk])
    data = {"name": "Renamed", "kind": "delivery", "status": "active", "manager": pm.pk,
            "starts_on": project.starts_on.isoformat(), "due_on": project.due_on.isoformat(),
            "budget": "1", "currency": "EUR", "version": project.version}  # fmt: skip
    Project.objects.filter(pk=project.pk).update(version=project.version + 1)
    response = pm_client.post(url, data)
    assert response.status_code == 200
    assert "Someone else changed this project after you opened it." in response.content.decode()
    project.refresh_from_db()
    assert project.name == "Rollout Nord"


def test_it_adds_a_milestone_with_predecessors(pm_client, project, pm) -> None:
    first = MilestoneFactory(project=project, name="Survey")
    url = reverse("projects:milestone_create", args=[project.pk])
    data = {"name": "Install", "due_on": days(20).isoformat(), "owner": pm.pk,
            "billable_amount": "100", "position": "2", "predecessors": [first.pk]}  # fmt: skip
    response = pm_client.post(url, data)
    assert response.status_code == 302
    milestone = Milestone.objects.get(name="Install")
    assert list(milestone.predecessors.all()) == [first]


def test_a_cycle_is_refused_and_nothing_changes(pm_client, project, pm) -> None:
    dependency = MilestoneDependencyFactory(milestone__project=project)
    before = dependency.predecessor
    url = reverse("projects:milestone_edit", args=[before.pk])
    data = {"name": "Renamed", "due_on": before.due_on.isoformat(), "owner": pm.pk,
            "billable_amount": "1", "position": "0",
            "predecessors": [dependency.milestone_id]}  # fmt: skip
    response = pm_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot also come before it" in html
    before.refresh_from_db()
    assert before.name != "Renamed"  # the plan and its predecessors are saved together or not


# Timelines and the client page -----------------------------------------------------------------


def test_the_client_timeline_shows_each_open_project_and_its_milestones(
    pm_client, account, project
) -> None:
    milestone = MilestoneFactory(project=project, due_on=days(-1))
    closed = ProjectFactory(client=account, status="completed")
    response = pm_client.get(reverse("projects:client_timeline", args=[account.pk]))
    html = response.content.decode()
    assert _timeline_rows(html) == [f"project-{project.pk}", f"milestone-{milestone.pk}"]
    assert 'data-testid="timeline-late"' in html
    html = pm_client.get(
        reverse("projects:client_timeline", args=[account.pk]), {"closed": "1"}
    ).content.decode()
    assert f"project-{closed.pk}" in html


def test_the_client_page_has_the_delivery_sections(pm_client, account, project) -> None:
    MilestoneFactory(project=project, due_on=days(-1))
    html = pm_client.get(reverse("clients:client_detail", args=[account.pk])).content.decode()
    for slug in ("projects", "timeline", "training", "initiatives", "cases"):
        assert f'<section id="{slug}"' in html
    assert html.index('id="cases"') < html.index('<section id="history"')
    assert 'data-health="late"' in html
    assert 'data-testid="gantt"' in html


def test_a_milestone_is_deleted_after_a_confirmation(pm_client, project) -> None:
    milestone = MilestoneFactory(project=project, name="Obsolete")
    url = reverse("projects:milestone_delete", args=[milestone.pk])
    edit = pm_client.get(reverse("projects:milestone_edit", args=[milestone.pk])).content.decode()
    assert url in edit
    assert "Delete Obsolete?" in pm_client.get(url).content.decode()
    response = pm_client.post(url)
    assert response.url.endswith("#plan")
    assert not Milestone.objects.filter(pk=milestone.pk).exists()


def test_a_closed_projects_plan_cannot_lose_a_milestone(pm_client, project) -> None:
    milestone = MilestoneFactory(project=project, completed_on=TODAY)
    Project.objects.filter(pk=project.pk).update(status="completed")
    response = pm_client.post(reverse("projects:milestone_delete", args=[milestone.pk]))
    assert response.status_code == 400
    assert "reopen it before changing its plan" in response.content.decode()
    assert Milestone.objects.filter(pk=milestone.pk).exists()


def test_a_task_is_marked_done_and_deleted(pm_client, project) -> None:
    task = TaskFactory(project=project, title="Call the carrier")
    pm_client.post(reverse("projects:task_done", args=[task.pk]), {"done": "1"})
    task.refresh_from_db()
    assert task.done_at is not None
    pm_client.post(reverse("projects:task_done", args=[task.pk]), {"done": "0"})
    task.refresh_from_db()
    assert task.done_at is None
    response = pm_client.post(reverse("projects:task_delete", args=[task.pk]))
    assert response.url.endswith("#tasks")
    assert not project.tasks.exists()


def test_the_client_page_and_timeline_cost_the_same_for_more_delivery_rows(
    pm_client, account, project
) -> None:
    def grow() -> None:
        MilestoneFactory(project=project)
        TrainingAttendanceFactory(session__client=account)
        MarketingInitiativeFactory(client=account)
        ServiceCaseFactory(client=account)

    grow()
    urls = [reverse("clients:client_detail", args=[account.pk]),
            reverse("projects:client_timeline", args=[account.pk])]  # fmt: skip
    counts = []
    for _ in range(2):
        for url in urls:
            pm_client.get(url)
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert pm_client.get(url).status_code == 200
            counts.append(len(queries))
        for _ in range(5):
            grow()
        ProjectFactory(client=account, manager=project.manager)
    assert counts[:2] == counts[2:]
