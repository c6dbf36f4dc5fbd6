"""The access matrix of the delivery HTML pages: every project, milestone, task, timeline,
training, initiative and service-case page and action x principal, as in
tests/orders/test_access_matrix_html.py.

Principals: an admin, the NAM on client A's account team, a NAM of another client (B), the lead
of A's team, the lead of another team, finance, a project manager and a customer-service agent
on A's account team, and anonymous.
Expected: 200 (page) or 302 (action done) when the role allows it; 403 when the person sees the
client but the role does not allow the action; 404 when they do not see it; a redirect to the
login page for anonymous. Lists (and the CSV) never contain a foreign row.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from accounts_crm.access import Role
from clients.models import Client, Contact
from projects.models import (
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    Task,
    TrainingAttendance,
    TrainingSession,
)
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContactFactory,
    MarketingInitiativeFactory,
    MilestoneFactory,
    ProjectFactory,
    ServiceCaseFactory,
    TaskFactory,
    TeamFactory,
    TrainingSessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PRINCIPALS = ["admin", "nam", "nam_other", "lead", "lead_other", "finance", "pm", "cs",
              "anonymous"]  # fmt: skip
# What each principal may do on client A: read, run projects (and training, initiatives),
# handle service cases.
RIGHTS = {
    "admin": {"read", "run", "cases"},
    "nam": {"read", "run", "cases"},
    "lead": {"read", "run", "cases"},
    "pm": {"read", "run"},
    "cs": {"read", "cases"},
    "finance": {"read"},
    "nam_other": set(),
    "lead_other": set(),
    "anonymous": set(),
}
SEES_A = {"admin", "nam", "lead", "pm", "cs", "finance"}
SEES_B = {"admin", "nam_other", "lead_other", "finance"}


@dataclass
class World:
    a: Client
    b: Client
    users: dict[str, Any]
    project: Project
    milestone: Milestone
    completed: Milestone
    task: Task
    session: TrainingSession
    contact: Contact
    initiative: MarketingInitiative
    case: ServiceCase
    closed_case: ServiceCase


@pytest.fixture
def world(db) -> World:
    today = timezone.localdate()
    lead, lead_other = (UserFactory(roles=[Role.TEAM_LEAD]) for _ in range(2))
    a = ClientFactory(team=TeamFactory(lead=lead), name="Alpha")
    b = ClientFactory(team=TeamFactory(lead=lead_other), name="Bravo")
    users = {
        "admin": UserFactory(roles=[Role.ADMIN]),
        "nam": AccountTeamMemberFactory(client=a, role="nam").user,
        "nam_other": AccountTeamMemberFactory(client=b, role="nam").user,
        "lead": lead,
        "lead_other": lead_other,
        "finance": UserFactory(roles=[Role.FINANCE]),
        "pm": AccountTeamMemberFactory(client=a, role="project_manager").user,
        "cs": AccountTeamMemberFactory(client=a, role="customer_service").user,
        "anonymous": None,
    }
    project = ProjectFactory(client=a, name="Project A", manager=users["pm"],
                             starts_on=today - datetime.timedelta(days=30),
                             due_on=today + datetime.timedelta(days=60))  # fmt: skip
    foreign = ProjectFactory(client=b, name="Project B", manager=users["nam_other"],
                             starts_on=today - datetime.timedelta(days=30),
                             due_on=today + datetime.timedelta(days=60))  # fmt: skip
    soon = today + datetime.timedelta(days=3)
    MilestoneFactory(project=foreign, name="Milestone B", due_on=soon)
    TrainingSessionFactory(client=b, topic="Training B")
    MarketingInitiativeFactory(client=b, name="Initiative B")
    ServiceCaseFactory(client=b, subject="Case B")
    now = timezone.now()
    return World(
        a=a,
        b=b,
        users=users,
        project=project,
        milestone=MilestoneFactory(project=project, name="Milestone A", due_on=soon),
        completed=MilestoneFactory(project=project, name="Done A", completed_on=today),
        task=TaskFactory(project=project, title="Task A", assignee=users["pm"]),
        session=TrainingSessionFactory(client=a, topic="Training A", trainer=users["pm"]),
        contact=ContactFactory(client=a),
        initiative=MarketingInitiativeFactory(client=a, name="Initiative A"),
        case=ServiceCaseFactory(
            client=a, subject="Case A", opened_at=now, sla_due=now + datetime.timedelta(hours=8)
        ),
        closed_case=ServiceCaseFactory(
            client=a,
            subject="Closed A",
            status="closed",
            resolution="Done",
            resolved_at=now,
            opened_at=now,
            sla_due=now + datetime.timedelta(hours=8),
        ),
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    need: str  # read, run, cases
    url: Callable[[World], str]
    data: Callable[[World], dict] = lambda w: {}
    # For actions: did the change happen? (only when the role allowed it)
    done: Callable[[World], bool] | None = None


def _url(path: str) -> Callable[[World], str]:
    return lambda w: path.format(
        a=w.a.pk, project=w.project.pk, milestone=w.milestone.pk, completed=w.completed.pk,
        task=w.task.pk, session=w.session.pk, initiative=w.initiative.pk, case=w.case.pk,
        closed=w.closed_case.pk,
    )  # fmt: skip


def _project_data(w: World) -> dict:
    return {"name": "Matrix project", "kind": "delivery", "status": "planned",
            "manager": w.users["pm"].pk, "starts_on": "2026-01-01", "due_on": "2026-12-31",
            "budget": "10", "currency": "EUR"}  # fmt: skip


ENDPOINTS = [
    Endpoint("project detail", "get", "read", _url("/projects/{project}/")),
    Endpoint("client timeline", "get", "read", _url("/projects/timeline/{a}/")),
    Endpoint("project create page", "get", "run", _url("/projects/new/{a}/")),
    Endpoint(
        "project create",
        "post",
        "run",
        _url("/projects/new/{a}/"),
        _project_data,
        done=lambda w: Project.objects.filter(name="Matrix project").exists(),
    ),
    Endpoint("project edit page", "get", "run", _url("/projects/{project}/edit/")),
    Endpoint("milestone create page", "get", "run", _url("/projects/{project}/milestones/new/")),
    Endpoint("milestone edit page", "get", "run", _url("/projects/milestones/{milestone}/edit/")),
    Endpoint(
        "milestone complete",
        "post",
        "run",
        _url("/projects/milestones/{milestone}/complete/"),
        done=lambda w: Milestone.objects.get(pk=w.milestone.pk).completed_on is not None,
    ),
    Endpoint(
        "milestone reopen",
        "post",
        "run",
        _url("/projects/milestones/{completed}/reopen/"),
        done=lambda w: Milestone.objects.get(pk=w.completed.pk).completed_on is None,
    ),
    Endpoint("task create page", "get", "run", _url("/projects/{project}/tasks/new/")),
    Endpoint("task edit page", "get", "run", _url("/projects/tasks/{task}/edit/")),
    Endpoint(
        "task done",
        "post",
        "run",
        _url("/projects/tasks/{task}/done/"),
        lambda w: {"done": "1"},
        done=lambda w: Task.objects.get(pk=w.task.pk).done_at is not None,
    ),
    Endpoint(
        "milestone delete page", "get", "run", _url("/projects/milestones/{milestone}/delete/")
    ),
    Endpoint(
        "milestone delete",
        "post",
        "run",
        _url("/projects/milestones/{milestone}/delete/"),
        done=lambda w: not Milestone.objects.filter(pk=w.milestone.pk).exists(),
    ),
    Endpoint(
        "task delete",
        "post",
        "run",
        _url("/projects/tasks/{task}/delete/"),
        done=lambda w: not Task.objects.filter(pk=w.task.pk).exists(),
    ),
    Endpoint("training detail", "get", "read", _url("/projects/training/{session}/")),
    Endpoint("training create page", "get", "run", _url("/projects/training/new/{a}/")),
    Endpoint("training edit page", "get", "run", _url("/projects/training/{session}/edit/")),
    Endpoint(
        "attendance record",
        "post",
        "run",
        _url("/projects/training/{session}/attendance/"),
        lambda w: {"contact": w.contact.pk, "attended": "on", "feedback_score": "4"},
        done=lambda w: TrainingAttendance.objects.filter(session=w.session).exists(),
    ),
    Endpoint("initiative detail", "get", "read", _url("/projects/initiatives/{initiative}/")),
    Endpoint("initiative create page", "get", "run", _url("/projects/initiatives/new/{a}/")),
    Endpoint(
        "initiative edit page", "get", "run", _url("/projects/initiatives/{initiative}/edit/")
    ),
    Endpoint(
        "training delete",
        "post",
        "run",
        _url("/projects/training/{session}/delete/"),
        done=lambda w: not TrainingSession.objects.filter(pk=w.session.pk).exists(),
    ),
    Endpoint(
        "initiative delete",
        "post",
        "run",
        _url("/projects/initiatives/{initiative}/delete/"),
        done=lambda w: not MarketingInitiative.objects.filter(pk=w.initiative.pk).exists(),
    ),
    Endpoint("case detail", "get", "read", _url("/projects/cases/{case}/")),
    Endpoint("case create page", "get", "cases", _url("/projects/cases/new/{a}/")),
    Endpoint(
        "case create",
        "post",
        "cases",
        _url("/projects/cases/new/{a}/"),
        lambda w: {"subject": "Matrix case", "priority": "high"},
        done=lambda w: ServiceCase.objects.filter(subject="Matrix case").exists(),
    ),
    Endpoint("case edit page", "get", "cases", _url("/projects/cases/{case}/edit/")),
    Endpoint(
        "case assign",
        "post",
        "cases",
        _url("/projects/cases/{case}/assign/"),
        lambda w: {"assignee": w.users["cs"].pk},
        done=lambda w: ServiceCase.objects.get(pk=w.case.pk).assignee_id == w.users["cs"].pk,
    ),
    Endpoint(
        "case status",
        "post",
        "cases",
        _url("/projects/cases/{case}/status/"),
        lambda w: {"to": "waiting"},
        done=lambda w: ServiceCase.objects.get(pk=w.case.pk).status == "waiting",
    ),
    Endpoint(
        "case resolve",
        "post",
        "cases",
        _url("/projects/cases/{case}/resolve/"),
        lambda w: {"resolution": "Fixed"},
        done=lambda w: ServiceCase.objects.get(pk=w.case.pk).status == "resolved",
    ),
    Endpoint(
        "case close",
        "post",
        "cases",
        _url("/projects/cases/{case}/close/"),
        lambda w: {"resolution": "Fixed"},
        done=lambda w: ServiceCase.objects.get(pk=w.case.pk).status == "closed",
    ),
    Endpoint(
        "case reopen",
        "post",
        "cases",
        _url("/projects/cases/{closed}/reopen/"),
        done=lambda w: ServiceCase.objects.get(pk=w.closed_case.pk).status == "open",
    ),
]


def expected_status(principal: str, endpoint: Endpoint) -> int:
    if principal == "anonymous":
        return 302
    if principal not in SEES_A:
        return 404
    allowed = 200 if endpoint.method == "get" else 302
    return allowed if endpoint.need in RIGHTS[principal] else 403


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_it_answers_each_principal_as_its_role_allows(
    as_principal, world, principal: str, endpoint: Endpoint
) -> None:
    http = as_principal(principal)

    response = getattr(http, endpoint.method)(endpoint.url(world), endpoint.data(world))

    expected = expected_status(principal, endpoint)
    assert response.status_code == expected, response.content[:300]
    if principal == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")
    if endpoint.done is not None:
        assert endpoint.done(world) is (expected == 302 and principal != "anonymous")


def test_a_milestone_owner_without_project_rights_may_complete_it(as_principal, world) -> None:
    """The one exception to the role rule (projects/policies.py): the owner completes it."""
    Milestone.objects.filter(pk=world.milestone.pk).update(owner=world.users["cs"])
    http = as_principal("cs")
    response = http.post(f"/projects/milestones/{world.milestone.pk}/complete/")
    assert response.status_code == 302
    assert Milestone.objects.get(pk=world.milestone.pk).completed_on is not None
    # ... and nothing else on the plan.
    assert http.get(f"/projects/milestones/{world.milestone.pk}/edit/").status_code == 403


# Lists: exactly the rows the principal sees, never a foreign one -----------------------------

LISTS = {
    "/projects/": "Project",
    "/projects/?format=csv": "Project",
    "/projects/milestones/": "Milestone",
    "/projects/milestones/due-soon/": "Milestone",
    "/projects/milestones/?format=csv": "Milestone",
    "/projects/training/": "Training",
    "/projects/training/?format=csv": "Training",
    "/projects/initiatives/": "Initiative",
    "/projects/initiatives/?format=csv": "Initiative",
    "/projects/cases/": "Case",
    "/projects/cases/all/": "Case",
    "/projects/cases/all/?format=csv": "Case",
}


def _content(response) -> str:
    if response["Content-Type"].startswith("text/csv"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("url", list(LISTS))
def test_it_lists_only_the_rows_each_principal_sees(as_principal, principal: str, url: str) -> None:
    http = as_principal(principal)
    response = http.get(url)
    if principal == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        return
    assert response.status_code == 200
    content = _content(response)
    assert (f"{LISTS[url]} A" in content) is (principal in SEES_A)
    assert (f"{LISTS[url]} B" in content) is (principal in SEES_B)
    # The filter dropdowns offer only the clients the person sees.
    if "format=csv" not in url:
        assert '<option value="' in content
        assert (">Bravo</option>" in content) is (principal in SEES_B)
