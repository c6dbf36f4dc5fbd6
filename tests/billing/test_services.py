"""billing/services.py: drafts from orders and milestones, editing, issuing, credit notes,
payments, findings; immutability and optimistic locking."""

from __future__ import annotations

import datetime
import importlib.util
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from pghistory.models import Events

from accounts_crm.access import Role
from accounts_crm.errors import ConcurrentEditError, NotAllowedError
from billing import services, tasks
from billing.errors import (
    CreditNoteError,
    FindingError,
    InvoiceError,
    InvoiceImmutableError,
    InvoiceNotIssuableError,
    NothingToInvoiceError,
    PaymentError,
)
from billing.models import CheckFinding, Invoice, InvoiceLine
from billing.selectors import uninvoiced_quantities
from billing.services import CreditLine
from tests.billing.conftest import Book
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    MilestoneFactory,
    ProductFactory,
    ProjectFactory,
)

D = Decimal
ISSUE_DAY = datetime.date(2026, 7, 1)


def issued_from_order(book: Book, finance: User) -> Invoice:
    draft = services.invoice_from_order(by=finance, order=book.order)
    return services.invoice_issue(by=finance, invoice=draft, issue_date=ISSUE_DAY)


# From an order -------------------------------------------------------------------------------


def test_it_invoices_an_order_at_its_prices_by_the_rounding_rule(
    book: Book, finance: User, sent_checks: list, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.invoice_from_order(by=finance, order=book.order)
    lines = list(invoice.lines.order_by("position"))
    assert [(x.order_line_id, x.quantity, x.net_amount, x.vat_amount) for x in lines] == [
        (book.line_a.pk, D("10"), D("800.00"), D("176.00")),
        (book.line_b.pk, D("3"), D("89.99"), D("19.80")),  # 89.991 -> 89.99, 19.7978 -> 19.80
    ]
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        D("889.99"), D("195.80"), D("1085.79"),
    )  # fmt: skip
    assert (invoice.status, invoice.number, invoice.series) == ("draft", None, "FV")
    assert (invoice.client, invoice.order, invoice.contract) == (
        book.client, book.order, book.contract,
    )  # fmt: skip
    assert sent_checks == [[invoice.pk]]


def test_it_invoices_only_what_is_left(book: Book, finance: User) -> None:
    first = services.invoice_from_order(by=finance, order=book.order)
    with pytest.raises(NothingToInvoiceError, match="already invoiced"):
        services.invoice_from_order(by=finance, order=book.order)
    line = first.lines.get(order_line=book.line_a)
    line.quantity = D("4")
    services.invoice_line_save(by=finance, line=line)
    second = services.invoice_from_order(by=finance, order=book.order)
    assert list(second.lines.values_list("order_line", "quantity")) == [(book.line_a.pk, D("6"))]


def test_a_cancelled_invoice_gives_its_quantities_back(book: Book, finance: User) -> None:
    invoice = issued_from_order(book, finance)
    note = services.credit_note_create(by=finance, invoice=invoice)
    assert uninvoiced_quantities(order=book.order) == {book.line_a.pk: 0, book.line_b.pk: 0}
    services.invoice_issue(by=finance, invoice=note, issue_date=ISSUE_DAY)
    assert uninvoiced_quantities(order=book.order) == {
        book.line_a.pk: D("10"), book.line_b.pk: D("3"),
    }  # fmt: skip


def test_it_refuses_a_cancelled_order(book: Book, finance: User) -> None:
    book.order.status = "cancelled"
    book.order.save()
    with pytest.raises(InvoiceError, match="cancelled"):
        services.invoice_from_order(by=finance, order=book.order)
    assert not Invoice.objects.exists()


def test_an_unconfirmed_order_is_invoiced_and_left_to_the_checks(book: Book, finance: User) -> None:
    book.order.status = "submitted"
    book.order.save()
    assert services.invoice_from_order(by=finance, order=book.order).lines.count() == 2


@pytest.mark.parametrize("who", ["nam", "lead"])
def test_only_finance_creates_invoices(book: Book, who: str) -> None:
    with pytest.raises(NotAllowedError):
        services.invoice_from_order(by=getattr(book, who), order=book.order)
    assert not Invoice.objects.exists()


def test_admin_creates_invoices(book: Book, admin_user: User) -> None:
    assert services.invoice_from_order(by=admin_user, order=book.order).pk


# From milestones -----------------------------------------------------------------------------


def test_it_invoices_completed_billable_milestones_once(finance: User) -> None:
    project = ProjectFactory()
    done = MilestoneFactory(project=project, completed_on=datetime.date(2026, 5, 2))
    MilestoneFactory(project=project)  # open
    MilestoneFactory(project=project, completed_on=datetime.date(2026, 5, 2),
                     billable_amount=D("0"))  # fmt: skip
    invoice = services.invoice_from_milestones(by=finance, project=project)
    assert list(invoice.lines.values_list("milestone", "quantity", "net_amount")) == [
        (done.pk, D("1"), D("5000.00"))
    ]
    assert (invoice.client, invoice.gross_total) == (project.client, D("6100.00"))
    with pytest.raises(NothingToInvoiceError):
        services.invoice_from_milestones(by=finance, project=project)


def test_it_refuses_a_chosen_milestone_that_is_not_completed(finance: User) -> None:
    project = ProjectFactory()
    done = MilestoneFactory(project=project, completed_on=datetime.date(2026, 5, 2))
    open_one = MilestoneFactory(project=project, name="Go-live")
    with pytest.raises(InvoiceError, match="Go-live cannot be invoiced"):
        services.invoice_from_milestones(by=finance, milestones=[done, open_one])
    assert not Invoice.objects.exists()
    other = MilestoneFactory(completed_on=datetime.date(2026, 5, 2))
    with pytest.raises(InvoiceError, match="one project"):
        services.invoice_from_milestones(by=finance, milestones=[done, other])


# Editing drafts ------------------------------------------------------------------------------


def test_line_changes_recompute_totals_and_bump_the_version(book: Book, finance: User) -> None:
    invoice = services.invoice_from_order(by=finance, order=book.order)
    version = invoice.version
    product = ProductFactory(vat_rate=D("0"), vat_nature="N3.1")
    line = services.invoice_line_save(
        by=finance,
        line=InvoiceLine(invoice=invoice, product=product, quantity=D("0.5"),
                         unit_price=D("40.01")),
        version=version,
    )  # fmt: skip
    assert (line.vat_rate, line.vat_nature, line.net_amount) == (D("0"), "N3.1", D("20.01"))
    invoice.refresh_from_db()
    assert (invoice.net_total, invoice.gross_total) == (D("910.00"), D("1105.80"))
    assert invoice.version == version + 1
    services.invoice_line_delete(by=finance, line=line, version=invoice.version)
    invoice.refresh_from_db()
    assert (invoice.net_total, invoice.version) == (D("889.99"), version + 2)


def test_a_bad_line_is_refused_and_changes_nothing(book: Book, finance: User) -> None:
    invoice = services.invoice_from_order(by=finance, order=book.order)
    with pytest.raises(ValidationError, match="VAT nature"):
        services.invoice_line_save(
            by=finance,
            line=InvoiceLine(invoice=invoice, description="Free", quantity=D("1"),
                             unit_price=D("5"), vat_rate=D("0")),
        )  # fmt: skip
    assert invoice.lines.count() == 2
    assert Invoice.objects.get(pk=invoice.pk).version == invoice.version


def test_a_stale_version_is_refused(book: Book, finance: User) -> None:
    invoice = services.invoice_from_order(by=finance, order=book.order)
    invoice.notes = "Mine"
    services.invoice_update(by=finance, invoice=invoice, version=invoice.version)
    stale = Invoice.objects.get(pk=invoice.pk)
    stale.notes = "Theirs"
    with pytest.raises(ConcurrentEditError):
        services.invoice_update(by=finance, invoice=stale, version=stale.version - 1)
    assert Invoice.objects.get(pk=invoice.pk).notes == "Mine"


def test_the_header_update_does_not_touch_totals_or_status(book: Book, finance: User) -> None:
    invoice = services.invoice_from_order(by=finance, order=book.order)
    invoice.gross_total = D("1.00")
    invoice.status = "paid"
    invoice.due_date = datetime.date(2026, 9, 30)
    services.invoice_update(by=finance, invoice=invoice, version=invoice.version)
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.gross_total, stored.status, stored.due_date) == (
        D("1085.79"), "draft", datetime.date(2026, 9, 30),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_one_version_of_a_draft_get_one_success_and_one_refusal(
    sent_checks: list,
) -> None:
    book = Book()
    finance = User.objects.create(username="fin1")
    finance2 = User.objects.create(username="fin2")
    group, _ = Group.objects.get_or_create(name=Role.FINANCE)
    group.user_set.add(finance, finance2)
    invoice = services.invoice_from_order(by=finance, order=book.order)
    version = invoice.version
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(person: User, text: str) -> None:
        try:
            start.wait()
            line = InvoiceLine(invoice=Invoice.objects.get(pk=invoice.pk), description=text,
                               quantity=D("1"), unit_price=D("10"), vat_rate=D("22"))  # fmt: skip
            services.invoice_line_save(by=person, line=line, version=version)
            outcomes[person.username] = "saved"
        except ConcurrentEditError as error:
            outcomes[person.username] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(p, p.username)) for p in (finance, finance2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ for o in outcomes.values()) == ["ConcurrentEditError", "str"]
    winner = next(name for name, o in outcomes.items() if o == "saved")
    invoice.refresh_from_db()
    assert invoice.lines.filter(order_line__isnull=True).get().description == winner
    assert invoice.version == version + 1
    assert invoice.net_total == D("899.99")


# Issuing -------------------------------------------------------------------------------------


def test_issuing_numbers_dates_and_freezes_the_invoice(book: Book, finance: User) -> None:
    invoice = issued_from_order(book, finance)
    assert (invoice.status, invoice.series, invoice.year, invoice.number) == (
        "issued", "FV", 2026, 1,
    )  # fmt: skip
    assert invoice.issue_date == ISSUE_DAY
    assert invoice.due_date == ISSUE_DAY + datetime.timedelta(days=45)  # the contract's terms
    assert (invoice.issued_by, invoice.display_number) == (finance, "FV-2026/00001")
    milestone = MilestoneFactory(project__client=book.client, completed_on=ISSUE_DAY)
    second = services.invoice_from_milestones(by=finance, project=milestone.project)
    assert services.invoice_issue(by=finance, invoice=second, issue_date=ISSUE_DAY).number == 2

    line = invoice.lines.first()
    line.quantity = D("1")
    with pytest.raises(InvoiceImmutableError):
        services.invoice_line_save(by=finance, line=line)
    with pytest.raises(InvoiceImmutableError):
        services.invoice_line_delete(by=finance, line=line)
    invoice.notes = "changed"
    with pytest.raises(InvoiceImmutableError):
        services.invoice_update(by=finance, invoice=invoice, version=invoice.version)
    with pytest.raises(InvoiceImmutableError):
        services.invoice_delete(by=finance, invoice=invoice)
    with pytest.raises(InvoiceImmutableError):
        services.invoice_issue(by=finance, invoice=invoice)


def test_without_a_contract_an_invoice_is_due_in_thirty_days(finance: User) -> None:
    project = ProjectFactory()
    MilestoneFactory(project=project, completed_on=ISSUE_DAY)
    draft = services.invoice_from_milestones(by=finance, project=project)
    invoice = services.invoice_issue(by=finance, invoice=draft, issue_date=ISSUE_DAY)
    assert invoice.due_date == datetime.date(2026, 7, 31)


def test_a_draft_with_its_own_due_date_keeps_it_and_a_bad_one_is_refused(
    book: Book, finance: User
) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)
    draft.due_date = datetime.date(2026, 6, 1)
    services.invoice_update(by=finance, invoice=draft, version=draft.version)
    with pytest.raises(InvoiceNotIssuableError, match="before the issue date"):
        services.invoice_issue(by=finance, invoice=draft, issue_date=ISSUE_DAY)
    assert Invoice.objects.get(pk=draft.pk).number is None
    issued = services.invoice_issue(by=finance, invoice=draft, issue_date=datetime.date(2026, 5, 1))
    assert issued.due_date == datetime.date(2026, 6, 1)


def test_open_error_findings_block_issuing_warnings_and_overrides_do_not(
    book: Book, finance: User
) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)
    error = CheckFindingFactory(invoice=draft, severity="error")
    CheckFindingFactory(invoice=draft, severity="warning")
    with pytest.raises(InvoiceNotIssuableError, match="open error findings"):
        services.invoice_issue(by=finance, invoice=draft)
    assert Invoice.objects.get(pk=draft.pk).status == "draft"
    services.finding_override(by=finance, finding=error, reason="Price agreed by e-mail")
    assert services.invoice_issue(by=finance, invoice=draft).status == "issued"


def test_an_empty_draft_cannot_be_issued(finance: User) -> None:
    draft = services.invoice_create(by=finance, invoice=Invoice(client=ClientFactory()))
    with pytest.raises(InvoiceNotIssuableError, match="at least one line"):
        services.invoice_issue(by=finance, invoice=draft)


def test_a_rolled_back_issue_gives_its_number_back(book: Book, finance: User) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)

    def issue_then_fail() -> None:
        with transaction.atomic():
            services.invoice_issue(by=finance, invoice=draft, issue_date=ISSUE_DAY)
            raise RuntimeError("the mail server fell over")

    with pytest.raises(RuntimeError):
        issue_then_fail()
    assert Invoice.objects.get(pk=draft.pk).number is None
    assert services.invoice_issue(by=finance, invoice=draft, issue_date=ISSUE_DAY).number == 1


def test_only_finance_issues(book: Book, finance: User) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)
    with pytest.raises(NotAllowedError):
        services.invoice_issue(by=book.nam, invoice=draft)


# Credit notes --------------------------------------------------------------------------------


def test_a_full_credit_note_cancels_the_invoice(book: Book, finance: User) -> None:
    invoice = issued_from_order(book, finance)
    note = services.credit_note_create(by=finance, invoice=invoice, notes="Wrong client")
    assert (note.kind, note.series, note.credits, note.gross_total) == (
        "credit_note", "NC", invoice, invoice.gross_total,
    )  # fmt: skip
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"  # a draft credits nothing
    issued = services.invoice_issue(by=finance, invoice=note, issue_date=ISSUE_DAY)
    assert (issued.number, issued.display_number, issued.due_date) == (
        1, "NC-2026/00001", ISSUE_DAY,
    )  # fmt: skip
    assert Invoice.objects.get(pk=invoice.pk).status == "cancelled"
    with pytest.raises(CreditNoteError, match="Only an issued invoice"):
        services.credit_note_create(by=finance, invoice=invoice)


def test_a_partial_credit_note_reduces_what_is_owed(book: Book, finance: User) -> None:
    invoice = issued_from_order(book, finance)
    line_a = invoice.lines.get(order_line=book.line_a)
    note = services.credit_note_create(
        by=finance, invoice=invoice, lines=[CreditLine(line_a, quantity=D("2"))]
    )
    services.invoice_issue(by=finance, invoice=note, issue_date=ISSUE_DAY)
    assert note.gross_total == D("195.20")
    assert uninvoiced_quantities(order=book.order)[book.line_a.pk] == D("2")
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"
    with pytest.raises(PaymentError, match=r"890\.59"):
        services.payment_record(by=finance, invoice=invoice, amount=D("1000"), paid_on=ISSUE_DAY)
    services.payment_record(by=finance, invoice=invoice, amount=D("890.59"), paid_on=ISSUE_DAY)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_a_credit_note_cannot_credit_more_than_is_left(book: Book, finance: User) -> None:
    invoice = issued_from_order(book, finance)
    line_a = invoice.lines.get(order_line=book.line_a)
    with pytest.raises(CreditNoteError, match="between 0 and 10"):
        services.credit_note_create(
            by=finance, invoice=invoice, lines=[CreditLine(line_a, quantity=D("11"))]
        )
    with pytest.raises(CreditNoteError, match=r"at most 80\.00"):
        services.credit_note_create(
            by=finance, invoice=invoice, lines=[CreditLine(line_a, unit_price=D("81"))]
        )
    first = services.credit_note_create(by=finance, invoice=invoice)
    second = services.credit_note_create(by=finance, invoice=invoice)
    services.invoice_issue(by=finance, invoice=first, issue_date=ISSUE_DAY)
    with pytest.raises(CreditNoteError):
        services.invoice_issue(by=finance, invoice=second, issue_date=ISSUE_DAY)
    assert Invoice.objects.get(pk=second.pk).number is None


def test_a_draft_cannot_be_credited(book: Book, finance: User) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)
    with pytest.raises(CreditNoteError, match="draft"):
        services.credit_note_create(by=finance, invoice=draft)


# Payments ------------------------------------------------------------------------------------


def test_payments_move_the_status(book: Book, finance: User) -> None:
    invoice = issued_from_order(book, finance)
    first = services.payment_record(
        by=finance, invoice=invoice, amount=D("500.00"), paid_on=ISSUE_DAY, reference="CRO 1"
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("partially_paid", D("500.00"))
    with pytest.raises(PaymentError, match=r"more than the 585\.79 still owed"):
        services.payment_record(by=finance, invoice=invoice, amount=D("585.80"), paid_on=ISSUE_DAY)
    services.payment_record(by=finance, invoice=invoice, amount=D("585.79"), paid_on=ISSUE_DAY)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", D("1085.79"))
    with pytest.raises(PaymentError, match="paid"):
        services.payment_record(by=finance, invoice=invoice, amount=D("1"), paid_on=ISSUE_DAY)
    services.payment_delete(by=finance, payment=first)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("partially_paid", D("585.79"))
    services.payment_delete(by=finance, payment=invoice.payments.get())
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"


def test_payments_are_refused_on_drafts_and_bad_amounts(book: Book, finance: User) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)
    with pytest.raises(PaymentError, match="draft"):
        services.payment_record(by=finance, invoice=draft, amount=D("1"), paid_on=ISSUE_DAY)
    invoice = services.invoice_issue(by=finance, invoice=draft)
    with pytest.raises(PaymentError, match="positive"):
        services.payment_record(by=finance, invoice=invoice, amount=D("0"), paid_on=ISSUE_DAY)
    with pytest.raises(NotAllowedError):
        services.payment_record(by=book.nam, invoice=invoice, amount=D("1"), paid_on=ISSUE_DAY)
    assert not invoice.payments.exists()


# Findings ------------------------------------------------------------------------------------


def test_finance_overrides_a_finding_with_a_reason(book: Book, finance: User) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)
    finding = CheckFindingFactory(invoice=draft)
    with pytest.raises(FindingError, match="reason"):
        services.finding_override(by=finance, finding=finding, reason="   ")
    with pytest.raises(NotAllowedError):
        services.finding_override(by=book.nam, finding=finding, reason="I say so")
    assert CheckFinding.objects.get(pk=finding.pk).status == "open"
    overridden = services.finding_override(by=finance, finding=finding, reason=" Agreed ")
    assert (overridden.status, overridden.override_reason, overridden.overridden_by) == (
        "overridden", "Agreed", finance,
    )  # fmt: skip
    assert Invoice.objects.get(pk=draft.pk).check_status == "approved"
    events = Events.objects.tracks(overridden).filter(pgh_label="update")
    assert events.get().pgh_diff["override_reason"] == ["", "Agreed"]
    with pytest.raises(FindingError, match="Only an open finding"):
        services.finding_override(by=finance, finding=finding, reason="again")


def test_check_status_follows_the_findings(book: Book, finance: User) -> None:
    draft = services.invoice_from_order(by=finance, order=book.order)
    other = services.invoice_create(by=finance, invoice=Invoice(client=book.client))
    CheckFindingFactory(invoice=draft)
    services.invoice_refresh_check_status([draft.pk, other.pk])
    assert Invoice.objects.get(pk=draft.pk).check_status == "flagged"
    assert Invoice.objects.get(pk=other.pk).check_status == "clean"
    CheckFinding.objects.filter(invoice=draft).update(status="resolved", resolved_at=timezone.now())
    services.invoice_refresh_check_status([draft.pk])
    assert Invoice.objects.get(pk=draft.pk).check_status == "clean"


@pytest.mark.parametrize("who", ["nam", "lead", "finance"])
def test_nam_lead_and_finance_comment_on_findings(book: Book, finance: User, who: str) -> None:
    finding = CheckFindingFactory(invoice__client=book.client)
    person = finance if who == "finance" else getattr(book, who)
    comment = services.finding_comment(by=person, finding=finding, text=" Checking with PO ")
    assert (comment.author, comment.text) == (person, "Checking with PO")


def test_others_on_the_account_do_not_comment(book: Book) -> None:
    finding = CheckFindingFactory(invoice__client=book.client)
    manager = AccountTeamMemberFactory(client=book.client, role="project_manager").user
    with pytest.raises(NotAllowedError):
        services.finding_comment(by=manager, finding=finding, text="Hm")
    with pytest.raises(FindingError, match="Write a comment"):
        services.finding_comment(by=book.nam, finding=finding, text=" ")
    assert not finding.comments.exists()


# The check task ------------------------------------------------------------------------------


def test_the_check_task_fails_loudly_without_the_rules_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if importlib.util.find_spec("billing.checks") is None:
        with pytest.raises(ModuleNotFoundError):
            tasks.invoice_check.run([1])
    else:
        import billing.checks

        seen: list = []
        monkeypatch.setattr(billing.checks, "check_invoices", lambda ids: seen.append(ids))
        tasks.invoice_check.run([1, 2])
        assert seen == [[1, 2]]
