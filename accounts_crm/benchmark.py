"""The invoice-check benchmark (`manage.py benchmark`): how close the checks run to the database's
own speed on the current book (made for the large one: `seed_demo --scale large`).

It times, on the open book (drafts and issued invoices not fully paid, billing.checks'
`open_book_ids()`):

- the nightly check (`check_open_book()`), twice: the first run on a book that may have no
  findings yet (inserts them), the second the steady state of a real night (upserts the same);
- a single-invoice check (`check_invoices([id])`, what runs on every change), the median of N
  invoices spread over the open book;
- each rule's core query alone (`rule.query(ids)` of billing/checks.py, executed and fetched):
  what the database needs for the rule, without upserts, resolution, check status or
  notifications.

and reports nightly / (sum of the rules alone), with the goals of issue 6: nightly within 3x of
its rules' queries, single-invoice check under 50 ms.

Everything runs in one transaction that is rolled back at the end unless `keep=True`, so a
benchmark leaves the book as it found it (findings, check statuses, notifications).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction

NIGHTLY_GOAL_RATIO = 3.0
SINGLE_GOAL_SECONDS = 0.050


@dataclass
class Timing:
    label: str
    seconds: float
    rows: int | None = None


@dataclass
class Result:
    database: str
    open_invoices: int
    all_invoices: int
    nightly: list[Timing] = field(default_factory=list)
    single: list[float] = field(default_factory=list)
    rules: list[Timing] = field(default_factory=list)

    @property
    def rules_total(self) -> float:
        return sum(t.seconds for t in self.rules)

    @property
    def nightly_steady(self) -> float:
        return self.nightly[-1].seconds

    @property
    def ratio(self) -> float:
        return self.nightly_steady / self.rules_total if self.rules_total else float("inf")

    @property
    def single_median(self) -> float:
        return statistics.median(self.single) if self.single else float("nan")

    def lines(self) -> list[str]:
        out = [
            f"Invoice-check benchmark on database {self.database!r}: "
            f"{self.open_invoices} open invoices (drafts and issued not fully paid) "
            f"of {self.all_invoices}.",
            "",
            f"{'what':<52} {'seconds':>10} {'rows':>9}",
        ]
        for timing in self.nightly:
            out.append(_row(timing))
        median = f"single-invoice check (median of {len(self.single)})"
        out.append(_row(Timing(median, self.single_median)))
        if self.single:
            out.append(_row(Timing("single-invoice check (slowest)", max(self.single))))
        for timing in self.rules:
            out.append(_row(timing))
        out.append(_row(Timing("rules alone, total", self.rules_total)))
        ratio_met = "met" if self.ratio <= NIGHTLY_GOAL_RATIO else "NOT met"
        out += [
            "",
            f"ratio nightly (second run) / rules alone: {self.ratio:.2f}x "
            f"(goal <= {NIGHTLY_GOAL_RATIO:g}x: {ratio_met})",
            f"single-invoice check median: {self.single_median * 1000:.1f} ms "
            f"(goal < {SINGLE_GOAL_SECONDS * 1000:g} ms: "
            f"{'met' if self.single_median < SINGLE_GOAL_SECONDS else 'NOT met'})",
        ]
        return out


def _row(timing: Timing) -> str:
    rows = "" if timing.rows is None else str(timing.rows)
    return f"{timing.label:<52} {timing.seconds:>10.3f} {rows:>9}"


def _timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


class _Rollback(Exception):
    pass


def run(
    *, single: int = 20, keep: bool = False, log: Callable[[str], None] | None = None
) -> Result:
    """Run the benchmark (see the module doc); `single` invoices for the single-invoice median."""
    result: Result | None = None
    try:
        with transaction.atomic():
            result = _run(single=single, log=log)
            if not keep:
                raise _Rollback
    except _Rollback:
        pass
    assert result is not None
    return result


def _run(*, single: int, log: Callable[[str], None] | None) -> Result:
    from billing import checks
    from billing.models import Invoice

    say = log or (lambda _text: None)
    ids = checks.open_book_ids()
    result = Result(
        database=connection.settings_dict["NAME"],
        open_invoices=len(ids),
        all_invoices=Invoice.objects.count(),
    )
    for label in ("nightly check, first run", "nightly check, second run (steady)"):
        say(f"{label} ...")
        seconds, outcome = _timed(checks.check_open_book)
        result.nightly.append(Timing(label, seconds, outcome.get("findings")))
    if ids and single:
        step = max(1, len(ids) // single)
        for pk in ids[::step][:single]:
            seconds, _ = _timed(lambda pk=pk: checks.check_invoices([pk]))
            result.single.append(seconds)
    say("rules alone ...")
    with connection.cursor() as cursor:
        for code, rule in checks.RULES.items():
            try:
                sql, params = rule.query(ids)
            except NotImplementedError:
                # A rule computed in Python (the SdI checks build the e-invoice documents):
                # its own run alone is the figure to compare with.
                seconds, found = _timed(lambda rule=rule: rule.rows(ids))
                result.rules.append(Timing(f"rule {code} alone (in Python)", seconds, len(found)))
                continue

            def execute(sql: str = sql, params: dict = params) -> int:
                cursor.execute(sql, params)
                return len(cursor.fetchall())

            seconds, rows = _timed(execute)
            result.rules.append(Timing(f"rule {code} alone", seconds, rows))
    return result
