"""A project manager completes a milestone from the project page and the timeline updates in
place (htmx), without a page load; the successor can then be completed too."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts_crm.access import Role
from projects.models import Milestone
from tests.factories import (
    PASSWORD,
    AccountTeamMemberFactory,
    ClientFactory,
    MilestoneDependencyFactory,
    MilestoneFactory,
    ProjectFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_a_project_manager_completes_a_milestone_and_the_timeline_updates(page) -> None:
    pm = UserFactory(roles=[Role.ACCOUNT_STAFF], first_name="Piera", last_name="Manca")
    padano = ClientFactory(name="Padano Distribuzione")
    AccountTeamMemberFactory(client=padano, user=pm, role="project_manager")
    today = timezone.localdate()
    project = ProjectFactory(
        client=padano, manager=pm, name="Rollout magazzini",
        starts_on=today - datetime.timedelta(days=40), due_on=today + datetime.timedelta(days=50),
    )  # fmt: skip
    survey = MilestoneFactory(project=project, name="Site survey", owner=pm,
                              due_on=today - datetime.timedelta(days=2))  # fmt: skip
    install = MilestoneFactory(project=project, name="Installation", owner=pm,
                               due_on=today + datetime.timedelta(days=20))  # fmt: skip
    MilestoneDependencyFactory(milestone=install, predecessor=survey)
    sign_in(page, pm)

    page.goto(f"/projects/{project.pk}/")
    survey_bar = page.locator(f'[data-testid="timeline-row"][data-row="milestone-{survey.pk}"]')
    expect(survey_bar).to_have_attribute("data-late", "true")
    expect(page.get_by_test_id("health")).to_have_text("⚠ Late")
    # Installation waits for the survey (its button stays: the refusal says why).
    install_row = page.locator(f"#milestone-{install.pk}")
    expect(install_row.get_by_test_id("milestone-state")).to_contain_text("Waiting")
    expect(install_row.get_by_test_id("complete")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    page.locator(f"#milestone-{survey.pk}").get_by_test_id("complete").click()

    expect(page.get_by_test_id("messages")).to_contain_text("“Site survey” completed.")
    expect(survey_bar).to_have_attribute("data-done", "true")
    expect(survey_bar).not_to_have_attribute("data-late", "true")
    expect(page.get_by_test_id("health")).to_have_text("✓ On track")
    expect(install_row.get_by_test_id("milestone-state")).to_contain_text("Open")
    assert page.evaluate("window.notReloaded") is True  # swapped in place, no page load
    assert Milestone.objects.get(pk=survey.pk).completed_on == today

    install_row.get_by_test_id("complete").click()
    install_bar = page.locator(f'[data-testid="timeline-row"][data-row="milestone-{install.pk}"]')
    expect(install_bar).to_have_attribute("data-done", "true")
    expect(page.locator(f"#milestone-{install.pk}").get_by_test_id("reopen")).to_be_visible()


def test_completing_before_the_predecessor_says_why(page) -> None:
    pm = UserFactory(roles=[Role.ACCOUNT_STAFF])
    client = ClientFactory()
    AccountTeamMemberFactory(client=client, user=pm, role="project_manager")
    dependency = MilestoneDependencyFactory(
        milestone__project__client=client, milestone__project__manager=pm,
        milestone__name="Go live", predecessor__name="Acceptance test",
    )  # fmt: skip
    sign_in(page, pm)
    page.goto(f"/projects/{dependency.milestone.project_id}/")
    page.locator(f"#milestone-{dependency.milestone_id}").get_by_test_id("complete").click()
    expect(page.get_by_test_id("messages")).to_contain_text(
        "“Go live” cannot be completed before “Acceptance test”."
    )
    assert Milestone.objects.get(pk=dependency.milestone_id).completed_on is None


def test_a_nam_opens_the_milestone_from_its_deadline_notification(page) -> None:
    from projects.deadlines import deadline_scan

    nam = UserFactory(roles=[Role.ACCOUNT_STAFF], email="", first_name="Nadia")
    client = ClientFactory(name="Lanificio Nord")
    AccountTeamMemberFactory(client=client, user=nam, role="nam")
    today = timezone.localdate()
    project = ProjectFactory(client=client, name="Nuovo ERP", starts_on=today,
                             due_on=today + datetime.timedelta(days=90))  # fmt: skip
    milestone = MilestoneFactory(project=project, name="Data migration",
                                 due_on=today + datetime.timedelta(days=1))  # fmt: skip
    deadline_scan()
    sign_in(page, nam)

    page.get_by_test_id("notification-bell").get_by_role("button").click()
    menu = page.get_by_test_id("notification-menu")
    menu.get_by_test_id("menu-notification").filter(has_text="Data migration").first.click()

    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/#milestone-{milestone.pk}$"))
    row = page.locator(f"#milestone-{milestone.pk}")
    expect(row).to_be_in_viewport()
    expect(row.get_by_test_id("milestone-state")).to_contain_text("Open")
