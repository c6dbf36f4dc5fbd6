"""The projects API: projects, milestones and their rules, tasks, training, initiatives, service
cases and service levels; filters, versions, foreign ids, query counts and the schema."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_crm.access import Role
from projects.models import (
    MarketingInitiative,
    Milestone,
    MilestoneDependency,
    Project,
    ServiceCase,
    ServiceLevel,
    Task,
    TrainingAttendance,
)
from tests.clients.api_book import api_as
from tests.factories import (
    AccountTeamMemberFactory,
    ContactFactory,
    MarketingInitiativeFactory,
    MilestoneDependencyFactory,
    MilestoneFactory,
    ProjectFactory,
    ServiceCaseFactory,
    ServiceLevelFactory,
    TaskFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
    UserFactory,
)
from tests.orders.test_api import assert_error
from tests.projects.api_book import ProjectsBook, make_projects_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> ProjectsBook:
    return make_projects_book()


def days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def on_account(book: ProjectsBook, role: str) -> Any:
    """Someone with `role` on client A's account team (not a project runner unless PM)."""
    user = UserFactory(roles=[Role.ACCOUNT_STAFF])
    AccountTeamMemberFactory(client=book.book.a.client, user=user, role=role)
    return user


# Projects ----------------------------------------------------------------------------------------


def test_it_starts_a_project_and_edits_it_with_the_version_it_read(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    created = api.post(
        "/api/v1/projects/",
        {"client": book.book.a.client.pk, "order": book.orders.a.confirmed_order.pk,
         "name": "Scanner rollout", "kind": "implementation", "starts_on": days(0),
         "due_on": days(90), "budget": "15000.00"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    project = created.json()
    assert (project["manager"], project["status"], project["version"]) == (
        book.book.a.nam.pk, "planned", 1)  # fmt: skip
    assert (project["health"], project["milestone_count"], project["next_due"]) == (
        "on_track", 0, None)  # fmt: skip
    url = f"/api/v1/projects/{project['id']}/"
    edited = api.patch(url, {"status": "active", "version": 1}, format="json")
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["status"], edited.json()["version"]) == ("active", 2)
    backwards = api.patch(url, {"due_on": days(-1), "version": 2}, format="json")
    body = assert_error(backwards, 400, "invalid")
    assert body["message"] == "A project cannot be due before it starts."
    assert Project.objects.get(pk=project["id"]).due_on.isoformat() == days(90)


def test_it_answers_409_to_a_stale_project_edit_and_keeps_the_first(book: ProjectsBook) -> None:
    url = f"/api/v1/projects/{book.a.project.pk}/"
    first = api_as(book.book.a.nam).patch(url, {"name": "First", "version": 1}, format="json")
    assert first.status_code == 200, first.json()
    second = api_as(book.book.a.lead).patch(url, {"name": "Second", "version": 1}, format="json")
    assert_error(second, 409, "concurrent_edit", set())
    assert Project.objects.get(pk=book.a.project.pk).name == "First"
    missing = api_as(book.book.a.lead).patch(url, {"name": "Third"}, format="json")
    assert_error(missing, 400, "invalid", {"version"})


def test_it_keeps_a_project_on_its_client_and_refuses_a_manager_off_the_account(
    book: ProjectsBook,
) -> None:
    api = api_as(book.book.admin)
    url = f"/api/v1/projects/{book.a.project.pk}/"
    moved = api.patch(url, {"client": book.book.b.client.pk, "version": 1}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["client"] == book.book.a.client.pk  # read-only once created
    outsider = api.patch(url, {"manager": book.book.b.nam.pk, "version": 2}, format="json")
    body = assert_error(outsider, 400, "invalid", {"manager"})
    assert body["fields"]["manager"] == ["nam_b does not work on this account."]
    assert Project.objects.get(pk=book.a.project.pk).manager == book.book.a.nam


def test_it_refuses_to_complete_a_project_with_open_milestones(book: ProjectsBook) -> None:
    response = api_as(book.book.a.nam).patch(
        f"/api/v1/projects/{book.a.project.pk}/", {"status": "completed", "version": 1},
        format="json",
    )  # fmt: skip
    body = assert_error(response, 400, "milestones_open", set())
    assert body["message"] == "Complete these milestones first: “Design”, “Rollout”."
    assert Project.objects.get(pk=book.a.project.pk).status == "active"


def test_it_filters_and_sorts_projects_with_the_html_lists_filterset(book: ProjectsBook) -> None:
    late = ProjectFactory(
        client=book.book.a.client, manager=book.book.a.nam, name="Overdue",
        starts_on=timezone.localdate() - datetime.timedelta(days=60),
        due_on=timezone.localdate() - datetime.timedelta(days=1),
    )  # fmt: skip
    api = api_as(book.book.a.nam)
    found = api.get("/api/v1/projects/", {"health": "late"}).json()["results"]
    assert [(p["id"], p["health"]) for p in found] == [(late.pk, "late")]
    ordered = api.get("/api/v1/projects/", {"ordering": "-due_on"}).json()["results"]
    assert [p["id"] for p in ordered] == [book.a.project.pk, late.pk]
    listed = api.get("/api/v1/projects/", {"q": "ORD-"}).json()
    assert [p["id"] for p in listed["results"]] == [book.a.project.pk]
    row = listed["results"][0]
    assert (row["milestone_count"], row["milestones_done"], row["next_due"]) == (3, 1, days(30))
    assert_error(api.get("/api/v1/projects/", {"kind": "party"}), 400, "invalid", {"kind"})


# Milestones --------------------------------------------------------------------------------------


def test_it_refuses_to_complete_a_milestone_before_its_predecessors(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    second = f"/api/v1/milestones/{book.a.second.pk}/complete/"
    body = assert_error(api.post(second, {}, format="json"), 400, "predecessors_open", set())
    assert body["message"] == "“Rollout” cannot be completed before “Design”."
    assert Milestone.objects.get(pk=book.a.second.pk).completed_on is None

    first = api.post(f"/api/v1/milestones/{book.a.first.pk}/complete/", {}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["completed_on"] == days(0)
    done = api.post(second, {}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["completed_on"], done.json()["predecessors"]) == (
        days(0), [book.a.first.pk])  # fmt: skip
    again = assert_error(api.post(second, {}, format="json"), 400, "already_completed")
    assert "was already completed" in again["message"]


def test_it_refuses_a_completion_in_the_future_or_before_a_predecessors(
    book: ProjectsBook,
) -> None:
    api = api_as(book.book.a.nam)
    first = f"/api/v1/milestones/{book.a.first.pk}/complete/"
    assert_error(api.post(first, {"on": days(1)}, format="json"), 400, "completed_in_future")
    assert api.post(first, {"on": days(-2)}, format="json").status_code == 200
    second = f"/api/v1/milestones/{book.a.second.pk}/complete/"
    body = assert_error(api.post(second, {"on": days(-3)}, format="json"), 400, "predecessors_open")
    assert "was completed later" in body["message"]
    assert_error(api.post(second, {"on": "soon"}, format="json"), 400, "invalid", {"on"})


def test_it_reopens_a_milestone_only_after_its_completed_successors(book: ProjectsBook) -> None:
    Milestone.objects.filter(pk__in=[book.a.first.pk, book.a.second.pk]).update(
        completed_on=timezone.localdate()
    )
    api = api_as(book.book.a.nam)
    first = f"/api/v1/milestones/{book.a.first.pk}/reopen/"
    body = assert_error(api.post(first), 400, "successors_completed", set())
    assert body["message"] == "Reopen “Rollout” first: it waits for “Design” and is completed."
    assert api.post(f"/api/v1/milestones/{book.a.second.pk}/reopen/").status_code == 200
    reopened = api.post(first)
    assert reopened.status_code == 200, reopened.json()
    assert reopened.json()["completed_on"] is None


def test_it_sets_predecessors_without_cycles_or_other_projects(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/milestones/{book.a.done.pk}/predecessors/"
    # "Kick-off" is completed, so it cannot wait for open milestones.
    body = assert_error(
        api.post(url, {"predecessors": [book.a.first.pk]}, format="json"), 400, "predecessors_open"
    )
    assert "“Kick-off” is completed" in body["message"]
    first = f"/api/v1/milestones/{book.a.first.pk}/predecessors/"
    cycle = api.post(first, {"predecessors": [book.a.second.pk]}, format="json")
    body = assert_error(cycle, 400, "dependency_cycle", set())
    assert body["message"] == (
        "“Rollout” already waits for “Design”: it cannot also come before it."
    )
    other = MilestoneFactory(project=ProjectFactory(client=book.book.a.client), name="Elsewhere")
    foreign = api.post(first, {"predecessors": [other.pk]}, format="json")
    assert_error(foreign, 400, "invalid", {"predecessors"})
    team_b = api.post(first, {"predecessors": [book.b.first.pk]}, format="json")
    assert_error(team_b, 400, "invalid", {"predecessors"})  # invisible: like a missing id
    set_ok = api.post(first, {"predecessors": [book.a.done.pk]}, format="json")
    assert set_ok.status_code == 200, set_ok.json()
    assert set_ok.json()["predecessors"] == [book.a.done.pk]
    assert set(
        MilestoneDependency.objects.values_list("milestone_id", "predecessor_id").filter(
            milestone__project=book.a.project
        )
    ) == {(book.a.second.pk, book.a.first.pk), (book.a.first.pk, book.a.done.pk)}


def test_it_lets_a_milestones_owner_complete_it_but_not_edit_it(book: ProjectsBook) -> None:
    sales = on_account(book, "sales")
    Milestone.objects.filter(pk=book.a.first.pk).update(owner=sales)
    api = api_as(sales)
    url = f"/api/v1/milestones/{book.a.first.pk}/"
    assert_error(api.patch(url, {"name": "Mine"}, format="json"), 403, "not_allowed")
    assert api.post(f"{url}complete/", {}, format="json").status_code == 200
    assert api.post(f"{url}reopen/").status_code == 200
    other = f"/api/v1/milestones/{book.a.done.pk}/reopen/"
    assert_error(api.post(other), 403, "not_allowed")


def test_it_adds_milestones_to_open_projects_only(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    payload = {"project": book.a.project.pk, "name": "Go-live", "due_on": days(100),
               "billable_amount": "7500.00"}  # fmt: skip
    created = api.post("/api/v1/milestones/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["owner"], created.json()["is_late"]) == (book.book.a.nam.pk, False)
    bad_dates = api.post("/api/v1/milestones/", payload | {"starts_on": days(101)}, format="json")
    body = assert_error(bad_dates, 400, "invalid")
    assert body["message"] == "A milestone cannot be due before it starts."
    Project.objects.filter(pk=book.a.project.pk).update(status="cancelled")
    closed = api.post("/api/v1/milestones/", payload, format="json")
    body = assert_error(closed, 400, "project_closed", set())
    assert "reopen it before changing its plan" in body["message"]
    assert book.a.project.milestones.count() == 4


def test_it_filters_milestones_due_soon_and_overdue(book: ProjectsBook) -> None:
    late = MilestoneFactory(project=book.a.project, name="Late", due_on=timezone.localdate()
                            - datetime.timedelta(days=1), owner=book.book.a.nam)  # fmt: skip
    api = api_as(book.book.a.nam)
    overdue = api.get("/api/v1/milestones/", {"overdue": "true"}).json()["results"]
    assert [(m["id"], m["is_late"]) for m in overdue] == [(late.pk, True)]
    soon = api.get("/api/v1/milestones/", {"due_within": 30}).json()["results"]
    assert [m["id"] for m in soon] == [book.a.first.pk]
    done = api.get("/api/v1/milestones/", {"completed": "true"}).json()["results"]
    assert [m["id"] for m in done] == [book.a.done.pk]
    assert_error(api.get("/api/v1/milestones/", {"due_within": 999}), 400, "invalid")


# Tasks -------------------------------------------------------------------------------------------


def test_it_marks_a_task_done_by_its_assignee_who_may_not_edit_it(book: ProjectsBook) -> None:
    sales = on_account(book, "sales")
    Task.objects.filter(pk=book.a.task.pk).update(assignee=sales)
    api = api_as(sales)
    url = f"/api/v1/tasks/{book.a.task.pk}/"
    done = api.post(f"{url}done/", {}, format="json")
    assert done.status_code == 200, done.json()
    done_at = done.json()["done_at"]
    assert done_at.endswith("Z")
    assert api.post(f"{url}done/", {}, format="json").json()["done_at"] == done_at  # twice: same
    assert api.post(f"{url}done/", {"done": False}, format="json").json()["done_at"] is None
    assert_error(api.patch(url, {"title": "Mine"}, format="json"), 403, "not_allowed")
    assert_error(api.delete(url), 403, "not_allowed")
    assert Task.objects.get(pk=book.a.task.pk).title == "Workshop"


def test_it_keeps_a_tasks_milestone_in_its_project(book: ProjectsBook) -> None:
    other = MilestoneFactory(project=ProjectFactory(client=book.book.a.client))
    api = api_as(book.book.a.nam)
    response = api.post(
        "/api/v1/tasks/",
        {"project": book.a.project.pk, "milestone": other.pk, "title": "Misfiled"},
        format="json",
    )
    body = assert_error(response, 400, "invalid", {"milestone"})
    assert body["fields"]["milestone"] == ["The milestone belongs to another project."]
    mine = api.get("/api/v1/tasks/", {"assignee": book.book.a.nam.pk, "done": "false"}).json()
    assert [t["id"] for t in mine["results"]] == [book.a.task.pk]


# Training ----------------------------------------------------------------------------------------


def test_it_records_attendance_and_feedback_on_a_session(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/training-sessions/{book.a.session.pk}/"
    newcomer = ContactFactory(client=book.book.a.client, last_name="Zeta")
    added = api.post(f"{url}attendance/", {"contact": newcomer.pk, "feedback_score": 4},
                     format="json")  # fmt: skip
    assert added.status_code == 200, added.json()
    session = added.json()
    assert (session["attendee_count"], session["attended_count"]) == (2, 2)
    assert session["average_feedback"] == "4.00"
    assert [(a["contact"], a["feedback_score"]) for a in session["attendance"]] == [
        (book.book.a.contact.pk, None), (newcomer.pk, 4)]  # fmt: skip
    updated = api.post(f"{url}attendance/", {"contact": newcomer.pk, "attended": False},
                       format="json")  # fmt: skip
    assert updated.json()["attended_count"] == 1
    assert TrainingAttendance.objects.filter(session=book.a.session).count() == 2
    out_of_range = api.post(f"{url}attendance/", {"contact": newcomer.pk, "feedback_score": 6},
                            format="json")  # fmt: skip
    assert_error(out_of_range, 400, "invalid", {"feedback_score"})
    foreign = api.post(f"{url}attendance/", {"contact": book.book.b.contact.pk}, format="json")
    assert_error(foreign, 400, "invalid", {"contact"})
    removed = api.delete(f"{url}attendance/?contact={newcomer.pk}")
    assert removed.status_code == 200, removed.json()
    assert [a["contact"] for a in removed.json()["attendance"]] == [book.book.a.contact.pk]
    assert_error(api.delete(f"{url}attendance/"), 400, "invalid", {"contact"})


def test_it_refuses_a_contact_of_another_client_it_sees(book: ProjectsBook) -> None:
    response = api_as(book.book.admin).post(
        f"/api/v1/training-sessions/{book.a.session.pk}/attendance/",
        {"contact": book.book.b.contact.pk},
        format="json",
    )
    body = assert_error(response, 400, "invalid", {"contact"})
    assert "works for another client" in body["fields"]["contact"][0]
    assert TrainingAttendance.objects.filter(session=book.a.session).count() == 1


def test_it_holds_a_session_at_a_site_or_remotely(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    payload = {"client": book.book.a.client.pk, "topic": "Dashboards",
               "starts_at": "2026-05-12T08:00:00Z", "site": book.book.a.site.pk,
               "remote": True}  # fmt: skip
    both = api.post("/api/v1/training-sessions/", payload, format="json")
    body = assert_error(both, 400, "invalid")
    assert body["message"] == "A session takes place either at a site or remotely."
    on_site = api.post("/api/v1/training-sessions/", payload | {"remote": False}, format="json")
    assert on_site.status_code == 201, on_site.json()
    assert (on_site.json()["trainer"], on_site.json()["attendance"]) == (book.book.a.nam.pk, [])
    found = api.get("/api/v1/training-sessions/", {"contact": book.book.a.contact.pk}).json()
    assert [s["id"] for s in found["results"]] == [book.a.session.pk]


# Marketing initiatives ---------------------------------------------------------------------------


def test_it_keeps_an_initiatives_contribution_within_budget_and_its_project_marketing(
    book: ProjectsBook,
) -> None:
    api = api_as(book.book.a.nam)
    payload = {"client": book.book.a.client.pk, "name": "Spring fair", "channel": "trade_show",
               "starts_on": "2026-04-01", "ends_on": "2026-04-03", "budget": "1000.00",
               "our_contribution": "1500.00"}  # fmt: skip
    over = api.post("/api/v1/initiatives/", payload, format="json")
    body = assert_error(over, 400, "invalid")
    assert body["message"] == "Our contribution must be between zero and the total budget."
    delivery = api.post(
        "/api/v1/initiatives/",
        payload | {"our_contribution": "500.00", "project": book.a.project.pk},
        format="json",
    )
    assert_error(delivery, 400, "invalid", {"project"})
    marketing = ProjectFactory(client=book.book.a.client, kind="marketing", manager=book.book.a.nam)
    created = api.post(
        "/api/v1/initiatives/",
        payload | {"our_contribution": "500.00", "project": marketing.pk,
                   "target_value": "200", "result_value": "150"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["achievement"] == "75.00"
    running = api.get("/api/v1/initiatives/", {"active_on": "2026-04-02"}).json()["results"]
    assert [i["id"] for i in running] == [created.json()["id"]]
    assert MarketingInitiative.objects.filter(client=book.book.a.client).count() == 2


# Service cases -----------------------------------------------------------------------------------


def test_it_opens_a_case_with_the_contracts_sla_and_works_it_to_closed(
    book: ProjectsBook,
) -> None:
    service = on_account(book, "customer_service")
    api = api_as(service)
    created = api.post(
        "/api/v1/service-cases/",
        {"client": book.book.a.client.pk, "contact": book.book.a.contact.pk,
         "subject": "Line 3 down", "priority": "urgent"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    case = created.json()
    opened = datetime.datetime.fromisoformat(case["opened_at"])
    due = datetime.datetime.fromisoformat(case["sla_due"])
    assert due - opened == datetime.timedelta(hours=2)  # the contract's urgent SLA, not 4 h
    assert (case["status"], case["is_past_sla"], case["version"]) == ("new", False, 1)
    url = f"/api/v1/service-cases/{case['id']}/"

    assigned = api.post(f"{url}assign/", {"assignee": service.pk}, format="json")
    assert (assigned.json()["status"], assigned.json()["assignee"]) == ("open", service.pk)
    waiting = api.post(f"{url}status/", {"status": "waiting"}, format="json")
    assert waiting.json()["status"] == "waiting", waiting.json()
    assert_error(api.post(f"{url}status/", {"status": "resolved"}, format="json"), 400,
                 "invalid", {"status"})  # fmt: skip
    assert api.post(f"{url}status/", {"status": "open"}, format="json").json()["status"] == "open"
    blank = api.post(f"{url}resolve/", {"resolution": "  "}, format="json")
    assert_error(blank, 400, "invalid", {"resolution"})
    resolved = api.post(f"{url}resolve/", {"resolution": "Replaced the belt."}, format="json")
    assert resolved.status_code == 200, resolved.json()
    assert (resolved.json()["status"], resolved.json()["resolution"]) == (
        "resolved", "Replaced the belt.")  # fmt: skip
    assert resolved.json()["resolved_at"]
    edit = api.patch(url, {"subject": "Late edit", "version": resolved.json()["version"]},
                     format="json")  # fmt: skip
    assert_error(edit, 400, "case_closed", set())
    closed = api.post(f"{url}close/", {}, format="json")
    assert (closed.json()["status"], closed.json()["resolution"]) == (
        "closed", "Replaced the belt.")  # fmt: skip
    reopened = api.post(f"{url}reopen/")
    assert (reopened.json()["status"], reopened.json()["resolution"]) == ("open", "")
    again = assert_error(api.post(f"{url}reopen/"), 400, "transition_not_allowed", set())
    assert "cannot become open" in again["message"]


def test_it_closes_an_unresolved_case_only_with_a_resolution(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/service-cases/{book.a.case.pk}/close/"
    body = assert_error(api.post(url, {}, format="json"), 400, "invalid", {"resolution"})
    assert body["fields"]["resolution"] == ["Say how the case was resolved before closing it."]
    assert ServiceCase.objects.get(pk=book.a.case.pk).status == "new"
    assert api.post(url, {"resolution": "Duplicate."}, format="json").json()["status"] == "closed"


def test_it_recomputes_the_sla_when_the_priority_changes_and_refuses_stale_edits(
    book: ProjectsBook,
) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/service-cases/{book.a.case.pk}/"
    raised = api.patch(url, {"priority": "urgent", "version": 1}, format="json")
    assert raised.status_code == 200, raised.json()
    case = ServiceCase.objects.get(pk=book.a.case.pk)
    assert case.sla_due - case.opened_at == datetime.timedelta(hours=2)
    stale = api_as(book.book.a.lead).patch(url, {"subject": "Other", "version": 1}, format="json")
    assert_error(stale, 409, "concurrent_edit", set())
    assert ServiceCase.objects.get(pk=book.a.case.pk).version == 2


def test_it_refuses_an_assignee_off_the_account(book: ProjectsBook) -> None:
    response = api_as(book.book.a.nam).post(
        f"/api/v1/service-cases/{book.a.case.pk}/assign/",
        {"assignee": book.book.b.nam.pk},
        format="json",
    )
    body = assert_error(response, 400, "invalid", {"assignee"})
    assert body["fields"]["assignee"] == ["nam_b does not work on this account."]
    assert ServiceCase.objects.get(pk=book.a.case.pk).assignee is None


def test_it_filters_the_case_queue(book: ProjectsBook) -> None:
    now = timezone.now()
    late = ServiceCaseFactory(
        client=book.book.a.client, priority="high", opened_at=now - datetime.timedelta(days=2),
        sla_due=now - datetime.timedelta(hours=1),
    )  # fmt: skip
    api = api_as(book.book.a.nam)
    past = api.get("/api/v1/service-cases/", {"past_sla": "true"}).json()["results"]
    assert [(c["id"], c["is_past_sla"]) for c in past] == [(late.pk, True)]
    open_cases = api.get("/api/v1/service-cases/", {"is_open": "true", "ordering": "priority"})
    assert [c["id"] for c in open_cases.json()["results"]] == [late.pk, book.a.case.pk]
    found = api.get("/api/v1/service-cases/", {"q": f"#{book.a.case.pk}"}).json()["results"]
    assert [c["id"] for c in found] == [book.a.case.pk]


# Service levels ----------------------------------------------------------------------------------


def test_it_sets_a_contracts_sla_once_per_priority(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    payload = {"contract": book.orders.a.contract.pk, "priority": "urgent", "hours": 1}
    duplicate = api.post("/api/v1/service-levels/", payload, format="json")
    body = assert_error(duplicate, 400, "invalid")
    assert body["message"] == "This contract already sets this priority's SLA."
    zero = api.post("/api/v1/service-levels/", payload | {"priority": "low", "hours": 0},
                    format="json")  # fmt: skip
    assert_error(zero, 400, "invalid", {"hours"})
    created = api.post("/api/v1/service-levels/", payload | {"priority": "low", "hours": 48},
                       format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    mine = api.get("/api/v1/service-levels/", {"contract": book.orders.a.contract.pk}).json()
    assert [(s["priority"], s["hours"]) for s in mine["results"]] == [("urgent", 2), ("low", 48)]
    case = api.post("/api/v1/service-cases/",
                    {"client": book.book.a.client.pk, "subject": "Slow", "priority": "low"},
                    format="json").json()  # fmt: skip
    due = datetime.datetime.fromisoformat(case["sla_due"])
    assert due - datetime.datetime.fromisoformat(case["opened_at"]) == datetime.timedelta(hours=48)
    assert ServiceLevel.objects.filter(contract=book.orders.a.contract).count() == 2


def test_it_leaves_service_levels_to_who_manages_the_contract(book: ProjectsBook) -> None:
    service = on_account(book, "customer_service")
    api = api_as(service)  # runs cases, but the contract is the NAM's
    url = f"/api/v1/service-levels/{book.a.level.pk}/"
    assert api.get(url).status_code == 200
    assert_error(api.patch(url, {"hours": 1}, format="json"), 403, "not_allowed")
    payload = {"contract": book.orders.a.contract.pk, "priority": "high", "hours": 6}
    assert_error(api.post("/api/v1/service-levels/", payload, format="json"), 403, "not_allowed")
    assert ServiceLevel.objects.get(pk=book.a.level.pk).hours == 2


# Foreign ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "payload"),
    [
        ("projects", "client", lambda b: {"client": b.book.b.client.pk, "name": "X",
                                          "starts_on": "2026-01-01", "due_on": "2026-02-01"}),
        ("projects", "order", lambda b: {"client": b.book.a.client.pk, "name": "X",
                                         "order": b.orders.b.order.pk,
                                         "starts_on": "2026-01-01", "due_on": "2026-02-01"}),
        ("milestones", "project", lambda b: {"project": b.b.project.pk, "name": "X",
                                             "due_on": "2026-09-01"}),
        ("tasks", "milestone", lambda b: {"project": b.a.project.pk, "title": "X",
                                          "milestone": b.b.first.pk}),
        ("training-sessions", "site", lambda b: {"client": b.book.a.client.pk, "topic": "X",
                                                 "starts_at": "2026-05-01T09:00:00Z",
                                                 "site": b.book.b.site.pk}),
        ("initiatives", "client", lambda b: {"client": b.book.b.client.pk, "name": "X",
                                             "channel": "event", "starts_on": "2026-01-01",
                                             "ends_on": "2026-01-02"}),
        ("service-cases", "contact", lambda b: {"client": b.book.a.client.pk, "subject": "X",
                                                "contact": b.book.b.contact.pk}),
        ("service-levels", "contract", lambda b: {"contract": b.orders.b.contract.pk,
                                                  "priority": "low", "hours": 5}),
    ],
)  # fmt: skip
def test_it_treats_a_foreign_id_like_one_that_does_not_exist(
    book: ProjectsBook, path: str, field: str, payload
) -> None:
    api = api_as(book.book.a.nam)
    data = payload(book)
    count = api.get(f"/api/v1/{path}/").json()["count"]
    body = assert_error(api.post(f"/api/v1/{path}/", data, format="json"), 400, "invalid")
    assert set(body["fields"]) == {field}
    missing_id = 10**9
    missing = api.post(f"/api/v1/{path}/", data | {field: missing_id}, format="json")
    assert missing.json()["fields"][field] == [
        message.replace(str(data[field]), str(missing_id)) for message in body["fields"][field]
    ]
    assert api.get(f"/api/v1/{path}/").json()["count"] == count


# Query counts ------------------------------------------------------------------------------------


def count_queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries)


def add_rows(book: ProjectsBook, n: int) -> None:
    """`n` more of everything on client A, with the links each list row shows."""
    client, nam = book.book.a.client, book.book.a.nam
    for _ in range(n):
        project = ProjectFactory(client=client, manager=nam, order=book.orders.a.order)
        first = MilestoneFactory(project=project, owner=nam)
        second = MilestoneFactory(project=project, owner=nam)
        MilestoneDependencyFactory(milestone=second, predecessor=first)
        TaskFactory(project=project, milestone=first, assignee=nam)
        session = TrainingSessionFactory(client=client, project=project, trainer=nam)
        TrainingAttendanceFactory(session=session, contact=ContactFactory(client=client),
                                  feedback_score=5)  # fmt: skip
        MarketingInitiativeFactory(client=client, project=project)
        ServiceCaseFactory(client=client, project=project, order=book.orders.a.order,
                           assignee=nam)  # fmt: skip
    for priority in ("high", "normal", "low"):
        ServiceLevelFactory(contract=book.orders.a.contract, priority=priority, hours=40)


# Token, the caller's roles, count, page (+ the predecessors of a page of milestones).
LISTS = {
    "projects": 4,
    "milestones": 5,
    "tasks": 4,
    "training-sessions": 4,
    "initiatives": 4,
    "service-cases": 4,
    "service-levels": 4,
}


def test_it_lists_every_resource_in_a_fixed_number_of_queries(book: ProjectsBook) -> None:
    api = api_as(book.book.a.nam)
    few = {path: count_queries(api, f"/api/v1/{path}/") for path in LISTS}
    add_rows(book, 12)
    assert api.get("/api/v1/milestones/").json()["count"] == 3 + 24
    many = {path: count_queries(api, f"/api/v1/{path}/") for path in LISTS}
    assert many == few
    assert many == LISTS  # nothing per row


def test_it_shows_a_training_session_with_its_attendance_in_a_fixed_number_of_queries(
    book: ProjectsBook,
) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/training-sessions/{book.a.session.pk}/"
    one = count_queries(api, url)
    for _ in range(15):
        TrainingAttendanceFactory(session=book.a.session,
                                  contact=ContactFactory(client=book.book.a.client))  # fmt: skip
    assert len(api.get(url).json()["attendance"]) == 16
    assert count_queries(api, url) == one


# Schema ------------------------------------------------------------------------------------------


def test_it_documents_the_projects_api_in_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path in [
        "/api/v1/projects/",
        "/api/v1/milestones/",
        "/api/v1/tasks/",
        "/api/v1/training-sessions/",
        "/api/v1/initiatives/",
        "/api/v1/service-cases/",
        "/api/v1/service-levels/",
        "/api/v1/milestones/{id}/complete/",
        "/api/v1/milestones/{id}/reopen/",
        "/api/v1/milestones/{id}/predecessors/",
        "/api/v1/tasks/{id}/done/",
        "/api/v1/service-cases/{id}/assign/",
        "/api/v1/service-cases/{id}/resolve/",
        "/api/v1/service-cases/{id}/close/",
        "/api/v1/service-cases/{id}/reopen/",
    ]:
        assert path in paths
    assert set(paths["/api/v1/training-sessions/{id}/attendance/"]) == {"post", "delete"}
    for path in ["/api/v1/projects/{id}/", "/api/v1/service-cases/{id}/"]:
        assert "409" in paths[path]["patch"]["responses"]
        assert "delete" not in paths[path]
    complete = paths["/api/v1/milestones/{id}/complete/"]["post"]
    assert "predecessors_open" in complete["description"]
    assert "400" in complete["responses"]
    filters = {p["name"] for p in paths["/api/v1/projects/"]["get"]["parameters"]}
    assert {"health", "is_open", "ordering", "page"} <= filters
