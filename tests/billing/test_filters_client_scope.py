"""The invoice list's and review queue's filters the dashboards link with: `in_revenue`
(issued, partially paid or paid) and the client's team / NAM (ClientScopeFilters)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from billing.filters import FindingFilter, InvoiceFilter
from billing.models import CheckFinding, Invoice
from tests.dashboards.test_finance import issued
from tests.factories import AccountTeamMemberFactory, CheckFindingFactory, ClientFactory

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 9, 1)


def test_in_revenue_is_issued_partially_paid_or_paid() -> None:
    client = ClientFactory()
    for status in ("issued", "partially_paid", "paid", "cancelled"):
        issued(client, gross="10", issued_on=ON, due=ON, status=status)
    rows = InvoiceFilter({"in_revenue": "true"}, queryset=Invoice.objects.all()).qs
    assert set(rows.values_list("status", flat=True)) == {"issued", "partially_paid", "paid"}
    rows = InvoiceFilter({"in_revenue": "false"}, queryset=Invoice.objects.all()).qs
    assert set(rows.values_list("status", flat=True)) == {"cancelled"}


def test_invoices_and_findings_filter_by_the_clients_team_and_nam() -> None:
    alfa, beta = ClientFactory(name="Alfa"), ClientFactory(name="Beta")
    nam = AccountTeamMemberFactory(client=alfa, role="nam").user
    for client in (alfa, beta):
        invoice = issued(client, gross="10", issued_on=ON, due=ON)
        CheckFindingFactory(invoice=invoice, rule="price_vs_contract", amount_at_stake=Decimal(1))
    invoices = InvoiceFilter({"team": alfa.team_id}, queryset=Invoice.objects.all()).qs
    assert [i.client_id for i in invoices] == [alfa.pk]
    findings = FindingFilter({"nam": nam.pk}, queryset=CheckFinding.objects.all()).qs
    assert [f.invoice.client_id for f in findings] == [alfa.pk]
    assert not FindingFilter({"nam": 999_999}, queryset=CheckFinding.objects.all()).qs.exists()


def test_the_invoice_list_offers_the_teams_the_person_sees(
    login: Callable[[User], HttpClient],
) -> None:
    mine = ClientFactory()
    ClientFactory()  # another team's
    issued(mine, gross="10", issued_on=ON, due=ON)
    http = login(mine.team.lead)
    form = http.get(reverse("billing:invoice_list")).context["filter"].form
    assert [value for value, _label in form.fields["team"].choices] == ["", mine.team_id]
    response = http.get("/api/v1/invoices/", {"team": mine.team_id})
    assert len(response.json()["results"]) == 1
