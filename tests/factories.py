from __future__ import annotations

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
