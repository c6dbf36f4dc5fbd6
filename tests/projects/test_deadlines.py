"""The deadline scan: the right people, once per threshold, on a set-based budget."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone

from accounts_crm.access import whole_book_reader
from accounts_crm.celery import app as celery_app
from accounts_crm.models import Notification, UserPreferences
from clients.models import Client
from projects import deadlines, tasks
from projects.deadlines import deadline_scan, threshold_for
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    MilestoneFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ProjectFactory,
    ServiceCaseFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def days(n: int) -> datetime.date:
    return TODAY + n * DAY


@dataclass
class Account:
    """A client with its people: NAM, project manager, milestone owner, team lead, a bystander."""

    client: object
    nam: User
    manager: User
    owner: User
    lead: User
    sales: User
    project: object


@pytest.fixture
def account() -> Account:
    client = ClientFactory()
    nam = AccountTeamMemberFactory(client=client, role="nam", starts_on=days(-400)).user
    manager = AccountTeamMemberFactory(client=client, role="project_manager").user
    owner = AccountTeamMemberFactory(client=client, role="project_manager").user
    sales = AccountTeamMemberFactory(client=client, role="sales").user
    for user in (nam, manager, owner, sales, client.team.lead):
        UserPreferences.objects.create(user=user, language="en")
    project = ProjectFactory(
        client=client, manager=manager, starts_on=days(-200), due_on=days(200), name="Rollout"
    )
    return Account(client, nam, manager, owner, client.team.lead, sales, project)


def keys(user: User) -> set[str]:
    return set(Notification.objects.filter(user=user).values_list("key", flat=True))


def people(key_part: str) -> set[User]:
    return {n.user for n in Notification.objects.filter(key__contains=key_part)}


# Thresholds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(30, None), (8, None), (7, "due-7d"), (2, "due-7d"), (1, "due-1d"), (0, "due-1d"),
     (-1, "overdue"), (-40, "overdue")],
)  # fmt: skip
def test_it_names_the_threshold_a_deadline_reached(days_left: int, threshold: str | None) -> None:
    assert threshold_for(days_left) == threshold


# Milestones ------------------------------------------------------------------------------------


def test_it_tells_owner_manager_and_nam_a_week_before_a_milestone(account: Account) -> None:
    milestone = MilestoneFactory(
        project=account.project, owner=account.owner, due_on=days(5), name="Go-live"
    )

    result = deadline_scan(today=TODAY)

    key = f"milestone:{milestone.pk}:due-7d:{milestone.due_on.isoformat()}"
    assert people(f"milestone:{milestone.pk}:") == {account.owner, account.manager, account.nam}
    assert key in keys(account.nam)
    assert result.created["milestone"] == 3
    notification = Notification.objects.get(user=account.nam)
    assert notification.kind == "milestone_due"
    assert notification.target == milestone
    assert "Go-live" in notification.message
    assert "Rollout" in notification.message
    assert "in 5 days" in notification.message
    assert not keys(account.sales)
    assert not keys(account.lead)


def test_it_says_nothing_about_a_milestone_more_than_a_week_away(account: Account) -> None:
    MilestoneFactory(project=account.project, owner=account.owner, due_on=days(8))

    assert deadline_scan(today=TODAY).total == 0


def test_it_notifies_once_per_threshold_as_the_deadline_approaches(account: Account) -> None:
    milestone = MilestoneFactory(project=account.project, owner=account.owner, due_on=days(7))
    due = milestone.due_on.isoformat()

    for day in range(0, 12):  # one scan a day, from a week before to four days late
        deadline_scan(today=TODAY + day * DAY)
        deadline_scan(today=TODAY + day * DAY)  # and a second one the same day

    assert keys(account.nam) == {
        f"milestone:{milestone.pk}:due-7d:{due}",
        f"milestone:{milestone.pk}:due-1d:{due}",
        f"milestone:{milestone.pk}:overdue:{due}",
    }
    assert Notification.objects.filter(user=account.nam).count() == 3


def test_running_twice_creates_nothing_the_second_time(account: Account) -> None:
    MilestoneFactory(project=account.project, owner=account.owner, due_on=days(1))
    TaskFactory(project=account.project, assignee=account.owner, due_on=days(-2))
    ServiceCaseFactory(
        client=account.client, assignee=account.sales, opened_at=timezone.now() - 3 * DAY,
        sla_due=timezone.now() - DAY,
    )  # fmt: skip
    first = deadline_scan(today=TODAY)
    count = Notification.objects.count()

    second = deadline_scan(today=TODAY)

    assert first.total == count > 0
    assert second.total == 0
    assert Notification.objects.count() == count


def test_a_moved_due_date_is_announced_again(account: Account) -> None:
    milestone = MilestoneFactory(project=account.project, owner=account.owner, due_on=days(3))
    deadline_scan(today=TODAY)
    milestone.due_on = days(6)
    milestone.save()

    deadline_scan(today=TODAY)

    assert keys(account.nam) == {
        f"milestone:{milestone.pk}:due-7d:{days(3).isoformat()}",
        f"milestone:{milestone.pk}:due-7d:{days(6).isoformat()}",
    }


def test_it_announces_only_the_threshold_reached_when_first_seen_late(account: Account) -> None:
    milestone = MilestoneFactory(project=account.project, owner=account.owner, due_on=days(1))

    deadline_scan(today=TODAY)

    assert keys(account.nam) == {f"milestone:{milestone.pk}:due-1d:{days(1).isoformat()}"}
    assert "is due tomorrow" in Notification.objects.get(user=account.nam).message
    milestone.due_on = TODAY
    milestone.save()
    deadline_scan(today=TODAY)
    assert Notification.objects.filter(user=account.nam, message__contains="is due today").exists()


def test_the_team_lead_hears_only_after_the_escalation_days(account: Account, settings) -> None:
    settings.DEADLINE_ESCALATION_DAYS = 3
    milestone = MilestoneFactory(project=account.project, owner=account.owner, due_on=days(-3))
    escalated = f"milestone:{milestone.pk}:escalated:{days(-3).isoformat()}"

    deadline_scan(today=TODAY)  # three days late: not more than three
    assert not keys(account.lead)
    assert f"milestone:{milestone.pk}:overdue:{days(-3).isoformat()}" in keys(account.nam)

    deadline_scan(today=days(1))  # four days late
    deadline_scan(today=days(2))
    assert keys(account.lead) == {escalated}
    assert escalated not in keys(account.nam)
    message = Notification.objects.get(user=account.lead).message
    assert "4 days overdue" in message


def test_the_escalation_days_come_from_the_setting(account: Account, settings) -> None:
    settings.DEADLINE_ESCALATION_DAYS = 10
    MilestoneFactory(project=account.project, owner=account.owner, due_on=days(-5))

    deadline_scan(today=TODAY)

    assert not keys(account.lead)


def test_it_ignores_completed_milestones_and_closed_projects(account: Account) -> None:
    MilestoneFactory(
        project=account.project, owner=account.owner, due_on=days(-2), completed_on=days(-3)
    )
    closed = ProjectFactory(
        client=account.client, manager=account.manager, status="completed",
        starts_on=days(-100), due_on=days(-10),
    )  # fmt: skip
    MilestoneFactory(project=closed, owner=account.owner, due_on=days(-20))

    assert deadline_scan(today=TODAY).total == 0


def test_an_ended_nam_is_not_told_and_inactive_people_get_nothing(account: Account) -> None:
    AccountTeamMemberFactory(
        client=account.client, role="nam", starts_on=days(-900), ends_on=days(-401)
    )
    account.owner.is_active = False
    account.owner.save()
    milestone = MilestoneFactory(project=account.project, owner=account.owner, due_on=days(2))

    deadline_scan(today=TODAY)

    assert people(f"milestone:{milestone.pk}:") == {account.manager, account.nam}


def test_it_speaks_each_recipients_language(account: Account) -> None:
    UserPreferences.objects.filter(user=account.nam).update(language="it")
    milestone = MilestoneFactory(
        project=account.project, owner=account.owner, due_on=datetime.date(2031, 3, 14)
    )

    deadline_scan(today=milestone.due_on - 3 * DAY)

    # Dates are formatted for each person's language (d/m/Y in Italian, m/d/Y in English).
    assert "14/03/2031" in Notification.objects.get(user=account.nam).message
    assert "03/14/2031" in Notification.objects.get(user=account.manager).message


# Tasks -----------------------------------------------------------------------------------------


def test_it_tells_assignee_manager_and_nam_of_a_task_and_escalates(account, settings) -> None:
    settings.DEADLINE_ESCALATION_DAYS = 2
    task = TaskFactory(project=account.project, assignee=account.sales, due_on=days(-5))
    TaskFactory(project=account.project, assignee=account.sales, due_on=None)
    TaskFactory(
        project=account.project, assignee=account.sales, due_on=days(-5),
        done_at=timezone.now(),
    )  # fmt: skip

    result = deadline_scan(today=TODAY)

    due = days(-5).isoformat()
    assert people(f"task:{task.pk}:overdue:") == {account.sales, account.manager, account.nam}
    assert people(f"task:{task.pk}:escalated:{due}") == {account.lead}
    assert result.created["task"] == 4
    assert Notification.objects.get(user=account.lead).kind == "task_due"


# Contracts -------------------------------------------------------------------------------------


def test_it_tells_nam_and_lead_when_the_renewal_notice_starts(account: Account) -> None:
    due = ContractFactory(
        client=account.client, starts_on=days(-300), ends_on=days(89), renewal_notice_days=90
    )
    ContractFactory(
        client=account.client, starts_on=days(-300), ends_on=days(91), renewal_notice_days=90
    )
    ContractFactory(
        client=account.client, status="terminated", starts_on=days(-300), ends_on=days(10)
    )
    ContractFactory(client=account.client, starts_on=days(-300), ends_on=days(-1))

    result = deadline_scan(today=TODAY)

    assert people("contract:") == {account.nam, account.lead}
    assert keys(account.lead) == {f"contract:{due.pk}:renewal-notice:{days(89).isoformat()}"}
    assert result.created["contract"] == 2
    assert due.number in Notification.objects.get(user=account.nam).message


# Service cases ---------------------------------------------------------------------------------


def test_it_tells_assignee_and_nam_of_a_case_past_its_sla(account: Account) -> None:
    now = timezone.now()
    late = ServiceCaseFactory(
        client=account.client, assignee=account.sales, opened_at=now - 2 * DAY,
        sla_due=now - datetime.timedelta(hours=1), subject="Printer down",
    )  # fmt: skip
    ServiceCaseFactory(client=account.client, assignee=account.sales, opened_at=now,
                       sla_due=now + DAY)  # fmt: skip
    ServiceCaseFactory(
        client=account.client, assignee=account.sales, opened_at=now - 2 * DAY,
        sla_due=now - DAY, status="resolved", resolution="Fixed", resolved_at=now,
    )  # fmt: skip

    deadline_scan(now=now)

    assert people("case:") == {account.sales, account.nam}
    assert all(k.startswith(f"case:{late.pk}:past-sla:") for k in keys(account.nam))
    assert "Printer down" in Notification.objects.get(user=account.nam).message

    late.sla_due = now - datetime.timedelta(minutes=5)  # the SLA was recomputed: a new breach
    late.save()
    deadline_scan(now=now)
    assert Notification.objects.filter(user=account.nam).count() == 2


# Reorders --------------------------------------------------------------------------------------


def test_it_tells_the_nam_of_a_reorder_due(account: Account) -> None:
    product = ProductFactory(name="Toner")
    for weeks in (12, 8, 4):  # every 28 days, last four weeks ago: due today
        order = OrderFactory(
            client=account.client, status="fulfilled", order_date=TODAY - weeks * 7 * DAY
        )
        OrderLineFactory(order=order, product=product)

    result = deadline_scan(today=TODAY)

    key = f"reorder:{account.client.pk}:{product.pk}:due:{TODAY.isoformat()}"
    assert people("reorder:") == {account.nam}
    assert keys(account.nam) == {key}
    assert result.created["reorder"] == 1
    assert "Toner" in Notification.objects.get(user=account.nam).message


# Cost ------------------------------------------------------------------------------------------


def scan_queries(today: datetime.date) -> int:
    ContentType.objects.clear_cache()  # both runs look the targets' types up once, cold
    with CaptureQueriesContext(connection) as captured:
        deadline_scan(today=today)
    Notification.objects.all().delete()
    return len(captured)


def test_the_scan_runs_the_same_queries_for_1_or_30_milestones(account: Account) -> None:
    other = ClientFactory()
    AccountTeamMemberFactory(client=other, role="nam", starts_on=days(-400))
    other_project = ProjectFactory(client=other, starts_on=days(-200), due_on=days(200))
    MilestoneFactory(project=account.project, owner=account.owner, due_on=days(2))
    TaskFactory(project=account.project, assignee=account.owner, due_on=days(2))
    ServiceCaseFactory(
        client=account.client, opened_at=timezone.now() - 3 * DAY, sla_due=timezone.now() - DAY
    )
    ContractFactory(client=account.client, starts_on=days(-300), ends_on=days(30))
    few = scan_queries(TODAY)

    for n in range(30):
        project = account.project if n % 2 else other_project
        MilestoneFactory(project=project, owner=project.manager, due_on=days(n % 10 - 3))
        TaskFactory(project=project, assignee=project.manager, due_on=days(n % 9 - 2))
        ServiceCaseFactory(
            client=project.client, opened_at=timezone.now() - 3 * DAY,
            sla_due=timezone.now() - DAY,
        )  # fmt: skip
    many = scan_queries(TODAY)

    assert many == few, (few, many)
    print("QUERIES", few)
    # Milestones, tasks, contracts, cases: a savepoint, the work, the NAMs, the target's type,
    # notify_many's recipients, insert and opt-outs, the release (8 each); reorders (none due
    # here): a savepoint, the rhythms, the release.
    assert few == 4 * 8 + 3


# Links -----------------------------------------------------------------------------------------


def _page(request: object, pk: int) -> None:
    raise AssertionError("only reversed, never requested")


# The pages the notifications link to, as tests.projects.test_deadlines' own URL conf: a project
# page (no milestone page yet), a case page, a contract page and a client page.
urlpatterns = [
    path("projects/", include(([path("<int:pk>/", _page, name="project_detail"),
                                path("cases/<int:pk>/", _page, name="case_detail")], "projects"))),
    path("orders/", include(([path("contracts/<int:pk>/", _page, name="contract_detail")],
                             "orders"))),
    path("clients/", include(([path("<int:pk>/", _page, name="client_detail")], "clients"))),
]  # fmt: skip


@pytest.mark.urls("tests.projects.test_deadlines")
def test_each_notification_links_to_the_page_of_its_deadline(account: Account) -> None:
    milestone = MilestoneFactory(project=account.project, owner=account.owner, due_on=days(2))
    task = TaskFactory(project=account.project, assignee=account.owner, due_on=days(2))
    contract = ContractFactory(client=account.client, starts_on=days(-300), ends_on=days(30))
    case = ServiceCaseFactory(
        client=account.client, opened_at=timezone.now() - 3 * DAY, sla_due=timezone.now() - DAY
    )

    deadline_scan(today=TODAY)

    urls = dict(Notification.objects.filter(user=account.nam).values_list("kind", "url"))
    assert urls == {
        "milestone_due": f"/projects/{account.project.pk}/#milestone-{milestone.pk}",
        "task_due": f"/projects/{account.project.pk}/#task-{task.pk}",
        "contract_renewal": f"/orders/contracts/{contract.pk}/",
        "case_sla": f"/projects/cases/{case.pk}/",
    }


# The Celery task -------------------------------------------------------------------------------


def test_beat_runs_the_scan_every_15_minutes() -> None:
    entry = celery_app.conf.beat_schedule["deadline-scan"]

    assert entry["task"] == tasks.deadline_scan.name == "projects.tasks.deadline_scan"
    assert entry["schedule"] == 15 * 60
    assert entry["options"]["expires"] < entry["schedule"]
    task = celery_app.tasks[entry["task"]]
    assert task.acks_late
    assert task.reject_on_worker_lost
    assert task.time_limit > task.soft_time_limit > 0


def test_the_task_retries_a_transient_database_error_then_completes(account, monkeypatch) -> None:
    MilestoneFactory(project=account.project, owner=account.owner, due_on=days(2))
    calls = []
    real_scan = deadlines.deadline_scan

    def flaky(**kwargs: object) -> deadlines.ScanResult:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real_scan(**kwargs)

    monkeypatch.setattr(deadlines, "deadline_scan", flaky)

    result = tasks.deadline_scan.apply()

    assert len(calls) == 3
    assert result.get()["milestone"] == 3
    assert Notification.objects.count() == 3


def test_the_task_does_not_retry_a_bug(monkeypatch) -> None:
    calls = []

    def broken(**kwargs: object) -> None:
        calls.append(1)
        raise ValueError("a bug")

    monkeypatch.setattr(deadlines, "deadline_scan", broken)

    result = tasks.deadline_scan.apply()

    assert calls == [1]
    assert isinstance(result.result, ValueError)


def test_the_whole_book_reader_reads_every_client_without_a_query(account: Account) -> None:
    ClientFactory()
    principal = whole_book_reader("deadline-scan")

    with CaptureQueriesContext(connection) as captured:
        visible = Client.objects.visible_to(principal)
    assert not captured
    assert visible.count() == Client.objects.count() == 2
    assert principal.pk is None
