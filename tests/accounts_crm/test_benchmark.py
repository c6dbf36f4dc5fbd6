"""The benchmark command on a small book: the table has every part, and it leaves the book as
it found it."""

import re

import pytest
from django.core.management import call_command

from accounts_crm import demo_large
from billing import checks
from billing.models import CheckFinding, Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_book() -> None:
    demo_large.seed_large(factor=0.001)


def test_it_prints_every_timing_and_the_ratios(
    small_book: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("benchmark", "--single", "3")
    out = capsys.readouterr().out
    open_count = len(checks.open_book_ids())
    assert f"{open_count} open invoices" in out
    number = r"\s+\d+\.\d{3}"
    assert re.search(r"nightly check, first run" + number + r"\s+\d+", out)
    assert re.search(r"nightly check, second run \(steady\)" + number + r"\s+\d+", out)
    assert re.search(r"single-invoice check \(median of 3\)" + number, out)
    for code in checks.RULES:
        assert re.search(rf"rule {code} alone( \(in Python\))?" + number + r"\s+\d+", out), code
    assert re.search(r"rules alone, total" + number, out)
    assert re.search(r"ratio nightly \(second run\) / rules alone: \d+\.\d\dx \(goal <= 3x: ", out)
    assert re.search(r"single-invoice check median: \d+\.\d ms \(goal < 50 ms: ", out)


def test_it_leaves_the_book_as_it_was(small_book: None) -> None:
    statuses = dict(Invoice.objects.values_list("pk", "check_status"))
    call_command("benchmark", "--single", "2")
    assert not CheckFinding.objects.exists()
    assert dict(Invoice.objects.values_list("pk", "check_status")) == statuses


def test_it_keeps_the_findings_when_asked(small_book: None) -> None:
    call_command("benchmark", "--single", "1", "--keep")
    assert CheckFinding.objects.filter(status="open").exists()


PAGES = (
    "finance dashboard", "team lead dashboard", "NAM home", "client list", "client page",
    "order list", "invoice list", "review queue",
)  # fmt: skip
DASHBOARDS = ("finance dashboard", "team lead dashboard", "NAM home")


def test_it_times_every_page_and_each_dashboards_core_query_and_keeps_nothing(
    small_book: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.contrib.sessions.models import Session

    call_command("benchmark", "--only", "pages", "--repeat", "2")
    assert not Session.objects.exists()  # the sign-ins were rolled back
    out = capsys.readouterr().out
    assert "nightly check" not in out
    ms = r"\s+\d+\.\d"
    for label in PAGES:
        # page, who asked, median, p95, queries, SQL alone (a dashboard also: core query, ratio)
        row = rf"^{label}\s+\S+{ms}{ms}\s+\d+{ms}"
        if label in DASHBOARDS:
            row += rf"{ms}\s+\d+\.\d\dx$"
        assert re.search(row, out, re.MULTILINE), label
    assert re.search(r"every page's median under 300 ms: (met|NOT met)", out)
    assert re.search(r"dashboards within 3x of their core query: (met|NOT met)", out)
    assert "core query of team lead dashboard: revenue by month per account" in out


def test_it_refuses_a_repeat_below_one() -> None:
    with pytest.raises(SystemExit):
        call_command("benchmark", "--repeat", "0")
