"""The orders part of the demo book: a real catalogue, contracts, a history with rhythms."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import Count

from accounts_crm import demo
from clients.models import Client
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product
from orders.suggestions import reorders_due, whitespace

pytestmark = pytest.mark.django_db

MODELS = (Product, Contract, ContractPrice, Order, OrderLine, Opportunity)


@pytest.fixture
def seeded() -> None:
    demo.seed()


# Seeding takes seconds, so the checks below are helpers run by one test on one seeded book.


def check_it_seeds_a_catalogue_of_several_families_and_vat_rates() -> None:
    assert Product.objects.count() >= 60
    assert Product.objects.values("family").distinct().count() >= 8
    assert set(Product.objects.values_list("kind", flat=True)) == set(Product.Kind.values)
    rates = dict(Product.objects.values_list("vat_rate").annotate(n=Count("id")))
    assert max(rates, key=rates.get) == 22
    assert {4, 10, 0} <= set(rates)
    assert Product.objects.get(vat_rate=0).vat_nature == "N4"


def check_it_seeds_contracts_for_most_groups() -> None:
    heads = Client.objects.filter(parent=None)
    with_contract = heads.filter(contracts__isnull=False).distinct().count()
    assert with_contract >= heads.count() - 1
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert {"active", "expired", "terminated"} <= statuses
    assert Contract.objects.filter(applies_to_subsidiaries=True).exists()
    assert ContractPrice.objects.count() >= 100


def check_it_seeds_two_years_of_orders_priced_as_the_services_would() -> None:
    dates = Order.objects.exclude(status="draft").values_list("order_date", flat=True)
    assert (max(dates) - min(dates)).days >= 600
    assert Order.objects.values("client").distinct().count() >= 30
    assert Order.objects.filter(status="draft", kind="reorder", reorder_of__isnull=False).exists()
    assert OrderLine.objects.exclude(contract_price=None).exists()
    assert not OrderLine.objects.exclude(contract_price=None).exclude(price_reason="").exists()
    for order in Order.objects.exclude(contract=None).select_related("contract")[:200]:
        assert order.contract.starts_on <= order.order_date <= order.contract.ends_on
    fulfilled = Order.objects.filter(status="fulfilled").first()
    assert [c.to_status for c in fulfilled.status_changes.all()][-1] == "fulfilled"


def check_the_demo_has_reorders_due_and_whitespace_to_show() -> None:
    giulia = User.objects.get(username="giulia.nam")
    assert len(reorders_due(user=giulia)) >= 3
    admin = User.objects.get(username="admin")
    tessile = Client.objects.get(name="Tessile Biellese Holding")
    suggestions = whitespace(user=admin, client=tessile).suggestions
    assert "Logistics equipment" in [s.family for s in suggestions]
    assert Opportunity.objects.filter(source="whitespace").exists()


def check_seeding_again_changes_no_orders_data() -> None:
    before = {model.__name__: model.objects.count() for model in MODELS}
    demo.seed()
    assert {model.__name__: model.objects.count() for model in MODELS} == before


def test_it_seeds_an_orders_book_worth_showing(seeded) -> None:
    check_it_seeds_a_catalogue_of_several_families_and_vat_rates()
    check_it_seeds_contracts_for_most_groups()
    check_it_seeds_two_years_of_orders_priced_as_the_services_would()
    check_the_demo_has_reorders_due_and_whitespace_to_show()
    check_seeding_again_changes_no_orders_data()
