"""The client page: header, group, sections, stakeholder map, history, two-click activity log."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts_crm.access import Role
from accounts_crm.audit import audit_context
from clients.models import Activity, Client
from tests.factories import (
    AccountPlanFactory,
    AccountTeamMemberFactory,
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def account(team_lead):
    return ClientFactory(
        team=TeamFactory(lead=team_lead, name="Nord"),
        name="Padano",
        legal_name="Padano Distribuzione S.p.A.",
        vat_number="04123450159",
        tax_code="04123450159",
        sdi_code="M5UXCR1",
        pec="padano@pec.example",
        street="Via Roma 1",
        postal_code="20121",
        city="Milano",
        province="MI",
        tier="strategic",
        industry="Retail",
    )


@pytest.fixture
def nam(account):
    return AccountTeamMemberFactory(
        client=account, role="nam", user__first_name="Ada", user__last_name="Neri"
    ).user


def section(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"(.*?)(</table>|</ul>\s*</div>|</ol>)', html, re.S)
    assert match, f"no {testid} section"
    return match.group(1)


def test_it_shows_the_header_with_fiscal_data_and_account(english, login, account, nam) -> None:
    login(nam)
    html = english.get(f"/clients/{account.pk}/").content.decode()

    assert "<h1" in html
    assert "Padano Distribuzione S.p.A." in html
    fiscal = section(html, "fiscal-data")
    for value in ("04123450159", "M5UXCR1", "padano@pec.example", "Via Roma 1, 20121 Milano (MI)"):
        assert value in fiscal
    assert "Strategic" in html
    assert "National" in html
    assert "Retail" in html
    assert re.search(r'data-testid="client-nam">Ada Neri<', html)
    assert "Nord" in html


def test_it_draws_the_group_with_the_current_client_highlighted(
    english, login, account, nam
) -> None:
    head = ClientFactory(name="Padano Holding", team=account.team)
    Client.objects.filter(pk=account.pk).update(parent=head)
    ClientFactory(name="Padano Sud", parent=head, team=account.team)
    ClientFactory(name="Padano Nord", parent=account, team=account.team)
    login(account.team.lead)

    html = english.get(f"/clients/{account.pk}/").content.decode()
    tree = html.split('data-testid="group-tree"')[1].split("</div>")[0]
    assert tree.index("Padano Holding") < tree.index("Padano Nord") < tree.index("Padano Sud")
    assert re.search(r'<strong class="group-current" aria-current="true">Padano</strong>', tree)
    assert f'href="/clients/{head.pk}/"' in tree


def test_it_leaves_a_group_head_the_nam_does_not_follow_out_of_the_tree(
    english, login, account, nam
) -> None:
    head = ClientFactory(name="Secret Holding")
    Client.objects.filter(pk=account.pk).update(parent=head)
    login(nam)
    html = english.get(f"/clients/{account.pk}/").content.decode()
    assert f'href="/clients/{head.pk}/"' not in html


def test_it_shows_every_section_with_its_rows(english, login, account, nam) -> None:
    site = SiteFactory(client=account, name="Magazzino Bari", kind="warehouse", city="Bari")
    ContactFactory(client=account, first_name="Bruno", last_name="Galli", site=site)
    AccountTeamMemberFactory(
        client=account, role="project_manager", work_base="client_site",
        user__first_name="Pia", user__last_name="Rossi",
    )  # fmt: skip
    ActivityFactory(client=account, subject="Kick-off QBR", next_step="Send offer")
    AccountPlanFactory(client=account, year=2026, objectives="Grow in the South")
    login(nam)

    html = english.get(f"/clients/{account.pk}/").content.decode()

    assert "Magazzino Bari" in section(html, "sites")
    assert "Warehouse" in section(html, "sites")
    assert "Bruno Galli" in section(html, "contacts")
    team = section(html, "account-team")
    assert "Pia Rossi" in team
    assert "Project manager" in team
    assert "Client site" in team
    assert "Ada Neri" in team
    assert "National account manager" in team
    assert "Kick-off QBR" in section(html, "timeline")
    assert "Send offer" in html
    assert "1,500,000.00 EUR" in html
    assert "Grow in the South" in html
    for slug in ("activities", "account-team", "contacts", "stakeholders", "sites", "plans"):
        assert f'<section id="{slug}"' in html


def test_it_shows_actions_only_to_who_may_take_them(english, login, account, nam) -> None:
    contact = ContactFactory(client=account)
    member = AccountTeamMemberFactory(client=account, role="sales")
    login(nam)
    html = english.get(f"/clients/{account.pk}/").content.decode()
    assert f'href="/clients/{account.pk}/edit/"' in html
    assert f"/clients/{account.pk}/account-team/{member.pk}/end/" in html
    assert 'data-testid="activity-log-form"' in html
    assert f"/clients/{account.pk}/contacts/{contact.pk}/edit/" in html
    assert f'href="/clients/{account.pk}/delete/"' not in html  # admin only

    english.logout()
    login(UserFactory(roles=[Role.FINANCE]))
    html = english.get(f"/clients/{account.pk}/").content.decode()
    assert "Kick" not in html
    for url in ("/edit/", "/account-team/new/", "/contacts/new/", "/sites/new/", "/plans/new/"):
        assert f"/clients/{account.pk}{url}" not in html
    assert f"/clients/{account.pk}/contacts/{contact.pk}/edit/" not in html
    assert 'data-testid="activity-log-form"' not in html

    english.logout()
    pm = AccountTeamMemberFactory(client=account, role="project_manager").user
    login(pm)
    html = english.get(f"/clients/{account.pk}/").content.decode()
    assert 'data-testid="activity-log-form"' in html
    assert f"/clients/{account.pk}/account-team/new/" not in html
    assert f"/clients/{account.pk}/edit/" not in html


def test_it_answers_404_for_a_client_the_person_does_not_see(english, login, nam) -> None:
    login(nam)
    assert english.get(f"/clients/{ClientFactory().pk}/").status_code == 404


def test_it_draws_the_stakeholder_map_as_an_org_chart_with_coverage_gaps(
    english, login, account, nam
) -> None:
    ceo = ContactFactory(
        client=account, first_name="Carla", last_name="Capo", buying_role="decision_maker",
        relationship_strength=1, influence=5, job_title="CEO",
    )  # fmt: skip
    cfo = ContactFactory(
        client=account, first_name="Franco", last_name="Conti", buying_role="economic_buyer",
        relationship_strength=4, reports_to=ceo,
    )  # fmt: skip
    ContactFactory(
        client=account, first_name="Tina", last_name="Tecnica", buying_role="technical_buyer",
        relationship_strength=1, reports_to=cfo,
    )  # fmt: skip
    login(nam)

    html = english.get(f"/clients/{account.pk}/").content.decode()
    chart = html.split('data-testid="stakeholder-map"')[1]
    # Nesting: Tina's card sits inside Franco's list item, which sits inside Carla's.
    assert re.search(r"Carla Capo.*?<ul>.*?Franco Conti.*?<ul>.*?Tina Tecnica", chart, re.S)
    carla = re.search(
        rf'class="(stakeholder [^"]*)"\s*data-testid="stakeholder" data-contact="{ceo.pk}"', chart
    ).group(1)
    assert "role-decision_maker" in carla
    assert "strength-1" in carla
    assert "coverage-gap" in carla
    assert "Decision maker" in chart
    assert "No relationship" in chart
    assert "Decisive (5/5)" in chart
    gaps = html.split('data-testid="coverage-gaps"')[1].split("</ul>")[0]
    assert "Carla Capo" in gaps
    assert "Franco Conti" not in gaps  # good relationship
    assert "Tina Tecnica" not in gaps  # technical buyer: not a gap by itself
    legend = html.split('data-testid="stakeholder-legend"')[1].split("</div>")[0]
    assert "Economic buyer" in legend
    assert "Blocker" in legend


def test_it_shows_the_history_with_who_old_and_new_values(english, login, account, nam) -> None:
    editor = UserFactory(first_name="Ugo", last_name="Editor")
    with audit_context(user=editor.pk):
        account.status = "inactive"
        account.name = "Padano Group"
        account.save()
    login(nam)

    html = english.get(f"/clients/{account.pk}/").content.decode()
    history = section(html, "history")
    assert "Ugo Editor" in history
    assert re.search(r"Name</span>: <del>Padano</del> → <ins>Padano Group</ins>", history)
    assert re.search(r"Status</span>: <del>Active</del> → <ins>Inactive</ins>", history)
    assert "Created" in history


def test_it_runs_as_many_queries_for_40_rows_as_for_2(english, login, account, nam) -> None:
    login(nam)
    editor = UserFactory()

    def add_rows(n: int) -> None:
        for _ in range(n):
            site = SiteFactory(client=account)
            boss = ContactFactory(client=account, site=site, buying_role="decision_maker")
            contact = ContactFactory(client=account, reports_to=boss, site=site)
            activity = ActivityFactory(client=account, author=editor)
            activity.contacts.add(boss, contact)
            AccountTeamMemberFactory(client=account, role="sales")
            ClientFactory(parent=account, team=account.team)
            with audit_context(user=editor.pk):
                Client.objects.filter(pk=account.pk).update(industry=f"Retail {site.pk}")
        AccountPlanFactory(client=account, year=2000 + Activity.objects.count())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert english.get(f"/clients/{account.pk}/").status_code == 200
        return len(captured)

    add_rows(1)
    few = queries()
    add_rows(19)
    assert queries() == few


# The two-click activity log ------------------------------------------------------------------


def test_it_logs_an_activity_with_htmx_and_returns_the_timeline(
    english, login, account, nam
) -> None:
    contact = ContactFactory(client=account, first_name="Bruno", last_name="Galli")
    login(nam)

    response = english.post(
        f"/clients/{account.pk}/activities/log/",
        {
            "kind": "meeting", "subject": "Renewal talk", "notes": "Went well",
            "contacts": [contact.pk], "next_step": "Send the offer", "next_step_due": "2026-07-01",
        },
        headers={"HX-Request": "true"},
    )  # fmt: skip

    assert response.status_code == 200
    html = response.content.decode()
    assert '<div id="messages" data-testid="messages" hx-swap-oob="true">' in html
    assert "Activity logged: Renewal talk" in html
    assert "<html" not in html
    timeline = section(html, "timeline")
    assert "Renewal talk" in timeline
    assert "Bruno Galli" in timeline
    assert "Send the offer" in timeline
    activity = Activity.objects.get()
    assert activity.author == nam
    assert activity.kind == "meeting"
    assert list(activity.contacts.all()) == [contact]
    # A fresh, empty form for the next one.
    form = html.split('data-testid="activity-log-form"')[1].split("</form>")[0]
    assert 'value="Renewal talk"' not in form


def test_it_returns_the_form_with_errors_and_what_was_typed(english, login, account, nam) -> None:
    login(nam)
    response = english.post(
        f"/clients/{account.pk}/activities/log/",
        {"kind": "call", "subject": "", "next_step": "", "next_step_due": "2026-07-01",
         "notes": "typed notes"},
        headers={"HX-Request": "true"},
    )  # fmt: skip

    assert response.status_code == 200  # htmx swaps 2xx only
    html = response.content.decode()
    assert "This field is required." in html
    assert "Say what the next step is, or leave its date empty." in html
    assert "typed notes" in html
    assert 'value="2026-07-01"' in html
    assert not Activity.objects.exists()


def test_it_logs_an_activity_without_javascript(english, login, account, nam) -> None:
    login(nam)
    response = english.post(
        f"/clients/{account.pk}/activities/log/", {"kind": "call", "subject": "Quick call"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{account.pk}/#activities"
    page = english.get(response["Location"]).content.decode()
    assert "Activity logged: Quick call" in page
    assert "Quick call" in section(page, "timeline")

    response = english.post(f"/clients/{account.pk}/activities/log/", {"kind": "nope"})
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert "Select a valid choice." in response.content.decode()


def test_it_refuses_activity_logging_to_finance(english, login, account, finance) -> None:
    login(finance)
    response = english.post(
        f"/clients/{account.pk}/activities/log/", {"kind": "call", "subject": "Hi"}
    )
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_it_shows_the_client_page_in_italian(client, login, account, nam) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    login(nam)
    html = client.get(f"/clients/{account.pk}/").content.decode()
    assert "Dati fiscali" in html
    assert "Mappa degli stakeholder" in html


def test_an_apps_sections_go_before_the_history_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from clients import views

    base = [views.ClientSection("activities", "A", "a.html"),
            views.ClientSection("history", "H", "h.html")]  # fmt: skip
    monkeypatch.setattr(views, "CLIENT_SECTIONS", base)
    first = views.ClientSection("orders", "O", "o.html")
    second = views.ClientSection("invoices", "I", "i.html")
    views.add_client_sections(first, second)
    views.add_client_sections(first)  # ready() running again adds nothing
    slugs = [section.slug for section in views.CLIENT_SECTIONS]
    assert slugs == ["activities", "orders", "invoices", "history"]
