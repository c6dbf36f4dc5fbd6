"""The demo book: believable people, teams and clients, created idempotently.

`manage.py seed_demo` calls `seed()`. Every row is looked up by a natural key before it is
created, so running it twice changes nothing. Later apps add their sections here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from accounts_crm.access import Role, ensure_role_groups

DEMO_PASSWORD = "demo-crm-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    roles: tuple[Role, ...]
    what: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("giulia.nam", "Giulia", "Romano", (Role.ACCOUNT_STAFF,), "national account manager"),
    DemoUser("marco.nam", "Marco", "Ferrari", (Role.ACCOUNT_STAFF,), "national account manager"),
    DemoUser("luca.pm", "Luca", "Esposito", (Role.ACCOUNT_STAFF,), "project manager"),
    DemoUser("sara.cs", "Sara", "Colombo", (Role.ACCOUNT_STAFF,), "customer service"),
    DemoUser("elena.lead", "Elena", "Ricci", (Role.TEAM_LEAD,), "team lead, North"),
    DemoUser("paolo.lead", "Paolo", "Bruno", (Role.TEAM_LEAD,), "team lead, Centre-South"),
    DemoUser("anna.finance", "Anna", "Gallo", (Role.FINANCE,), "finance"),
    DemoUser("admin", "Franco", "Conti", (Role.ADMIN,), "administrator"),
)


@transaction.atomic
def seed() -> None:
    ensure_role_groups()
    for demo in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": f"{demo.username}@demo.accounts-crm.example",
                "is_staff": Role.ADMIN in demo.roles,
                "is_superuser": Role.ADMIN in demo.roles,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=demo.roles))
