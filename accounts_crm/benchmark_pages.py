"""The page benchmark (`manage.py benchmark`, after the invoice checks of
accounts_crm/benchmark.py): the server time of the pages people use all day, on the current book
(made for the large one, `seed_demo --scale large`), and for each dashboard the time of its core
aggregate query alone.

Server time: a request through Django's whole stack in this process (middleware, session and
authentication, the view, its queries and the template), measured from the test client's call
to the rendered response; no network, no browser. Each page is requested once to warm up, then
`repeat` times; the table gives the median, the 95th percentile (nearest rank) and the number of
queries of one request, and "SQL alone": those queries, as the request sent them, run again by
themselves (what the database needs for the page; the rest is Python, the ORM and the template).

Who asks, on the large book (`demo_large.PREFIX` people) or else the demo book:

- the finance dashboard (`/dashboards/`), the invoice list, the review queue, the client list and
  the order list: finance, who sees the whole book (the biggest lists there are);
- the team lead dashboard (`/dashboards/team/`): the lead of the first team (1/8 of the book);
- the NAM home (`/my-book/`) and the client page: the first NAM, on the client of theirs with
  the most orders.

The core aggregate query of each dashboard is the grouped query its main figure stands on, run
alone through the dashboard's own selector:

- finance: the receivables aging (`dashboards.finance.aging_buckets`), one query over every open
  invoice of the book;
- team lead: revenue by month per account (`dashboards.team.revenue_by_month`), the chart and
  the first column;
- NAM home: revenue this year per account (`dashboards.nam.revenue_this_year`): ordered,
  invoiced, collected and target.

Goals (issue 7): every page's median under 300 ms; each dashboard within 3x of its core query.

Everything runs in one transaction that is rolled back at the end: signing in writes a session
and nothing else may stay behind.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

PAGE_GOAL_SECONDS = 0.300
DASHBOARD_GOAL_RATIO = 3.0


@dataclass
class PageTiming:
    label: str
    who: str
    path: str
    seconds: list[float] = field(default_factory=list)
    queries: int = 0
    sql: list[float] = field(default_factory=list)  # the page's own queries re-run alone
    core: CoreTiming | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def ratio(self) -> float | None:
        if self.core is None or not self.core.median:
            return None
        return self.median / self.core.median

    @property
    def sql_median(self) -> float:
        return statistics.median(self.sql) if self.sql else float("nan")


@dataclass
class CoreTiming:
    label: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class PagesResult:
    database: str
    repeat: int
    pages: list[PageTiming] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Page benchmark on database {self.database!r}: server time of one request "
            f"(in-process, {self.repeat} requests after a warm-up), milliseconds.",
            "",
            f"{'page':<20} {'as':<13} {'median':>7} {'p95':>7} {'queries':>7} "
            f"{'SQL alone':>9} {'core query':>10} {'page/core':>9}",
        ]
        for page in self.pages:
            core = f"{page.core.median * 1000:>10.1f}" if page.core else f"{'':>10}"
            ratio = f"{page.ratio:>8.2f}x" if page.ratio is not None else f"{'':>9}"
            out.append(
                f"{page.label:<20} {page.who:<13} {page.median * 1000:>7.1f} "
                f"{page.p95 * 1000:>7.1f} {page.queries:>7} {page.sql_median * 1000:>9.1f} "
                f"{core} {ratio}"
            )
        slow = [p.label for p in self.pages if p.median >= PAGE_GOAL_SECONDS]
        far = [
            p.label for p in self.pages if p.ratio is not None and p.ratio > DASHBOARD_GOAL_RATIO
        ]
        out += [
            "",
            f"every page's median under {PAGE_GOAL_SECONDS * 1000:g} ms: "
            + ("met" if not slow else "NOT met (" + ", ".join(slow) + ")"),
            f"dashboards within {DASHBOARD_GOAL_RATIO:g}x of their core query: "
            + ("met" if not far else "NOT met (" + ", ".join(far) + ")"),
        ]
        for page in self.pages:
            if page.core:
                out.append(f"  core query of {page.label}: {page.core.label}")
        out.append(
            "  SQL alone: the page's own queries (one request's, as sent) run again by themselves; "
            "median - SQL alone is what Python, the ORM and the template add."
        )
        return out


class _Rollback(Exception):
    pass


def run(*, repeat: int = 15, log: Callable[[str], None] | None = None) -> PagesResult:
    """Time the pages (see the module doc), `repeat` requests each; nothing is kept."""
    result: PagesResult | None = None
    try:
        with transaction.atomic():
            result = _run(repeat=repeat, log=log or (lambda _text: None))
            raise _Rollback
    except _Rollback:
        pass
    assert result is not None
    return result


def _people() -> dict[str, object]:
    """The person of each role who asks (module doc), None where the book has nobody."""
    from accounts_crm.access import Role
    from accounts_crm.demo_large import PREFIX
    from clients.models import Team

    User = get_user_model()
    large = PREFIX.lower()

    def first(role: str, *, prefix: str = "") -> object:
        people = User.objects.filter(is_active=True, groups__name=role).order_by("username")
        return people.filter(username__startswith=prefix).first() or people.first()

    lead_team = (
        Team.objects.filter(name__startswith=PREFIX).order_by("name").first()
        or Team.objects.exclude(lead=None).order_by("name").first()
    )
    return {
        "finance": first(Role.FINANCE),
        "lead": lead_team.lead if lead_team else first(Role.TEAM_LEAD),
        "nam": first(Role.ACCOUNT_STAFF, prefix=f"{large}.nam"),
    }


def _biggest_client(user: object) -> object:
    from clients import selectors

    return (
        selectors.my_accounts(user=user)
        .annotate(order_count=Count("orders"))
        .order_by("-order_count", "pk")
        .first()
    )


def _run(*, repeat: int, log: Callable[[str], None]) -> PagesResult:
    from dashboards import finance, nam, team

    result = PagesResult(database=connection.settings_dict["NAME"], repeat=repeat)
    people = _people()
    today = timezone.localdate()
    client = _biggest_client(people["nam"]) if people["nam"] else None

    def core_team() -> object:
        accounts = team.visible_accounts(user=people["lead"], filters={})
        months = team.months_up_to(today, team.DEFAULT_PERIOD)
        return team.revenue_by_month(user=people["lead"], accounts=accounts, months=months,
                                     today=today)  # fmt: skip

    def core_nam() -> object:
        from clients import selectors

        accounts = list(selectors.my_accounts(user=people["nam"]).values_list("pk", flat=True))
        return nam.revenue_this_year(accounts, user=people["nam"], today=today)

    plan: list[tuple[str, str, str, Callable[[], object] | None, str]] = [
        ("finance dashboard", "finance", reverse("dashboards:index"),
         lambda: finance.aging_buckets(user=people["finance"], today=today),
         "receivables aging (finance.aging_buckets)"),
        ("team lead dashboard", "lead", reverse("dashboards:team"), core_team,
         "revenue by month per account (team.revenue_by_month)"),
        ("NAM home", "nam", reverse("nam:home"), core_nam,
         "revenue this year per account (nam.revenue_this_year)"),
        ("client list", "finance", reverse("clients:client_list"), None, ""),
        ("client page", "nam",
         reverse("clients:client_detail", args=[client.pk]) if client else "", None, ""),
        ("order list", "finance", reverse("orders:order_list"), None, ""),
        ("invoice list", "finance", reverse("billing:invoice_list"), None, ""),
        ("review queue", "finance", reverse("billing:review_queue"), None, ""),
    ]  # fmt: skip
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(ALLOWED_HOSTS=hosts):
        for label, role, path, core, core_label in plan:
            person = people[role]
            if person is None or not path:
                log(f"{label}: skipped (nobody to ask on this book)")
                continue
            log(f"{label} ...")
            http = HttpClient()
            http.force_login(person)
            timing = PageTiming(label, person.get_username(), path)
            _get(http, path)  # warm-up: templates, caches of this process
            with CaptureQueriesContext(connection) as queries:
                _get(http, path)
            timing.queries = len(queries.captured_queries)
            statements = [q["sql"] for q in queries.captured_queries if _is_read(q["sql"])]
            for _ in range(repeat):
                started = time.perf_counter()
                _get(http, path)
                timing.seconds.append(time.perf_counter() - started)
            with connection.cursor() as cursor:
                for _ in range(repeat):
                    started = time.perf_counter()
                    for statement in statements:
                        cursor.execute(statement)
                        cursor.fetchall()
                    timing.sql.append(time.perf_counter() - started)
            if core is not None:
                timing.core = CoreTiming(core_label)
                core()
                for _ in range(repeat):
                    started = time.perf_counter()
                    core()
                    timing.core.seconds.append(time.perf_counter() - started)
            result.pages.append(timing)
    return result


def _get(http: HttpClient, path: str) -> None:
    response = http.get(path, secure=settings.SECURE_SSL_REDIRECT)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}, not 200")


def _is_read(sql: str) -> bool:
    """A query that can run again as it was sent: reads only (no session writes, savepoints,
    or server-side cursors, which `.iterator()` declares under a name of its own)."""
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in ("SELECT", "WITH") and "DECLARE" not in sql[:200].upper()
