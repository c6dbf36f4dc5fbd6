"""The orders API book (tests/orders/api_book.py) plus a delivery corner per team.

Each side's client has an active project run by its NAM with three milestones: `first`
(open), `second` (open, waits for `first`) and `done` (completed, nothing waits for it); a
task under `first` assigned to the NAM; a remote training session the side's contact attended;
a marketing initiative; a new service case and a resolved one; and an SLA override (urgent: 2
hours) on the side's contract.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from projects.models import (
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    ServiceLevel,
    Task,
    TrainingAttendance,
    TrainingSession,
)
from tests.clients.api_book import Book, Side
from tests.factories import (
    MarketingInitiativeFactory,
    MilestoneDependencyFactory,
    MilestoneFactory,
    ProjectFactory,
    ServiceCaseFactory,
    ServiceLevelFactory,
    TaskFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
)
from tests.orders.api_book import Corner, OrdersBook, make_orders_book


@dataclass
class Delivery:
    project: Project
    first: Milestone
    second: Milestone
    done: Milestone
    task: Task
    session: TrainingSession
    attendance: TrainingAttendance
    initiative: MarketingInitiative
    case: ServiceCase
    resolved_case: ServiceCase
    level: ServiceLevel


@dataclass
class ProjectsBook:
    orders: OrdersBook
    a: Delivery
    b: Delivery

    @property
    def book(self) -> Book:
        """The clients' book: principals and clients, as the shared matrix helpers want it."""
        return self.orders.book


def make_delivery(side: Side, corner: Corner) -> Delivery:
    today = timezone.localdate()
    project = ProjectFactory(
        client=side.client,
        order=corner.confirmed_order,
        manager=side.nam,
        starts_on=today - datetime.timedelta(days=30),
        due_on=today + datetime.timedelta(days=120),
    )
    first = MilestoneFactory(project=project, name="Design", due_on=today + datetime.timedelta(30))
    second = MilestoneFactory(
        project=project, name="Rollout", due_on=today + datetime.timedelta(days=60)
    )
    MilestoneDependencyFactory(milestone=second, predecessor=first)
    done = MilestoneFactory(
        project=project,
        name="Kick-off",
        due_on=today - datetime.timedelta(days=10),
        completed_on=today - datetime.timedelta(days=12),
    )
    task = TaskFactory(project=project, milestone=first, assignee=side.nam, title="Workshop")
    session = TrainingSessionFactory(client=side.client, project=project, trainer=side.nam)
    attendance = TrainingAttendanceFactory(session=session, contact=side.contact)
    initiative = MarketingInitiativeFactory(client=side.client)
    now = timezone.now()
    case = ServiceCaseFactory(
        client=side.client, contact=side.contact, opened_at=now,
        sla_due=now + datetime.timedelta(hours=24),
    )  # fmt: skip
    resolved = ServiceCaseFactory(
        client=side.client, contact=side.contact, status="resolved", resolution="Replaced.",
        opened_at=now - datetime.timedelta(days=3), sla_due=now - datetime.timedelta(days=2),
        resolved_at=now - datetime.timedelta(days=2, hours=2),
    )  # fmt: skip
    level = ServiceLevelFactory(contract=corner.contract, priority="urgent", hours=2)
    return Delivery(
        project, first, second, done, task, session, attendance, initiative, case, resolved, level
    )


def make_projects_book() -> ProjectsBook:
    orders = make_orders_book()
    return ProjectsBook(
        orders=orders,
        a=make_delivery(orders.book.a, orders.a),
        b=make_delivery(orders.book.b, orders.b),
    )
