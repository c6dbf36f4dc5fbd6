"""Milestones (all and due soon), training, marketing initiatives and service cases pages:
lists (filters, CSV, query counts), details, forms with their errors, and the case actions."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.models import MarketingInitiative, ServiceCase, TrainingAttendance, TrainingSession
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContactFactory,
    MarketingInitiativeFactory,
    MilestoneFactory,
    ProjectFactory,
    ServiceCaseFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
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
def nam(account):
    return AccountTeamMemberFactory(client=account, role="nam").user


@pytest.fixture
def nam_client(english, login, nam):
    login(nam)
    return english


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _same_queries(client, url: str, grow) -> None:
    """The page costs the same number of queries before and after `grow()` adds rows."""
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    grow()
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before)


# Milestones ------------------------------------------------------------------------------------


@pytest.fixture
def project(account, nam):
    return ProjectFactory(client=account, manager=nam, starts_on=days(-60), due_on=days(90))


def test_due_soon_lists_overdue_and_upcoming_across_accounts(nam_client, nam, project) -> None:
    other = AccountTeamMemberFactory(user=nam, role="nam").client
    MilestoneFactory(project=project, name="Overdue one", due_on=days(-3))
    MilestoneFactory(project=project, name="Next week", due_on=days(6))
    MilestoneFactory(project=project, name="Far away", due_on=days(60))
    MilestoneFactory(project=project, name="MS-COMPLETED", due_on=days(2), completed_on=days(-1))
    MilestoneFactory(project=ProjectFactory(client=other, manager=nam), name="Other account",
                     due_on=days(1))  # fmt: skip
    MilestoneFactory(name="Not mine", due_on=days(1))
    html = nam_client.get(reverse("projects:milestone_due_soon")).content.decode()
    for name in ("Overdue one", "Next week", "Other account"):
        assert name in html
    for name in ("Far away", "MS-COMPLETED", "Not mine"):
        assert name not in html
    assert html.index("Overdue one") < html.index("Next week")
    assert html.count('data-testid="overdue"') == 1
    wider = nam_client.get(reverse("projects:milestone_due_soon"), {"days": "90"})
    assert "Far away" in wider.content.decode()


def test_the_milestone_list_filters_and_exports(nam_client, project) -> None:
    MilestoneFactory(project=project, name="MS-OVERDUE", due_on=days(-3))
    MilestoneFactory(project=project, name="MS-UPCOMING", due_on=days(3))
    url = reverse("projects:milestone_list")
    html = nam_client.get(url, {"overdue": "true"}).content.decode()
    assert "MS-OVERDUE" in html
    assert "MS-UPCOMING" not in html
    rows = _csv(nam_client.get(url, {"format": "csv", "ordering": "due_on"}))
    assert rows[0][0] == "Milestone"
    expected = [("MS-OVERDUE", "True"), ("MS-UPCOMING", "False")]
    assert [(row[0], row[6]) for row in rows[1:]] == expected


def test_the_milestone_lists_cost_the_same_for_more_rows(nam_client, project) -> None:
    MilestoneFactory(project=project, due_on=days(1))  # an empty page skips its rows query
    for name in ("projects:milestone_list", "projects:milestone_due_soon"):
        _same_queries(
            nam_client,
            reverse(name),
            lambda: [MilestoneFactory(project=project, due_on=days(1)) for _ in range(5)],
        )


# Training --------------------------------------------------------------------------------------


def test_the_training_list_shows_attendance_and_exports(nam_client, account) -> None:
    session = TrainingSessionFactory(client=account, topic="ERP basics")
    TrainingAttendanceFactory(session=session, feedback_score=4)
    TrainingAttendanceFactory(session=session, attended=False)
    TrainingSessionFactory(topic="Foreign topic")
    url = reverse("projects:training_list")
    html = nam_client.get(url).content.decode()
    assert "ERP basics" in html
    assert "Foreign topic" not in html
    assert "1 / 2" in html
    assert "4.0 / 5" in html
    rows = _csv(nam_client.get(url, {"format": "csv"}))
    assert rows[1][1] == "ERP basics"
    assert rows[1][6:8] == ["2", "1"]
    _same_queries(nam_client, url, lambda: [TrainingAttendanceFactory(session__client=account)] * 1)


def test_attendance_and_feedback_are_recorded_on_the_session(nam_client, account) -> None:
    session = TrainingSessionFactory(client=account)
    contact = ContactFactory(client=account, first_name="Ada", last_name="Neri")
    url = reverse("projects:attendance_record", args=[session.pk])
    response = nam_client.post(url, {"contact": contact.pk, "attended": "on",
                                     "feedback_score": "5"})  # fmt: skip
    assert response.status_code == 302
    row = TrainingAttendance.objects.get(session=session, contact=contact)
    assert row.attended
    assert row.feedback_score == 5
    html = nam_client.get(reverse("projects:training_detail", args=[session.pk])).content.decode()
    assert "Ada" in html
    assert "5.0 / 5" in html
    response = nam_client.post(url, {"contact": contact.pk, "feedback_score": "9"})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert TrainingAttendance.objects.get(pk=row.pk).feedback_score == 5


def test_a_contact_of_another_client_cannot_attend(nam_client, account) -> None:
    session = TrainingSessionFactory(client=account)
    stranger = ContactFactory()
    response = nam_client.post(
        reverse("projects:attendance_record", args=[session.pk]), {"contact": stranger.pk}
    )
    assert response.status_code == 400
    assert not TrainingAttendance.objects.exists()


def test_a_session_form_keeps_input_and_says_what_is_wrong(nam_client, account, nam) -> None:
    url = reverse("projects:training_create", args=[account.pk])
    data = {"topic": "Nowhere", "starts_at": "2026-05-04T09:00", "duration_minutes": "60",
            "trainer": nam.pk}  # neither a site nor remote  # fmt: skip
    response = nam_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "A session takes place either at a site or remotely." in html
    assert 'value="Nowhere"' in html
    data["remote"] = "on"
    assert nam_client.post(url, data).status_code == 302
    assert TrainingSession.objects.get(topic="Nowhere").remote


# Marketing initiatives -------------------------------------------------------------------------


def test_the_initiative_list_shows_result_vs_target(nam_client, account) -> None:
    MarketingInitiativeFactory(
        client=account, name="Fiera Milano", target_value=200, result_value=150
    )
    MarketingInitiativeFactory(name="Foreign fair")
    url = reverse("projects:initiative_list")
    html = nam_client.get(url).content.decode()
    assert "Fiera Milano" in html
    assert "Foreign fair" not in html
    assert "75%" in html
    rows = _csv(nam_client.get(url, {"format": "csv"}))
    assert rows[1][0] == "Fiera Milano"
    assert rows[1][-1] == "75.0"
    _same_queries(
        nam_client, url, lambda: MarketingInitiativeFactory.create_batch(3, client=account)
    )


def test_an_initiative_over_budget_is_refused_with_the_reason(nam_client, account) -> None:
    url = reverse("projects:initiative_create", args=[account.pk])
    data = {"name": "Too generous", "channel": "event", "status": "planned",
            "starts_on": days(0).isoformat(), "ends_on": days(10).isoformat(), "budget": "100",
            "our_contribution": "500", "currency": "EUR", "target_metric": "leads"}  # fmt: skip
    response = nam_client.post(url, data)
    assert "Our contribution must be between zero and the total budget." in (
        response.content.decode()
    )
    data["our_contribution"] = "50"
    response = nam_client.post(url, data)
    initiative = MarketingInitiative.objects.get(name="Too generous")
    assert response.url == reverse("projects:initiative_detail", args=[initiative.pk])
    html = nam_client.get(response.url).content.decode()
    assert "Too generous" in html
    assert 'data-testid="history"' in html


# Service cases ---------------------------------------------------------------------------------


@pytest.fixture
def cs(account):
    return AccountTeamMemberFactory(client=account, role="customer_service").user


@pytest.fixture
def cs_client(english, login, cs):
    login(cs)
    return english


def test_the_queue_puts_cases_past_sla_first_with_a_countdown(cs_client, account) -> None:
    now = timezone.now()
    ServiceCaseFactory(client=account, subject="Soon", opened_at=now - datetime.timedelta(hours=1),
                       sla_due=now + datetime.timedelta(hours=3))  # fmt: skip
    ServiceCaseFactory(client=account, subject="Breached", priority="low",
                       opened_at=now - datetime.timedelta(hours=30),
                       sla_due=now - datetime.timedelta(hours=2))  # fmt: skip
    ServiceCaseFactory(client=account, subject="Closed one", status="closed", resolution="ok",
                       resolved_at=now)  # fmt: skip
    ServiceCaseFactory(subject="Foreign")
    html = cs_client.get(reverse("projects:case_queue")).content.decode()
    assert html.index("Breached") < html.index("Soon")
    assert "Closed one" not in html
    assert "Foreign" not in html
    assert "SLA breached 2\xa0hours ago" in html
    assert 'data-testid="sla-countdown"' in html
    html = cs_client.get(reverse("projects:case_list"), {"is_open": "false"}).content.decode()
    assert "Closed one" in html
    assert "Soon" not in html


def test_the_case_lists_export_and_cost_the_same_for_more_rows(cs_client, account) -> None:
    ServiceCaseFactory(client=account, subject="Printer jam")
    rows = _csv(cs_client.get(reverse("projects:case_list"), {"format": "csv"}))
    assert rows[0][:3] == ["Number", "Subject", "Client"]
    assert rows[1][1] == "Printer jam"
    for name in ("projects:case_queue", "projects:case_list"):
        _same_queries(
            cs_client, reverse(name), lambda: ServiceCaseFactory.create_batch(3, client=account)
        )


def test_a_case_is_opened_assigned_resolved_closed_and_reopened(cs_client, account, cs) -> None:
    response = cs_client.post(
        reverse("projects:case_create", args=[account.pk]),
        {"subject": "Scanner down", "priority": "urgent"},
    )
    case = ServiceCase.objects.get(subject="Scanner down")
    assert response.url == reverse("projects:case_detail", args=[case.pk])
    assert case.status == "new"
    assert case.sla_due == case.opened_at + datetime.timedelta(hours=4)
    cs_client.post(reverse("projects:case_assign", args=[case.pk]), {"assignee": cs.pk})
    case.refresh_from_db()
    assert (case.assignee, case.status) == (cs, "open")
    response = cs_client.post(reverse("projects:case_resolve", args=[case.pk]), {"resolution": ""})
    assert "Say how the case was resolved." in cs_client.get(response.url).content.decode()
    cs_client.post(reverse("projects:case_resolve", args=[case.pk]), {"resolution": "Rebooted"})
    cs_client.post(reverse("projects:case_close", args=[case.pk]), {"resolution": ""})
    case.refresh_from_db()
    assert (case.status, case.resolution) == ("closed", "Rebooted")
    html = cs_client.get(reverse("projects:case_detail", args=[case.pk])).content.decode()
    assert "resolved within the SLA" in html
    assert "Rebooted" in html
    cs_client.post(reverse("projects:case_reopen", args=[case.pk]))
    case.refresh_from_db()
    assert case.status == "open"
    assert case.resolution == ""


def test_a_case_moves_between_new_open_and_waiting(cs_client, account) -> None:
    case = ServiceCaseFactory(client=account)
    html = cs_client.get(reverse("projects:case_detail", args=[case.pk])).content.decode()
    assert "Mark open" in html
    assert "Mark waiting on client" in html
    cs_client.post(reverse("projects:case_status", args=[case.pk]), {"to": "waiting"})
    case.refresh_from_db()
    assert case.status == "waiting"
    response = cs_client.post(reverse("projects:case_status", args=[case.pk]), {"to": "closed"})
    assert "Choose the status the case moves to." in cs_client.get(response.url).content.decode()
    case.refresh_from_db()
    assert case.status == "waiting"


def test_a_case_edit_on_a_stale_version_is_refused(cs_client, account) -> None:
    case = ServiceCaseFactory(client=account, subject="Old subject")
    ServiceCase.objects.filter(pk=case.pk).update(version=5)
    response = cs_client.post(
        reverse("projects:case_edit", args=[case.pk]),
        {"subject": "New subject", "priority": "normal", "version": 1},
    )
    html = response.content.decode()
    assert "Someone else changed this case after you opened it." in html
    assert 'value="New subject"' in html
    case.refresh_from_db()
    assert case.subject == "Old subject"


def test_the_case_page_says_when_the_sla_is_breached(cs_client, account) -> None:
    now = timezone.now()
    case = ServiceCaseFactory(client=account, opened_at=now - datetime.timedelta(days=2),
                              sla_due=now - datetime.timedelta(days=1))  # fmt: skip
    html = cs_client.get(reverse("projects:case_detail", args=[case.pk])).content.decode()
    assert 'data-testid="sla-breached"' in html
    assert "SLA breached 1\xa0day ago" in html


# Pinned query counts ---------------------------------------------------------------------------


@pytest.fixture
def book(account, nam):
    """A few rows of each kind on the NAM's account, so every list and page has rows."""
    project = ProjectFactory(client=account, manager=nam, starts_on=days(-30), due_on=days(30))
    milestone = MilestoneFactory(project=project, due_on=days(2))
    session = TrainingSessionFactory(client=account)
    TrainingAttendanceFactory(session=session, feedback_score=3)
    initiative = MarketingInitiativeFactory(client=account)
    case = ServiceCaseFactory(client=account)
    return {"project": project, "milestone": milestone, "session": session,
            "initiative": initiative, "case": case}  # fmt: skip


# Each page's queries with a few rows: the session, the user and their roles, the bell, then
# the page's own (lists: filter dropdowns, count, rows; details: the row, its prefetches, the
# person's role on the account, the change history). Growing rows add none (tests above).
# The projects and milestones lists add the team and NAM dropdowns (clients.filters, one query).
PAGES = {
    "/projects/": 12,
    "/projects/milestones/": 12,
    "/projects/milestones/due-soon/": 12,
    "/projects/training/": 11,
    "/projects/initiatives/": 10,
    "/projects/cases/": 11,
    "/projects/cases/all/": 11,
    "/projects/{project}/": 15,
    "/projects/training/{session}/": 12,
    "/projects/initiatives/{initiative}/": 12,
    "/projects/cases/{case}/": 13,
    "/projects/timeline/{client}/": 11,
}


@pytest.mark.parametrize(("path", "expected"), list(PAGES.items()))
def test_each_page_costs_a_pinned_number_of_queries(
    nam_client, book, account, path, expected, django_assert_num_queries
) -> None:
    url = path.format(client=account.pk, **{k: v.pk for k, v in book.items()})
    nam_client.get(url)  # the session's first write is not the page's
    with django_assert_num_queries(expected):
        assert nam_client.get(url).status_code == 200
