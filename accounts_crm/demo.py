"""The demo book: believable people, teams and clients, created idempotently.

`manage.py seed_demo` calls `seed()`. Every row is looked up by a natural key before it is
created, so running it twice changes nothing. Later apps add their sections here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from accounts_crm.access import Role, ensure_role_groups

DEMO_PASSWORD = "demo-crm-2026"  # noqa: S105 - printed by the run command on purpose


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


@dataclass(frozen=True)
class DemoClient:
    name: str
    legal_name: str
    vat_number: str
    team: str
    industry: str
    scope: str = "national"
    parent: str | None = None
    nam: str | None = None


# Teams: name -> (lead, members).
DEMO_TEAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Key Account Nord": ("elena.lead", ("giulia.nam", "luca.pm", "sara.cs")),
    "Key Account Centro-Sud": ("paolo.lead", ("marco.nam", "luca.pm")),
}

# Client groups: holdings first, then their subsidiaries. VAT numbers pass python-stdnum's checks.
DEMO_CLIENTS: tuple[DemoClient, ...] = (
    DemoClient(
        "Gruppo Alimentare Padano",
        "Gruppo Alimentare Padano S.p.A.",
        "04123450159",
        "Key Account Nord",
        "Food & beverage",
        nam="giulia.nam",
    ),
    DemoClient(
        "Padano Distribuzione",
        "Padano Distribuzione S.r.l.",
        "02876540580",
        "Key Account Nord",
        "Food & beverage",
        parent="Gruppo Alimentare Padano",
        nam="giulia.nam",
    ),
    DemoClient(
        "Padano Logistica",
        "Padano Logistica S.r.l.",
        "03987650375",
        "Key Account Nord",
        "Logistics",
        parent="Gruppo Alimentare Padano",
        nam="giulia.nam",
    ),
    DemoClient(
        "Officine Meccaniche Lombarde",
        "Officine Meccaniche Lombarde S.p.A.",
        "05112230460",
        "Key Account Nord",
        "Machinery",
        scope="international",
        nam="giulia.nam",
    ),
    DemoClient(
        "OML Service",
        "OML Service S.r.l.",
        "06223340016",
        "Key Account Nord",
        "Machinery",
        parent="Officine Meccaniche Lombarde",
    ),
    DemoClient(
        "Mediterranea Retail Holding",
        "Mediterranea Retail Holding S.p.A.",
        "07334450637",
        "Key Account Centro-Sud",
        "Retail",
        scope="international",
        nam="marco.nam",
    ),
    DemoClient(
        "Mediterranea Retail Italia",
        "Mediterranea Retail Italia S.r.l.",
        "08445560728",
        "Key Account Centro-Sud",
        "Retail",
        parent="Mediterranea Retail Holding",
        nam="marco.nam",
    ),
    DemoClient(
        "Mediterranea Retail España",
        "Mediterranea Retail España S.L.",
        "",
        "Key Account Centro-Sud",
        "Retail",
        scope="international",
        parent="Mediterranea Retail Holding",
        nam="marco.nam",
    ),
    DemoClient(
        "Sanità Integrata",
        "Sanità Integrata S.p.A.",
        "09556670967",
        "Key Account Centro-Sud",
        "Healthcare",
        nam="marco.nam",
    ),
)


@transaction.atomic
def seed() -> None:
    _seed_users()
    _seed_clients()


def _seed_users() -> None:
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


def _seed_clients() -> None:
    from clients.models import AccountTeamMember, Client, Team

    users = {
        user.username: user
        for user in User.objects.filter(username__in=[u.username for u in DEMO_USERS])
    }
    teams: dict[str, Team] = {}
    for name, (lead, members) in DEMO_TEAMS.items():
        teams[name], _ = Team.objects.get_or_create(name=name, defaults={"lead": users[lead]})
        teams[name].members.add(*(users[member] for member in members))

    clients: dict[str, Client] = {}
    for demo in DEMO_CLIENTS:
        clients[demo.name], _ = Client.objects.get_or_create(
            name=demo.name,
            defaults={
                "legal_name": demo.legal_name,
                "vat_number": demo.vat_number,
                "team": teams[demo.team],
                "industry": demo.industry,
                "scope": demo.scope,
                "parent": clients[demo.parent] if demo.parent else None,
            },
        )
        if demo.nam:
            AccountTeamMember.objects.get_or_create(
                client=clients[demo.name],
                role=AccountTeamMember.Role.NAM,
                ends_on=None,
                defaults={"user": users[demo.nam]},
            )
    # Delivery and service people on the northern accounts.
    for client_name in ("Gruppo Alimentare Padano", "Padano Distribuzione"):
        for username, role, base in (
            (
                "luca.pm",
                AccountTeamMember.Role.PROJECT_MANAGER,
                AccountTeamMember.WorkBase.CLIENT_SITE,
            ),
            (
                "sara.cs",
                AccountTeamMember.Role.CUSTOMER_SERVICE,
                AccountTeamMember.WorkBase.HOME_OFFICE,
            ),
        ):
            AccountTeamMember.objects.get_or_create(
                client=clients[client_name],
                user=users[username],
                role=role,
                defaults={"work_base": base},
            )
