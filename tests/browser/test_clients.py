"""A NAM's day on the client page, and a team lead's view of the team's accounts."""

import re

import pytest
from playwright.sync_api import expect

from accounts_crm.access import Role
from tests.browser.pages import sign_in
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContactFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_nam_find_a_client_log_an_activity_and_map_a_stakeholder(page) -> None:
    nam = UserFactory(roles=[Role.ACCOUNT_STAFF], first_name="Ada", last_name="Neri")
    padano = ClientFactory(name="Padano Distribuzione", city="Milano")
    AccountTeamMemberFactory(client=padano, user=nam, role="nam")
    for name in ("Lario Foods", "Adriatica Retail"):
        AccountTeamMemberFactory(client=ClientFactory(name=name), user=nam, role="nam")
    ContactFactory(
        client=padano, first_name="Carla", last_name="Capo", buying_role="decision_maker",
        relationship_strength=4,
    )  # fmt: skip

    sign_in(page, nam)
    page.get_by_role("navigation").first.get_by_role("link", name="Clients", exact=True).click()
    results = page.get_by_test_id("client-results")
    expect(results.get_by_test_id("client-row")).to_have_count(3)

    # Search narrows the table in place (htmx) and puts the query in the URL.
    page.get_by_label("Search").fill("padano")
    expect(results.get_by_test_id("client-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/clients/\?q=padano"))
    results.get_by_role("link", name="Padano Distribuzione").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Padano Distribuzione")

    # Two clicks: type the subject, press the button; the timeline updates in place.
    form = page.get_by_test_id("activity-log-form")
    form.get_by_label("Kind").select_option(label="Meeting")
    form.get_by_label("Subject").fill("Renewal kick-off")
    form.get_by_label("Next step", exact=True).fill("Send the offer")
    form.get_by_label("Next step due").fill("2026-12-15")
    form.get_by_role("button", name="Log activity").click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("timeline-item")).to_have_count(1)
    expect(timeline).to_contain_text("Renewal kick-off")
    expect(timeline).to_contain_text("Send the offer")
    expect(page.get_by_test_id("messages")).to_contain_text("Activity logged: Renewal kick-off")
    expect(page.get_by_test_id("activity-log-form").get_by_label("Subject")).to_have_value("")

    # A new contact under Carla shows up beneath her in the stakeholder map.
    page.get_by_role("link", name="New contact").click()
    page.get_by_label("First name").fill("Dario")
    page.get_by_label("Last name").fill("Diretto")
    page.get_by_label("Buying role").select_option(label="Economic buyer")
    page.get_by_label("Relationship strength").select_option(label="Weak")
    page.get_by_label("Reports to").select_option(label="Carla Capo")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Padano Distribuzione")
    chart = page.get_by_test_id("stakeholder-map")
    carla = chart.locator("li", has=page.get_by_text("Carla Capo", exact=True)).first
    expect(carla.locator("ul li")).to_contain_text("Dario Diretto")
    expect(carla.locator("ul li")).to_contain_text("Economic buyer")
    expect(page.get_by_test_id("coverage-gaps")).to_contain_text("Dario Diretto")


def test_it_shows_a_team_lead_the_team_clients_and_not_another_team(page) -> None:
    lead = UserFactory(roles=[Role.TEAM_LEAD])
    ClientFactory(name="Nostra Spa", team=TeamFactory(lead=lead))
    ClientFactory(name="Altrui Spa", team=TeamFactory())

    sign_in(page, lead)
    page.get_by_role("navigation").first.get_by_role("link", name="My team's accounts").click()
    results = page.get_by_test_id("client-results")
    expect(results.get_by_test_id("client-row")).to_have_count(1)
    expect(results).to_contain_text("Nostra Spa")
    expect(results).not_to_contain_text("Altrui Spa")

    page.get_by_role("navigation").first.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_label("Search").fill("altrui")
    expect(results).to_contain_text("No client matches these filters.")
