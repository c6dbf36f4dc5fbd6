from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from accounts_crm.access import Role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="it_IT")
    last_name = factory.Faker("last_name", locale="it_IT")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[Role] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in extracted))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Team"

    name = factory.Sequence(lambda n: f"Team {n}")
    lead = factory.SubFactory(UserFactory, roles=[Role.TEAM_LEAD])


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Client"

    name = factory.Sequence(lambda n: f"Client {n}")
    legal_name = factory.LazyAttribute(lambda c: f"{c.name} S.p.A.")
    team = factory.SubFactory(TeamFactory)


class AccountTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.AccountTeamMember"

    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory, roles=[Role.ACCOUNT_STAFF])
    role = "nam"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Site"

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    kind = "office"
    city = "Milano"
    region = "lombardia"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Contact"

    client = factory.SubFactory(ClientFactory)
    first_name = factory.Faker("first_name", locale="it_IT")
    last_name = factory.Faker("last_name", locale="it_IT")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    buying_role = "user"


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Activity"

    client = factory.SubFactory(ClientFactory)
    author = factory.SubFactory(UserFactory, roles=[Role.ACCOUNT_STAFF])
    subject = factory.Sequence(lambda n: f"Call {n}")


class AccountPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.AccountPlan"

    client = factory.SubFactory(ClientFactory)
    year = 2026
    revenue_target = Decimal("1500000.00")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Product"

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    family = "Hardware"
    list_price = Decimal("100.00")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Contract"

    client = factory.SubFactory(ClientFactory)
    number = factory.Sequence(lambda n: f"CTR-{n:04d}")
    status = "active"
    starts_on = factory.LazyFunction(lambda: datetime.date(2026, 1, 1))
    ends_on = factory.LazyFunction(lambda: datetime.date(2027, 12, 31))
    default_discount = Decimal("10.00")


class ContractPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.ContractPrice"

    contract = factory.SubFactory(ContractFactory)
    product = factory.SubFactory(ProductFactory)
    unit_price = Decimal("80.00")
    valid_from = factory.LazyFunction(lambda: datetime.date(2026, 1, 1))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Order"

    number = factory.Sequence(lambda n: f"ORD-T-{n:05d}")
    client = factory.SubFactory(ClientFactory)
    order_date = factory.LazyFunction(lambda: datetime.date(2026, 6, 1))
    owner = factory.SubFactory(UserFactory, roles=[Role.ACCOUNT_STAFF])


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.OrderLine"

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    vat_rate = Decimal("22.00")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Opportunity"

    client = factory.SubFactory(ClientFactory)
    title = factory.Sequence(lambda n: f"Opportunity {n}")
    value = Decimal("50000.00")
    owner = factory.SubFactory(UserFactory, roles=[Role.ACCOUNT_STAFF])


# projects ------------------------------------------------------------------------------------


def _account_member(client: object, role: str) -> User:
    """Someone on the client's account team with `role`, as the services require of managers,
    owners and trainers (an unsaved user when the client is unsaved, for `.build()`)."""
    if client.pk is None:
        return UserFactory.build()
    return AccountTeamMemberFactory(client=client, role=role).user


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.Project"

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    kind = "delivery"
    status = "active"
    manager = factory.LazyAttribute(lambda p: _account_member(p.client, "project_manager"))
    starts_on = factory.LazyFunction(lambda: datetime.date(2026, 1, 1))
    due_on = factory.LazyFunction(lambda: datetime.date(2026, 12, 31))
    budget = Decimal("25000.00")


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.Milestone"

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")
    due_on = factory.LazyFunction(lambda: datetime.date(2026, 6, 30))
    owner = factory.LazyAttribute(lambda m: m.project.manager)
    billable_amount = Decimal("5000.00")
    position = factory.Sequence(lambda n: n)


class MilestoneDependencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.MilestoneDependency"

    milestone = factory.SubFactory(MilestoneFactory)
    predecessor = factory.SubFactory(
        MilestoneFactory, project=factory.SelfAttribute("..milestone.project")
    )


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.Task"

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    assignee = factory.LazyAttribute(lambda t: t.project.manager)
    due_on = factory.LazyFunction(lambda: datetime.date(2026, 6, 15))


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.TrainingSession"

    client = factory.SubFactory(ClientFactory)
    topic = factory.Sequence(lambda n: f"Training topic {n}")
    starts_at = factory.LazyFunction(
        lambda: datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)
    )
    duration_minutes = 120
    site = None
    remote = True
    trainer = factory.LazyAttribute(lambda s: _account_member(s.client, "project_manager"))


class TrainingAttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.TrainingAttendance"

    session = factory.SubFactory(TrainingSessionFactory)
    contact = factory.SubFactory(ContactFactory, client=factory.SelfAttribute("..session.client"))
    attended = True


class MarketingInitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.MarketingInitiative"

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Initiative {n}")
    channel = "event"
    status = "planned"
    starts_on = factory.LazyFunction(lambda: datetime.date(2026, 3, 1))
    ends_on = factory.LazyFunction(lambda: datetime.date(2026, 3, 31))
    budget = Decimal("10000.00")
    our_contribution = Decimal("4000.00")
    target_metric = "leads"
    target_value = Decimal("100")


class ServiceLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.ServiceLevel"

    contract = factory.SubFactory(ContractFactory)
    priority = "urgent"
    hours = 2


class ServiceCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.ServiceCase"

    client = factory.SubFactory(ClientFactory)
    contact = factory.SubFactory(ContactFactory, client=factory.SelfAttribute("..client"))
    subject = factory.Sequence(lambda n: f"Case {n}")
    priority = "normal"
    status = "new"
    opened_at = factory.LazyFunction(
        lambda: datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)
    )
    sla_due = factory.LazyAttribute(lambda c: c.opened_at + datetime.timedelta(hours=24))


# billing -------------------------------------------------------------------------------------


def _line_net(line: object) -> Decimal:
    """The rounding rule of billing/models.py: quantity x price less discount, half up."""
    from accounts_crm.money import quantize

    quantity, price, discount = (
        Decimal(str(v)) for v in (line.quantity, line.unit_price, line.discount)
    )
    return quantize(quantity * price * (100 - discount) / 100)


def _line_vat(line: object) -> Decimal:
    from accounts_crm.money import quantize

    return quantize(_line_net(line) * Decimal(str(line.vat_rate)) / 100)


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A draft invoice (no number, zero totals); billing.services keep totals and numbers."""

    class Meta:
        model = "billing.Invoice"

    kind = "invoice"
    client = factory.SubFactory(ClientFactory)
    series = "FV"
    created_by = factory.SubFactory(UserFactory, roles=[Role.FINANCE])


class CreditNoteFactory(InvoiceFactory):
    """A draft credit note of an invoice of the same client (issue the invoice first)."""

    kind = "credit_note"
    series = "NC"
    credits = factory.SubFactory(InvoiceFactory, client=factory.SelfAttribute("..client"))


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    """A line with its amounts by the rounding rule; the invoice totals are not updated
    (use billing.services.invoice_line_save for that)."""

    class Meta:
        model = "billing.InvoiceLine"

    invoice = factory.SubFactory(InvoiceFactory)
    description = factory.Sequence(lambda n: f"Line {n}")
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    discount = Decimal("0")
    vat_rate = Decimal("22.00")
    net_amount = factory.LazyAttribute(_line_net)
    vat_amount = factory.LazyAttribute(
        lambda line: (_line_net(line) * line.vat_rate / 100).quantize(
            Decimal("0.01"), "ROUND_HALF_UP"
        )
    )
    position = factory.Sequence(lambda n: n)


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment row only: billing.services.payment_record also moves the invoice's status."""

    class Meta:
        model = "billing.Payment"

    invoice = factory.SubFactory(InvoiceFactory)
    amount = Decimal("100.00")
    paid_on = factory.LazyFunction(lambda: datetime.date(2026, 7, 1))
    recorded_by = factory.SubFactory(UserFactory, roles=[Role.FINANCE])


class InvoiceCounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing.InvoiceCounter"

    series = "FV"
    year = 2026
    last_number = 0


class CheckFindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing.CheckFinding"

    invoice = factory.SubFactory(InvoiceFactory)
    rule = "price_vs_contract"
    key = factory.Sequence(lambda n: str(n))
    severity = "error"
    message = "The unit price differs from the contract price."
    expected = "80.00 EUR"
    actual = "100.00 EUR"
    expected_value = Decimal("80.00")
    actual_value = Decimal("100.00")
    amount_at_stake = Decimal("20.00")


class FindingCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing.FindingComment"

    finding = factory.SubFactory(CheckFindingFactory)
    author = factory.SubFactory(UserFactory, roles=[Role.FINANCE])
    text = factory.Sequence(lambda n: f"Comment {n}")


class SellerProfileFactory(factory.django.DjangoModelFactory):
    """Our fiscal identity for e-invoices (one row: billing.SellerProfile)."""

    class Meta:
        model = "billing.SellerProfile"
        django_get_or_create = ("singleton",)

    singleton = True
    name = "Key Accounts Italia S.r.l."
    vat_number = "01234560017"
    tax_code = "01234560017"
    regime_fiscale = "RF01"
    street = "Via Torino"
    street_number = "12"
    postal_code = "20123"
    city = "Milano"
    province = "MI"
    country = "IT"
    transmitter_country = "IT"
    transmitter_code = "01234560017"
    rea_office = "MI"
    rea_number = "1234567"
    share_capital = Decimal("10000.00")
    email = "fatture@example.com"
    phone = "0212345678"
