"""The projects API access matrix: every endpoint x action x principal, against team A's rows.

Same principals and rules as the clients and orders matrices: a row you may not see is 404 (and
never listed), a row you see but may not change is 403, anonymous is 401, an action the endpoint
does not offer is 405. A refused write changes nothing. On top of the CRUD actions, the state
changes (milestones: complete, reopen, predecessors; tasks: done; training: attendance in and
out; cases: assign, status, resolve, close, reopen) follow the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from projects.models import (
    MarketingInitiative,
    Milestone,
    MilestoneDependency,
    Project,
    ServiceCase,
    ServiceLevel,
    Task,
    TrainingAttendance,
    TrainingSession,
)
from tests.clients.api_book import api_as
from tests.clients.test_access_matrix_api import (
    LIST_SEES,
    NOT_OFFERED,
    PRINCIPALS,
    SEES_A,
    WORKS_ON_A,
    principal,
    snapshot,
)
from tests.orders.test_access_matrix_api import assert_refused_cleanly
from tests.projects.api_book import ProjectsBook, make_projects_book

pytestmark = pytest.mark.django_db

# A visible row the caller may change: 200; not visible: 404; visible, read-only: 403.
CHANGES_A = WORKS_ON_A["update"]


class Resource:
    """One endpoint: its model, side A's row (and the side's listed rows), valid payloads, and
    the id field a foreigner fails on."""

    def __init__(
        self,
        model: type[models.Model],
        rows: Callable[[ProjectsBook, str], list[models.Model]],
        create: Callable[[ProjectsBook], dict[str, Any]],
        update: Callable[[ProjectsBook], dict[str, Any]],
        expected: dict[str, list[int]],
        foreign_field: str = "client",
    ) -> None:
        self.model, self.rows, self.create, self.update = model, rows, create, update
        self.expected, self.foreign_field = expected, foreign_field


def side(book: ProjectsBook, name: str) -> Any:
    return getattr(book, name)


RESOURCES = {
    "projects": Resource(
        Project,
        lambda book, s: [side(book, s).project],
        lambda book: {
            "client": book.book.a.client.pk,
            "name": "Warehouse rollout",
            "starts_on": "2026-01-01",
            "due_on": "2026-06-30",
        },
        lambda book: {"name": "Renamed", "version": 1},
        {"retrieve": SEES_A, **WORKS_ON_A, "delete": NOT_OFFERED},
    ),
    "milestones": Resource(
        Milestone,
        lambda book, s: [side(book, s).first, side(book, s).second, side(book, s).done],
        lambda book: {"project": book.a.project.pk, "name": "Go-live", "due_on": "2026-09-30"},
        lambda book: {"name": "Design review"},
        {"retrieve": SEES_A, **WORKS_ON_A},
        foreign_field="project",
    ),
    "tasks": Resource(
        Task,
        lambda book, s: [side(book, s).task],
        lambda book: {"project": book.a.project.pk, "title": "Book the room"},
        lambda book: {"title": "Book the big room"},
        {"retrieve": SEES_A, **WORKS_ON_A},
        foreign_field="project",
    ),
    "training-sessions": Resource(
        TrainingSession,
        lambda book, s: [side(book, s).session],
        lambda book: {
            "client": book.book.a.client.pk,
            "topic": "Reports",
            "starts_at": "2026-05-10T09:00:00Z",
            "remote": True,
        },
        lambda book: {"topic": "Reports, part 2"},
        {"retrieve": SEES_A, **WORKS_ON_A},
    ),
    "initiatives": Resource(
        MarketingInitiative,
        lambda book, s: [side(book, s).initiative],
        lambda book: {
            "client": book.book.a.client.pk,
            "name": "Spring fair",
            "channel": "trade_show",
            "starts_on": "2026-04-01",
            "ends_on": "2026-04-03",
        },
        lambda book: {"result_value": "120"},
        {"retrieve": SEES_A, **WORKS_ON_A},
    ),
    "service-cases": Resource(
        ServiceCase,
        lambda book, s: [side(book, s).case, side(book, s).resolved_case],
        lambda book: {"client": book.book.a.client.pk, "subject": "Scanner offline"},
        lambda book: {"priority": "high", "version": 1},
        {"retrieve": SEES_A, **WORKS_ON_A, "delete": NOT_OFFERED},
    ),
    "service-levels": Resource(
        ServiceLevel,
        lambda book, s: [side(book, s).level],
        lambda book: {"contract": book.orders.a.contract.pk, "priority": "high", "hours": 6},
        lambda book: {"hours": 3},
        {"retrieve": SEES_A, **WORKS_ON_A},
        foreign_field="contract",
    ),
}

ACTIONS = ["list", "retrieve", "create", "update", "delete"]


class StateAction:
    """A POST (or DELETE) action on one of side A's rows; `state` reads what it changes."""

    def __init__(
        self,
        path: str,
        row: Callable[[ProjectsBook], models.Model],
        payload: Callable[[ProjectsBook], dict[str, Any]],
        state: Callable[[ProjectsBook], Any],
        expected: list[int] = CHANGES_A,
        method: str = "post",
        name: str | None = None,
    ) -> None:
        self.path, self.row, self.payload, self.state = path, row, payload, state
        self.expected, self.method, self.name = expected, method, name


def attendance_of(book: ProjectsBook) -> list[dict[str, Any]]:
    return list(TrainingAttendance.objects.filter(session=book.a.session).values().order_by("pk"))


STATE_ACTIONS = {
    "complete": StateAction(
        "milestones", lambda b: b.a.first, lambda b: {}, lambda b: snapshot(b.a.first)
    ),
    "reopen-milestone": StateAction(
        "milestones",
        lambda b: b.a.done,
        lambda b: {},
        lambda b: snapshot(b.a.done),
        name="reopen",
    ),
    "predecessors": StateAction(
        "milestones",
        lambda b: b.a.second,
        lambda b: {"predecessors": []},
        lambda b: list(MilestoneDependency.objects.filter(milestone=b.a.second).values()),
    ),
    "done": StateAction("tasks", lambda b: b.a.task, lambda b: {}, lambda b: snapshot(b.a.task)),
    "attendance": StateAction(
        "training-sessions",
        lambda b: b.a.session,
        lambda b: {"contact": b.book.a.contact.pk, "attended": False, "feedback_score": 2},
        attendance_of,
    ),
    "remove-attendance": StateAction(
        "training-sessions",
        lambda b: b.a.session,
        lambda b: {"contact": b.book.a.contact.pk},
        attendance_of,
        method="delete",
        name="attendance",
    ),
    "assign": StateAction(
        "service-cases",
        lambda b: b.a.case,
        lambda b: {"assignee": b.book.a.nam.pk},
        lambda b: snapshot(b.a.case),
    ),
    "status": StateAction(
        "service-cases",
        lambda b: b.a.case,
        lambda b: {"status": "waiting"},
        lambda b: snapshot(b.a.case),
    ),
    "resolve": StateAction(
        "service-cases",
        lambda b: b.a.case,
        lambda b: {"resolution": "Restarted the scanner."},
        lambda b: snapshot(b.a.case),
    ),
    "close": StateAction(
        "service-cases",
        lambda b: b.a.resolved_case,
        lambda b: {},
        lambda b: snapshot(b.a.resolved_case),
    ),
    "reopen-case": StateAction(
        "service-cases",
        lambda b: b.a.resolved_case,
        lambda b: {},
        lambda b: snapshot(b.a.resolved_case),
        name="reopen",
    ),
}

CELLS = [(r, a, p) for r in RESOURCES for a in ACTIONS for p in PRINCIPALS]
ACTION_CELLS = [(a, p) for a in STATE_ACTIONS for p in PRINCIPALS]


def test_it_checks_every_cell_of_the_matrix() -> None:
    # 7 endpoints x 5 actions x 6 principals, and 11 state changes x 6 principals.
    assert len(CELLS) + len(ACTION_CELLS) == 276


@pytest.mark.parametrize(("resource", "action", "who"), CELLS)
def test_it_answers_per_the_access_rules(resource: str, action: str, who: str) -> None:
    book = make_projects_book()
    spec = RESOURCES[resource]
    api = api_as(principal(book.book, who))
    base = f"/api/v1/{resource}/"
    row_a = spec.rows(book, "a")[0]
    detail = f"{base}{row_a.pk}/"

    if action == "list":
        response = api.get(base)
        if who == "anon":
            assert response.status_code == 401
            return
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["results"]}
        # Exactly the rows this person sees: none of the other team's, all of their own.
        assert ids == {row.pk for s in LIST_SEES[who] for row in spec.rows(book, s)}
        return

    expected_status = spec.expected[action][PRINCIPALS.index(who)]
    before = snapshot(row_a)
    count_before = spec.model._default_manager.count()
    if action == "retrieve":
        response = api.get(detail)
    elif action == "create":
        response = api.post(base, spec.create(book), format="json")
    elif action == "update":
        response = api.patch(detail, spec.update(book), format="json")
    else:
        response = api.delete(detail)

    assert response.status_code == expected_status, response.content[:300]
    if expected_status >= 400:
        body = assert_refused_cleanly(response, expected_status)
        assert snapshot(row_a) == before
        assert spec.model._default_manager.count() == count_before
    if expected_status == 400:
        assert spec.foreign_field in body["fields"]  # the other team's row is no valid choice
    if expected_status == 201:
        assert spec.model._default_manager.count() == count_before + 1
        assert response.json()["id"]
    if expected_status == 200 and action == "update":
        assert snapshot(row_a) != before
    if expected_status == 204:
        assert snapshot(row_a) is None


@pytest.mark.parametrize(("name", "who"), ACTION_CELLS)
def test_it_guards_state_changes_per_the_access_rules(name: str, who: str) -> None:
    book = make_projects_book()
    spec = STATE_ACTIONS[name]
    api = api_as(principal(book.book, who))
    row = spec.row(book)
    url = f"/api/v1/{spec.path}/{row.pk}/{spec.name or name}/"
    before = spec.state(book)

    if spec.method == "delete":
        query = "&".join(f"{key}={value}" for key, value in spec.payload(book).items())
        response = api.delete(f"{url}?{query}")
    else:
        response = api.post(url, spec.payload(book), format="json")

    expected_status = spec.expected[PRINCIPALS.index(who)]
    assert response.status_code == expected_status, response.content[:300]
    if expected_status >= 400:
        assert_refused_cleanly(response, expected_status)
        assert spec.state(book) == before
    else:
        assert response.json()["id"] == row.pk
        assert spec.state(book) != before
