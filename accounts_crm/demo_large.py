"""The large book (`manage.py seed_demo --scale large`): a national-account business at full size,
to measure pages and jobs on (accounts_crm/benchmark.py).

At factor 1: 2,000 clients in 300 groups, 60 NAMs in 8 teams, 200,000 orders with 1,000,000 lines,
100,000 invoices with 400,000 lines (plus duplicates and credit notes), 20,000 projects with
100,000 milestones; every count scales with `factor` (the tests use 0.001).

How it stays fast: rows are never made one by one through the ORM. The few thousand rows that need
Python (people, clients with valid VAT numbers) go in with COPY (psycopg 3 `cursor.copy()`); the
large tables are INSERT ... SELECT over generate_series, with every "random" choice a hash of the
row number (`pg_temp.rnd`), so a factor always gives the same book. Ids are given explicitly
(the table's max id + the row number), so foreign keys are arithmetic instead of lookups; the
identity sequences are moved past them at the end.

Triggers: the audit (pghistory) triggers would write one event row per inserted row and the
billing immutability triggers refuse lines on issued invoices. The whole load runs in ONE
transaction with `SET LOCAL session_replication_role = replica`, which skips triggers for this
transaction only (superuser; nothing else is affected and it ends with the transaction). That also
skips foreign-key triggers, so the generator keeps references right by construction, and
`verify()` checks them (and the numbering) at the end, inside the transaction: a wrong book rolls
back. CHECK, UNIQUE and EXCLUDE constraints are not triggers and hold as usual. The large book is
thus not in the audit trail: it was never edited by a person.

Numbering: issued invoices and credit notes get gapless numbers 1..N per series and year after
any number already given, and the InvoiceCounter rows are set to the last one.

The error mix (the kinds the invoice checks look for, billing/checks.py): about 3.6% of invoices
carry one deliberate mistake (ERROR_KINDS, by invoice number modulo 331) and stay open so the checks
see them; besides, a few groups' contracts are expired, terminated or have a small billing cap,
and one client in 200 lacks its SDI code and PEC, so their open invoices are flagged naturally.
Findings are not made here: the checks (nightly job, or the benchmark) make them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from stdnum import luhn

from accounts_crm.access import Role, ensure_role_groups

PREFIX = "LRG"  # client names, order numbers and usernames of the large book start with it

# Deliberate mistakes, by invoice row number j (j % ERROR_MODULO): the kind it shows.
ERROR_MODULO = 331
ERROR_KINDS: dict[int, str] = {
    1: "price above the contract / order price",
    2: "discount different from the contract's",
    3: "quantity above ordered and delivered",
    4: "due date shorter than the contract's payment terms",
    5: "line arithmetic off by 10.00",
    6: "billed to a company of another group",
    7: "order not confirmed (submitted)",
    8: "entered twice (a draft duplicate)",
    9: "milestone billed before it is completed",
    10: "line quantity above delivered (half delivered)",
}

REGIONS = ("lombardia", "piemonte", "veneto", "emilia_romagna", "toscana", "lazio", "campania",
           "puglia", "sicilia", "sardegna")  # fmt: skip
INDUSTRIES = ("Food & beverage", "Machinery", "Textiles", "Retail", "Construction", "Healthcare",
              "Energy & utilities", "Pharmaceuticals", "Logistics",
              "Industrial automation")  # fmt: skip


@dataclass
class Sizes:
    groups: int
    clients: int
    nams: int
    teams: int
    orders: int
    lines_per_order: int
    invoices: int
    lines_per_invoice: int
    projects: int
    milestones_per_project: int

    @classmethod
    def for_factor(cls, factor: float) -> Sizes:
        def scaled(full: int, least: int) -> int:
            return max(least, math.ceil(full * factor))

        return cls(
            groups=scaled(300, 3),
            clients=scaled(2000, 8),
            nams=scaled(60, 4),
            teams=8 if factor >= 0.1 else 2,
            orders=scaled(200_000, 240),
            lines_per_order=5,
            invoices=scaled(100_000, 120),
            lines_per_invoice=4,
            projects=scaled(20_000, 30),
            milestones_per_project=5,
        )


@dataclass
class Report:
    sizes: Sizes
    seconds: float = 0.0
    steps: list[tuple[str, float, int]] = field(default_factory=list)
    skipped: bool = False


def seed_large(*, factor: float = 1.0, log=None) -> Report:
    """Generate the large book once (a second run finds it and does nothing)."""
    from accounts_crm import demo

    sizes = Sizes.for_factor(factor)
    report = Report(sizes)
    from clients.models import Client

    if Client.objects.filter(name__startswith=f"{PREFIX} ").exists():
        report.skipped = True
        return report
    started = time.monotonic()
    ensure_role_groups()
    demo._seed_users()
    demo._seed_catalogue()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        _Generator(cursor, sizes, report, log).run()
    if not connection.in_atomic_block:
        # What autovacuum would do in a while: the visibility map lets counts and the lists'
        # dropdowns read indexes only (the benchmark measures the book as it runs day to day).
        # VACUUM cannot run in a transaction: a caller's (a test's) skips it.
        step = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        report.steps.append(("vacuum", time.monotonic() - step, -1))
        if log:
            log(f"  vacuum: {time.monotonic() - step:.1f} s")
    report.seconds = time.monotonic() - started
    return report


class _Generator:
    def __init__(self, cursor, sizes: Sizes, report: Report, log) -> None:
        self.cursor = cursor
        self.s = sizes
        self.report = report
        self.log = log
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.base: dict[str, int] = {}

    # Helpers ----------------------------------------------------------------------------------

    def sql(self, label: str, statement: str, params: dict | None = None) -> int:
        started = time.monotonic()
        params = {"today": self.today, "now": self.now, **self.base, **self._sizes(),
                  **(params or {})}  # fmt: skip
        rows = 0
        # psycopg binds parameters server-side: one statement per execute.
        for part in statement.split(";\n"):
            if part.strip():
                self.cursor.execute(part, params)
                rows = self.cursor.rowcount
        elapsed = time.monotonic() - started
        self.report.steps.append((label, elapsed, rows))
        if self.log:
            self.log(f"  {label}: {rows} rows in {elapsed:.1f} s")
        return rows

    def _sizes(self) -> dict[str, int]:
        s = self.s
        return {
            "groups": s.groups, "clients": s.clients, "nams": s.nams, "teams": s.teams,
            "orders": s.orders, "lpo": s.lines_per_order, "invoices": s.invoices,
            "lpi": s.lines_per_invoice, "projects": s.projects,
            "mpp": s.milestones_per_project, "errmod": ERROR_MODULO,
        }  # fmt: skip

    def next_id(self, table: str) -> int:
        self.cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")  # noqa: S608 - our names
        return self.cursor.fetchone()[0]

    def copy(self, label: str, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        started = time.monotonic()
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.monotonic() - started
        self.report.steps.append((label, elapsed, len(rows)))
        if self.log:
            self.log(f"  {label}: {len(rows)} rows in {elapsed:.1f} s")

    # The book ---------------------------------------------------------------------------------

    def run(self) -> None:
        for table in ("auth_user", "clients_team", "clients_client", "orders_contract",
                      "orders_order", "orders_orderline", "projects_project",
                      "projects_milestone", "billing_invoice", "billing_invoiceline"):  # fmt: skip
            self.base[f"b_{table.split('_', 1)[1]}"] = self.next_id(table)
        self.cursor.execute(
            """
            CREATE OR REPLACE FUNCTION pg_temp.rnd(n bigint, salt int) RETURNS float8
            LANGUAGE sql IMMUTABLE AS
            $$ SELECT (hashint8(n * 1000003 + salt) & 2147483647)::float8 / 2147483648 $$
            """
        )
        self.cursor.execute(
            """
            CREATE TEMP TABLE lp ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY sku) - 1 AS pos, id, sku, name, list_price,
                   vat_rate, vat_nature
              FROM orders_product WHERE is_active
            """
        )
        self.cursor.execute("SELECT count(*) FROM lp")
        self.products = self.cursor.fetchone()[0]
        self.people()
        self.clients()
        self.contracts()
        self.orders()
        self.projects()
        self.invoices()
        self.finish()

    def people(self) -> None:
        s, b = self.s, self.base["b_user"]
        users = []
        for i in range(1, s.nams + s.teams + 1):
            nam = i <= s.nams
            number = i if nam else i - s.nams
            username = f"{PREFIX.lower()}.{'nam' if nam else 'lead'}{number:03d}"
            users.append((b + i, "!", False, username, "Large", f"{'NAM' if nam else 'Lead'} "
                          f"{number:03d}", f"{username}@large.accounts-crm.example", False, True,
                          self.now))  # fmt: skip
        self.copy("people", "auth_user", ("id", "password", "is_superuser", "username",
                  "first_name", "last_name", "email", "is_staff", "is_active", "date_joined"),
                  users)  # fmt: skip
        roles = [Role.ACCOUNT_STAFF, Role.TEAM_LEAD]
        groups = {g.name: g.pk for g in Group.objects.filter(name__in=roles)}
        self.sql("roles", """
            INSERT INTO auth_user_groups (user_id, group_id)
            SELECT %(b_user)s + i, CASE WHEN i <= %(nams)s THEN %(staff)s ELSE %(lead)s END
              FROM generate_series(1, %(nams)s + %(teams)s) i
        """, {"staff": groups[Role.ACCOUNT_STAFF], "lead": groups[Role.TEAM_LEAD]})  # fmt: skip
        self.sql("teams", """
            INSERT INTO clients_team (id, created_at, updated_at, name, lead_id)
            SELECT %(b_team)s + t, %(now)s, %(now)s, 'LRG Key Account ' || lpad(t::text, 2, '0'),
                   %(b_user)s + %(nams)s + t
              FROM generate_series(1, %(teams)s) t
        """)  # fmt: skip
        # NAM i is in team ((i - 1) %% teams) + 1.
        self.sql("team members", """
            INSERT INTO clients_team_members (team_id, user_id)
            SELECT %(b_team)s + (i - 1) %% %(teams)s + 1, %(b_user)s + i
              FROM generate_series(1, %(nams)s) i
        """)  # fmt: skip

    def clients(self) -> None:
        """Group heads are clients 1..groups; client n > groups is a subsidiary of group
        ((n - groups - 1) % groups) + 1. A group's NAM is NAM ((g - 1) % nams) + 1, its team
        that NAM's team."""
        s, b = self.s, self.base["b_client"]
        rows = []
        for n in range(1, s.clients + 1):
            g = n if n <= s.groups else (n - s.groups - 1) % s.groups + 1
            nam = (g - 1) % s.nams + 1
            team = self.base["b_team"] + (nam - 1) % s.teams + 1
            digits = f"{7_000_000 + n:07d}{(n % 100) + 1:03d}"
            vat = digits + luhn.calc_check_digit(digits)
            no_fiscal = n % 200 == 7  # lacks SDI code and PEC: the checks flag its invoices
            region = REGIONS[g % len(REGIONS)]
            name = f"{PREFIX} Gruppo {g:03d}" if n == g else f"{PREFIX} Gruppo {g:03d} {n:05d}"
            rows.append((
                b + n, self.now, self.now, name, f"{name} S.p.A.", vat, vat,
                "" if no_fiscal else f"L{n:06d}",
                "" if no_fiscal else f"amministrazione@pec.lrg{n:05d}.example",
                None if n == g else b + g, team, "national", INDUSTRIES[g % len(INDUSTRIES)],
                "key" if n == g else "developing", "active", f"Via del Lavoro {n}",
                f"{20100 + n % 900:05d}", "Milano", "MI", region, "IT", 1, False,
            ))  # fmt: skip
        self.copy("clients", "clients_client", ("id", "created_at", "updated_at", "name",
                  "legal_name", "vat_number", "tax_code", "sdi_code", "pec", "parent_id",
                  "team_id", "scope", "industry", "tier", "status", "street", "postal_code",
                  "city", "province", "region", "country", "version", "split_payment"),
                  rows)  # fmt: skip
        self.sql("client map", """
            CREATE TEMP TABLE cl ON COMMIT DROP AS
            SELECT n, %(b_client)s + n AS id, g, %(b_user)s + (g - 1) %% %(nams)s + 1 AS nam_id,
                   %(b_contract)s + g AS contract_id
              FROM (SELECT n, CASE WHEN n <= %(groups)s THEN n
                                   ELSE (n - %(groups)s - 1) %% %(groups)s + 1 END AS g
                      FROM generate_series(1, %(clients)s) n) x
        """)  # fmt: skip
        self.sql("account teams", """
            INSERT INTO clients_accountteammember
                (created_at, updated_at, role, work_base, starts_on, ends_on, user_id, client_id)
            SELECT %(now)s, %(now)s, 'nam', 'main_office', %(today)s::date - 900, NULL, nam_id, id
              FROM cl
        """)  # fmt: skip

    def contracts(self) -> None:
        """One framework contract per group (applies to its subsidiaries). Groups g % 100 == 2
        expired 60 days ago, g % 100 == 3 were terminated, g % 50 == 1 have a small cap."""
        self.sql("contracts", """
            INSERT INTO orders_contract (id, created_at, updated_at, number, status, starts_on,
                ends_on, auto_renew, renewal_notice_days, payment_terms_days, default_discount,
                billing_cap, annual_commitment, currency, applies_to_subsidiaries, terms, version,
                client_id)
            SELECT %(b_contract)s + g, %(now)s, %(now)s, 'LRG-CQ-' || lpad(g::text, 4, '0'),
                   CASE g %% 100 WHEN 2 THEN 'expired' WHEN 3 THEN 'terminated' ELSE 'active' END,
                   %(today)s::date - 800,
                   CASE WHEN g %% 100 = 2 THEN %(today)s::date - 60
                        ELSE %(today)s::date + 200 + (pg_temp.rnd(g, 1) * 400)::int END,
                   g %% 4 = 0, 90, (ARRAY[30, 60, 90])[g %% 3 + 1],
                   (5 + (pg_temp.rnd(g, 2) * 10)::int)::numeric,
                   CASE WHEN g %% 50 = 1 THEN 20000 ELSE 50000000 END, 400000, 'EUR', true,
                   'Contratto quadro di fornitura.', 1, %(b_client)s + g
              FROM generate_series(1, %(groups)s) g
        """)  # fmt: skip
        self.sql("contract prices", """
            INSERT INTO orders_contractprice
                (created_at, updated_at, unit_price, valid_from, valid_to, contract_id, product_id)
            SELECT %(now)s, %(now)s,
                   round(lp.list_price
                         * (0.78 + 0.14 * pg_temp.rnd(g * 1000 + lp.pos, 3))::numeric, 2),
                   c.starts_on, c.ends_on, c.id, lp.id
              FROM generate_series(1, %(groups)s) g
              JOIN orders_contract c ON c.id = %(b_contract)s + g
              CROSS JOIN lp
             WHERE pg_temp.rnd(g * 1000 + lp.pos, 4) < 0.4
        """)  # fmt: skip

    def orders(self) -> None:
        """Order n is dated in order over the last two years (ids are chronological), for a
        client drawn by hash, under its group's contract when in force; 5 lines of distinct
        products at the contract price when agreed, else list less the default discount."""
        self.sql("orders", """
            INSERT INTO orders_order (id, created_at, updated_at, number, kind, status, client_po,
                order_date, requested_delivery, currency, notes, version, client_id, contract_id,
                owner_id, reorder_of_id)
            SELECT %(b_order)s + o.i, %(now)s, %(now)s, 'LRG-' || lpad(o.i::text, 7, '0'),
                   CASE WHEN o.i <= %(clients)s THEN 'new' ELSE 'reorder' END,
                   CASE WHEN age > 40 THEN CASE WHEN pg_temp.rnd(o.i, 11) < 0.03 THEN 'cancelled'
                                                ELSE 'fulfilled' END
                        WHEN age > 12 THEN (ARRAY['confirmed', 'in_progress', 'fulfilled'])
                                           [1 + (pg_temp.rnd(o.i, 12) * 3)::int %% 3]
                        ELSE (ARRAY['submitted', 'confirmed'])
                             [1 + (pg_temp.rnd(o.i, 12) * 2)::int %% 2]
                   END,
                   'PO-' || o.i, day, day + 14, 'EUR', '', 1, cl.id,
                   CASE WHEN day BETWEEN c.starts_on AND c.ends_on THEN c.id END, cl.nam_id, NULL
              FROM (SELECT n AS i, %(today)s::date - 730 + (730 * (n - 1) / %(orders)s)::int AS day,
                           730 - (730 * (n - 1) / %(orders)s)::int AS age,
                           1 + (pg_temp.rnd(n, 10) * %(clients)s)::int %% %(clients)s AS cn
                      FROM generate_series(1, %(orders)s) n) o
              JOIN cl ON cl.n = o.cn
              JOIN orders_contract c ON c.id = cl.contract_id
        """)  # fmt: skip
        self.sql("order lines", """
            INSERT INTO orders_orderline (id, created_at, updated_at, description, quantity,
                unit_price, discount, vat_rate, vat_nature, contract_price, price_reason,
                delivered_quantity, order_id, product_id)
            SELECT %(b_orderline)s + (n - 1) * %(lpo)s + k + 1, %(now)s, %(now)s, lp.name, q,
                   COALESCE(cp.unit_price, lp.list_price),
                   CASE WHEN cp.id IS NULL AND o.contract_id IS NOT NULL
                        THEN c.default_discount ELSE 0 END,
                   lp.vat_rate, lp.vat_nature, cp.unit_price, '',
                   CASE o.status WHEN 'fulfilled' THEN q WHEN 'in_progress' THEN floor(q / 2)
                        ELSE 0 END,
                   o.id, lp.id
              FROM (SELECT n, k, (1 + (pg_temp.rnd(n * 8 + k, 13) * 20)::int)::numeric AS q
                      FROM generate_series(1, %(orders)s) n,
                           generate_series(0, %(lpo)s - 1) k) x
              JOIN orders_order o ON o.id = %(b_order)s + n
              JOIN lp ON lp.pos = (n * 7 + k * 13) %% %(products)s
              LEFT JOIN orders_contract c ON c.id = o.contract_id
              LEFT JOIN orders_contractprice cp
                     ON cp.contract_id = o.contract_id AND cp.product_id = lp.id
                    AND o.order_date BETWEEN cp.valid_from AND cp.valid_to
        """, {"products": self.products})  # fmt: skip

    def projects(self) -> None:
        """Project p delivers order ((p * 7919) % orders) + 1; 40% completed, 45% active, 10%
        planned, 5% cancelled; 5 billable milestones 24 days apart, completed when the project is
        or when due in the past (active)."""
        self.sql("projects", """
            INSERT INTO projects_project (id, created_at, updated_at, name, kind, status,
                starts_on, due_on, budget, currency, description, version, client_id,
                manager_id, order_id)
            SELECT %(b_project)s + p, %(now)s, %(now)s, 'LRG progetto ' || p,
                   (ARRAY['delivery', 'implementation', 'training', 'service'])[1 + p %% 4],
                   CASE WHEN r < 0.40 THEN 'completed' WHEN r < 0.85 THEN 'active'
                        WHEN r < 0.95 THEN 'planned' ELSE 'cancelled' END,
                   o.order_date + 7, o.order_date + 7 + 24 * %(mpp)s, 100000, 'EUR', '', 1,
                   o.client_id, o.owner_id, o.id
              FROM (SELECT p, pg_temp.rnd(p, 20) AS r FROM generate_series(1, %(projects)s) p) x
              JOIN orders_order o ON o.id = %(b_order)s + (p * 7919) %% %(orders)s + 1
        """)  # fmt: skip
        self.sql("milestones", """
            INSERT INTO projects_milestone (id, created_at, updated_at, name, starts_on, due_on,
                completed_on, billable_amount, position, owner_id, project_id)
            SELECT %(b_milestone)s + (p - 1) * %(mpp)s + m, %(now)s, %(now)s, 'Fase ' || m,
                   NULL, pr.starts_on + 24 * m,
                   CASE WHEN pr.status = 'completed'
                          OR (pr.status = 'active' AND pr.starts_on + 24 * m < %(today)s::date)
                        THEN LEAST(pr.starts_on + 24 * m - 2, %(today)s::date) END,
                   round((5000 + pg_temp.rnd(p * 8 + m, 21) * 20000)::numeric, -2), m,
                   pr.manager_id, pr.id
              FROM generate_series(1, %(projects)s) p
              CROSS JOIN generate_series(1, %(mpp)s) m
              JOIN projects_project pr ON pr.id = %(b_project)s + p
        """)  # fmt: skip

    def invoices(self) -> None:
        """95% of the invoices bill the latest fulfilled orders (4 of their 5 lines, what was
        delivered), 5% bill the first 4 milestones of completed projects. Then the mistakes,
        totals, statuses and numbers, payments and credit notes."""
        by_order = math.ceil(self.s.invoices * 0.95)
        by_milestone = self.s.invoices - by_order
        self.sql("invoice plan", """
            CREATE TEMP TABLE inv ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY src, key) AS j, x.*
              FROM (
                (SELECT 1 AS src, o.id AS key, o.id AS order_id, NULL::bigint AS project_id,
                        o.client_id, o.contract_id,
                        LEAST(o.order_date + 5 + (pg_temp.rnd(o.id, 30) * 11)::int,
                              %(today)s::date) AS issue_date
                   FROM orders_order o
                  WHERE o.id > %(b_order)s AND o.status = 'fulfilled'
                  ORDER BY o.id DESC LIMIT %(by_order)s)
                UNION ALL
                (SELECT 2, pr.id, pr.order_id, pr.id, pr.client_id, o.contract_id,
                        LEAST(pr.starts_on + 24 * 4 + 1, %(today)s::date)
                   FROM projects_project pr JOIN orders_order o ON o.id = pr.order_id
                  WHERE pr.id > %(b_project)s AND pr.status = 'completed'
                  ORDER BY pr.id LIMIT %(by_milestone)s)
              ) x
        """, {"by_order": by_order, "by_milestone": by_milestone})  # fmt: skip
        # The early-milestone mistake needs a milestone invoice: the first one gets it, and
        # milestone invoices get no order-line mistakes.
        self.sql("invoice mistakes", """
            ALTER TABLE inv ADD COLUMN id bigint, ADD COLUMN err int, ADD COLUMN status text,
                ADD COLUMN due_date date, ADD COLUMN number int;
            UPDATE inv SET id = %(b_invoice)s + j,
                err = CASE WHEN j %% %(errmod)s BETWEEN 1 AND 10 THEN j %% %(errmod)s END;
            UPDATE inv SET err = NULL WHERE src = 2 AND err IS NOT NULL AND err <> 9;
            UPDATE inv SET err = 9 WHERE j = (SELECT min(j) FROM inv WHERE src = 2);
            UPDATE inv SET err = NULL WHERE src = 1 AND err = 9
        """)  # fmt: skip
        self.sql("invoice due dates", """
            UPDATE inv SET due_date = inv.issue_date
                + CASE WHEN me.err = 4 THEN 15 ELSE COALESCE(c.payment_terms_days, 30) END,
                client_id = CASE WHEN me.err = 6 THEN
                    (SELECT id FROM cl WHERE cl.n = (other.g + %(groups)s / 2) %% %(groups)s + 1)
                    ELSE inv.client_id END
              FROM inv AS me
              LEFT JOIN orders_contract c ON c.id = me.contract_id
              LEFT JOIN cl AS other ON other.id = me.client_id
             WHERE me.j = inv.j
        """)  # fmt: skip
        # Statuses: the last 3 days are drafts; mistakes stay open (issued, unpaid); the rest
        # are paid, overdue, partially paid or open by their due date.
        self.sql("invoice statuses", """
            UPDATE inv SET status = CASE
                WHEN issue_date > %(today)s::date - 3 THEN 'draft'
                WHEN err IS NOT NULL THEN 'issued'
                WHEN due_date >= %(today)s::date THEN
                     CASE WHEN pg_temp.rnd(j, 31) < 0.15 THEN 'partially_paid' ELSE 'issued' END
                WHEN pg_temp.rnd(j, 31) < 0.07 THEN 'issued'
                WHEN pg_temp.rnd(j, 31) < 0.12 THEN 'partially_paid'
                ELSE 'paid' END
        """)  # fmt: skip
        self.sql("invoice numbers", """
            UPDATE inv SET number = x.rn + COALESCE(ic.last_number, 0)
              FROM (SELECT j, extract(year FROM issue_date)::int AS y,
                           row_number() OVER (PARTITION BY extract(year FROM issue_date)
                                              ORDER BY issue_date, j) AS rn
                      FROM inv WHERE status <> 'draft') x
              LEFT JOIN billing_invoicecounter ic ON ic.series = 'FV' AND ic.year = x.y
             WHERE inv.j = x.j
        """)  # fmt: skip
        self.sql("invoices", """
            INSERT INTO billing_invoice (id, created_at, updated_at, kind, status, check_status,
                series, year, number, issue_date, due_date, currency, net_total, vat_total,
                gross_total, amount_paid, notes, issued_at, version, client_id, contract_id,
                created_by_id, credits_id, issued_by_id, order_id)
            SELECT id, %(now)s, %(now)s, 'invoice', status, 'unchecked', 'FV',
                   CASE WHEN number IS NOT NULL THEN extract(year FROM issue_date) END, number,
                   issue_date, due_date, 'EUR', 0, 0, 0, 0,
                   COALESCE('[large: ' || err || ']', ''),
                   CASE WHEN number IS NOT NULL THEN issue_date + time '18:00' END, 1,
                   client_id, contract_id, %(finance)s, NULL,
                   CASE WHEN number IS NOT NULL THEN %(finance)s END, order_id
              FROM inv
        """, {"finance": self.finance_id()})  # fmt: skip
        self.sql("invoice lines (orders)", """
            INSERT INTO billing_invoiceline (id, created_at, updated_at, description, quantity,
                unit_price, discount, vat_rate, vat_nature, net_amount, vat_amount, position,
                invoice_id, milestone_id, order_line_id, product_id)
            SELECT %(b_invoiceline)s + (inv.j - 1) * %(lpi)s + k + 1, %(now)s, %(now)s,
                   ol.description,
                   CASE WHEN inv.err = 3 AND k = 0 THEN ol.quantity + 3
                        WHEN inv.err = 10 AND k = 0 THEN ol.quantity ELSE ol.delivered_quantity
                   END,
                   CASE WHEN inv.err = 1 AND k = 0 THEN round(ol.unit_price * 1.08, 2)
                        ELSE ol.unit_price END,
                   CASE WHEN inv.err = 2 AND k = 0 THEN LEAST(ol.discount + 5, 100)
                        ELSE ol.discount END,
                   ol.vat_rate, ol.vat_nature, 0, 0, k + 1, inv.id, NULL, ol.id, ol.product_id
              FROM inv
              CROSS JOIN generate_series(0, %(lpi)s - 1) k
              JOIN orders_orderline ol
                ON ol.id = %(b_orderline)s + (inv.order_id - %(b_order)s - 1) * %(lpo)s + k + 1
             WHERE inv.src = 1 AND ol.delivered_quantity > 0
        """)  # fmt: skip
        self.sql("invoice lines (milestones)", """
            INSERT INTO billing_invoiceline (id, created_at, updated_at, description, quantity,
                unit_price, discount, vat_rate, vat_nature, net_amount, vat_amount, position,
                invoice_id, milestone_id, order_line_id, product_id)
            SELECT %(b_invoiceline)s + (inv.j - 1) * %(lpi)s + m, %(now)s, %(now)s,
                   pr.name || ': ' || ms.name, 1, ms.billable_amount, 0, 22, '', 0, 0, m,
                   inv.id, ms.id, NULL, NULL
              FROM inv
              CROSS JOIN generate_series(1, %(lpi)s) m
              JOIN projects_project pr ON pr.id = inv.project_id
              JOIN projects_milestone ms
                ON ms.id = %(b_milestone)s + (pr.id - %(b_project)s - 1) * %(mpp)s + m
             WHERE inv.src = 2
        """)  # fmt: skip
        self.mistakes_outside_lines()
        self.totals("billing_invoiceline.invoice_id > %(b_invoice)s")
        self.payments()
        self.credit_notes()

    def finance_id(self) -> int:
        from django.contrib.auth.models import User

        return User.objects.get(username="anna.finance").pk

    def mistakes_outside_lines(self) -> None:
        self.sql("mistakes: unconfirmed orders, early milestones", """
            UPDATE orders_order o SET status = 'submitted'
              FROM inv WHERE inv.err = 7 AND o.id = inv.order_id;
            UPDATE orders_orderline ol SET delivered_quantity = 0
              FROM inv WHERE inv.err = 7 AND ol.order_id = inv.order_id;
            UPDATE orders_orderline ol SET delivered_quantity = floor(ol.quantity / 2)
              FROM inv WHERE inv.err = 10 AND ol.id = (
                  SELECT order_line_id FROM billing_invoiceline
                   WHERE invoice_id = inv.id AND position = 1);
            UPDATE projects_milestone ms SET completed_on = NULL
              FROM inv, billing_invoiceline l
             WHERE inv.err = 9 AND l.invoice_id = inv.id AND l.position = 4
               AND ms.id = l.milestone_id;
        """)  # fmt: skip

    def totals(self, where: str) -> None:
        """Line amounts by the rounding rule (half up per line), the arithmetic mistake on top,
        then invoice totals = sums of the lines."""
        self.sql("line amounts", f"""
            UPDATE billing_invoiceline SET
                net_amount = round(quantity * unit_price * (100 - discount) / 100, 2),
                vat_amount = round(round(quantity * unit_price * (100 - discount) / 100, 2)
                                   * vat_rate / 100, 2)
             WHERE {where}
        """)  # fmt: skip  # noqa: S608 - fixed text
        self.sql("invoice totals", f"""
            UPDATE billing_invoice i SET net_total = s.net, vat_total = s.vat,
                   gross_total = s.net + s.vat
              FROM (SELECT invoice_id, sum(net_amount) AS net, sum(vat_amount) AS vat
                      FROM billing_invoiceline WHERE {where} GROUP BY invoice_id) s
             WHERE i.id = s.invoice_id
        """)  # fmt: skip  # noqa: S608 - fixed text
        # After the totals: the header no longer matches its lines either.
        self.sql("mistake: arithmetic", """
            UPDATE billing_invoiceline l SET net_amount = l.net_amount + 10
              FROM inv WHERE inv.err = 5 AND l.invoice_id = inv.id AND l.position = 1
        """)  # fmt: skip

    def payments(self) -> None:
        self.sql("payments", """
            INSERT INTO billing_payment (created_at, updated_at, amount, paid_on, method,
                reference, invoice_id, recorded_by_id)
            SELECT %(now)s, %(now)s,
                   CASE inv.status WHEN 'paid' THEN i.gross_total
                        ELSE round(i.gross_total * 0.4, 2) END,
                   LEAST(GREATEST(i.issue_date,
                                  i.due_date - 10 + (pg_temp.rnd(inv.j, 32) * 18)::int),
                         %(today)s::date),
                   'bank_transfer', 'CRO FV' || inv.number, inv.id, %(finance)s
              FROM inv JOIN billing_invoice i ON i.id = inv.id
             WHERE inv.status IN ('paid', 'partially_paid') AND i.gross_total > 0
        """, {"finance": self.finance_id()})  # fmt: skip
        self.sql("amounts paid", """
            UPDATE billing_invoice i SET amount_paid = p.amount
              FROM billing_payment p WHERE p.invoice_id = i.id AND i.id > %(b_invoice)s
        """)  # fmt: skip

    def credit_notes(self) -> None:
        """Goods returned: one paid order invoice in a hundred is credited one unit of its first
        line, 12 days after its issue (NC series, gapless); the client paid it net of that."""
        self.bump("billing_invoiceline")
        self.sql("credit notes", """
            CREATE TEMP TABLE cn ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY i.issue_date + 12, i.id) AS c, i.id AS credits_id,
                   i.client_id, i.order_id, i.contract_id, i.issue_date + 12 AS issue_date,
                   l.id AS line_id
              FROM inv JOIN billing_invoice i ON i.id = inv.id
              JOIN billing_invoiceline l ON l.invoice_id = i.id AND l.position = 1
             WHERE inv.status = 'paid' AND inv.src = 1 AND inv.j %% 100 = 50
               AND i.issue_date + 12 <= %(today)s::date;
            ALTER TABLE cn ADD COLUMN id bigint, ADD COLUMN number int;
            UPDATE cn SET id = (SELECT max(id) FROM billing_invoice) + c;
            UPDATE cn SET number = x.rn + COALESCE(ic.last_number, 0)
              FROM (SELECT c, extract(year FROM issue_date)::int AS y,
                           row_number() OVER (PARTITION BY extract(year FROM issue_date)
                                              ORDER BY issue_date, c) AS rn FROM cn) x
              LEFT JOIN billing_invoicecounter ic ON ic.series = 'NC' AND ic.year = x.y
             WHERE cn.c = x.c;
            INSERT INTO billing_invoice (id, created_at, updated_at, kind, status, check_status,
                series, year, number, issue_date, due_date, currency, net_total, vat_total,
                gross_total, amount_paid, notes, issued_at, version, client_id, contract_id,
                created_by_id, credits_id, issued_by_id, order_id)
            SELECT id, %(now)s, %(now)s, 'credit_note', 'issued', 'unchecked', 'NC',
                   extract(year FROM issue_date), number, issue_date, issue_date, 'EUR',
                   0, 0, 0, 0, 'Reso di un''unità.', issue_date + time '18:00', 1, client_id,
                   contract_id, %(finance)s, credits_id, %(finance)s, order_id
              FROM cn;
            INSERT INTO billing_invoiceline (created_at, updated_at, description, quantity,
                unit_price, discount, vat_rate, vat_nature, net_amount, vat_amount, position,
                invoice_id, milestone_id, order_line_id, product_id)
            SELECT %(now)s, %(now)s, l.description, 1, l.unit_price, l.discount, l.vat_rate,
                   l.vat_nature, round(l.unit_price * (100 - l.discount) / 100, 2),
                   round(round(l.unit_price * (100 - l.discount) / 100, 2) * l.vat_rate / 100, 2),
                   1, cn.id, NULL, l.order_line_id, l.product_id
              FROM cn JOIN billing_invoiceline l ON l.id = cn.line_id;
            UPDATE billing_invoice i SET net_total = l.net_amount, vat_total = l.vat_amount,
                   gross_total = l.net_amount + l.vat_amount
              FROM cn JOIN billing_invoiceline l ON l.invoice_id = cn.id WHERE i.id = cn.id;
            UPDATE billing_payment p SET amount = o.gross_total - n.gross_total
              FROM cn JOIN billing_invoice o ON o.id = cn.credits_id
              JOIN billing_invoice n ON n.id = cn.id
             WHERE p.invoice_id = cn.credits_id;
            UPDATE billing_invoice o SET amount_paid = o.gross_total - n.gross_total
              FROM cn JOIN billing_invoice n ON n.id = cn.id WHERE o.id = cn.credits_id;
        """, {"finance": self.finance_id()})  # fmt: skip
        # Duplicates: a draft copy of each invoice with mistake 8, dated the next day.
        self.sql("duplicates", """
            CREATE TEMP TABLE dup ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY inv.id) + (SELECT max(id) FROM billing_invoice)
                   AS id, inv.id AS original_id
              FROM inv WHERE inv.err = 8;
            INSERT INTO billing_invoice (id, created_at, updated_at, kind, status, check_status,
                series, year, number, issue_date, due_date, currency, net_total, vat_total,
                gross_total, amount_paid, notes, issued_at, version, client_id, contract_id,
                created_by_id, credits_id, issued_by_id, order_id)
            SELECT dup.id, %(now)s, %(now)s, 'invoice', 'draft', 'unchecked', 'FV', NULL, NULL,
                   i.issue_date + 1, i.due_date + 1, 'EUR', i.net_total, i.vat_total,
                   i.gross_total, 0,
                   '[large: duplicate]', NULL, 1, i.client_id, i.contract_id, i.created_by_id,
                   NULL, NULL, i.order_id
              FROM dup JOIN billing_invoice i ON i.id = dup.original_id;
            INSERT INTO billing_invoiceline (created_at, updated_at, description, quantity,
                unit_price, discount, vat_rate, vat_nature, net_amount, vat_amount, position,
                invoice_id, milestone_id, order_line_id, product_id)
            SELECT %(now)s, %(now)s, l.description, l.quantity, l.unit_price, l.discount,
                   l.vat_rate, l.vat_nature, l.net_amount, l.vat_amount, l.position, dup.id,
                   l.milestone_id, l.order_line_id, l.product_id
              FROM dup JOIN billing_invoiceline l ON l.invoice_id = dup.original_id;
        """)  # fmt: skip

    def bump(self, table: str) -> None:
        """Move the table's identity past the ids given explicitly (rows inserted without one
        come next)."""
        self.cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608 - our names
            f" (SELECT COALESCE(max(id), 1) FROM {table}))"
        )

    def finish(self) -> None:
        self.sql("counters", """
            INSERT INTO billing_invoicecounter (series, year, last_number)
            SELECT series, year, max(number) FROM billing_invoice
             WHERE number IS NOT NULL GROUP BY series, year
            ON CONFLICT (series, year) DO UPDATE SET last_number = EXCLUDED.last_number
        """)  # fmt: skip
        for table in ("auth_user", "clients_team", "clients_team_members", "clients_client",
                      "clients_accountteammember", "orders_contract", "orders_contractprice",
                      "orders_order", "orders_orderline", "projects_project",
                      "projects_milestone", "billing_invoice", "billing_invoiceline",
                      "billing_payment", "auth_user_groups"):  # fmt: skip
            self.bump(table)
        verify(self.cursor)
        self.sql("analyze", "ANALYZE")


# What the triggers skipped would have refused: each query returns the offending rows' count.
VERIFY_SQL: dict[str, str] = {
    "gapless numbers": """
        SELECT count(*) FROM (SELECT series, year, count(*) AS n, max(number) AS last
                                FROM billing_invoice WHERE number IS NOT NULL
                               GROUP BY series, year) x
          LEFT JOIN billing_invoicecounter c USING (series, year)
         WHERE x.n <> x.last OR c.last_number IS DISTINCT FROM x.last""",
    "invoice references": """
        SELECT count(*) FROM billing_invoice i
          LEFT JOIN clients_client c ON c.id = i.client_id
          LEFT JOIN orders_order o ON o.id = i.order_id
          LEFT JOIN orders_contract k ON k.id = i.contract_id
          LEFT JOIN billing_invoice cr ON cr.id = i.credits_id
         WHERE c.id IS NULL OR (i.order_id IS NOT NULL AND o.id IS NULL)
            OR (i.contract_id IS NOT NULL AND k.id IS NULL)
            OR (i.credits_id IS NOT NULL AND cr.id IS NULL)""",
    "invoice line references": """
        SELECT count(*) FROM billing_invoiceline l
          LEFT JOIN billing_invoice i ON i.id = l.invoice_id
          LEFT JOIN orders_orderline ol ON ol.id = l.order_line_id
          LEFT JOIN projects_milestone m ON m.id = l.milestone_id
         WHERE i.id IS NULL OR (l.order_line_id IS NOT NULL AND ol.id IS NULL)
            OR (l.milestone_id IS NOT NULL AND m.id IS NULL)""",
    "order references": """
        SELECT count(*) FROM orders_orderline ol
          LEFT JOIN orders_order o ON o.id = ol.order_id
          LEFT JOIN orders_product p ON p.id = ol.product_id
         WHERE o.id IS NULL OR p.id IS NULL""",
    "client references": """
        SELECT count(*) FROM clients_client c
          LEFT JOIN clients_client p ON p.id = c.parent_id
          LEFT JOIN clients_team t ON t.id = c.team_id
         WHERE (c.parent_id IS NOT NULL AND p.id IS NULL) OR t.id IS NULL""",
    "paid amounts": """
        SELECT count(*) FROM billing_invoice i
          LEFT JOIN (SELECT invoice_id, sum(amount) AS paid FROM billing_payment
                      GROUP BY invoice_id) p ON p.invoice_id = i.id
         WHERE i.amount_paid <> COALESCE(p.paid, 0)""",
}


def verify(cursor) -> dict[str, int]:
    """Check what the skipped triggers would have guarded; raise (rolling back) on any miss."""
    problems = {}
    for name, query in VERIFY_SQL.items():
        cursor.execute(query)
        count = cursor.fetchone()[0]
        if count:
            problems[name] = count
    if problems:
        raise RuntimeError(f"the large book is inconsistent: {problems}")
    return problems
