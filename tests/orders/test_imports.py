"""Import of the catalogue and of contract prices: preview, apply in one transaction, rights."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from accounts_crm.access import Role
from accounts_crm.errors import NotAllowedError
from clients import imports, tasks
from clients.imports import ImportFileError
from clients.models import ImportJob
from orders.imports import parse_date, parse_decimal
from orders.models import Contract, ContractPrice, Product
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

PRODUCT_HEADER = ["sku", "name", "family", "kind", "unit", "list_price", "vat_rate", "vat_nature",
                  "active"]  # fmt: skip
PRICE_HEADER = ["contract_number", "sku", "valid_from", "valid_to", "unit_price"]
JAN, JUN, JUL, DEC = "2026-01-01", "2026-06-30", "2026-07-01", "2026-12-31"


def csv_file(
    header: list[str], rows: Iterable[list[str]], *, delimiter: str = ","
) -> SimpleUploadedFile:
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    return SimpleUploadedFile("catalogue.csv", ("\n".join(lines) + "\n").encode(), "text/csv")


def xlsx_file(sheets: dict[str, list[list[object]]]) -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("catalogue.xlsx", buffer.getvalue())


def check(by, file: SimpleUploadedFile, *, kind: str = "") -> ImportJob:
    """Upload and run the worker's check, as the task would."""
    with translation.override("en"):
        job = imports.import_job_create(by=by, file=file, kind=kind, group="orders")
    tasks.import_check.apply(args=[job.pk])
    job.refresh_from_db()
    return job


def apply(by, job: ImportJob) -> ImportJob:
    imports.import_job_apply_request(by=by, job=job)
    tasks.import_apply.apply(args=[job.pk])
    job.refresh_from_db()
    return job


def outcome(job: ImportJob) -> list[tuple[int, str]]:
    return [(row["line"], row["action"]) for row in job.rows]


def prices() -> list[tuple[str, str, Decimal, datetime.date, datetime.date | None]]:
    return list(
        ContractPrice.objects.order_by("contract__number", "product__sku", "valid_from")
        .values_list("contract__number", "product__sku", "unit_price", "valid_from", "valid_to")
    )  # fmt: skip


@pytest.fixture
def nam(account_staff):
    """A NAM with a contract of their own client."""
    client = ClientFactory(name="Mine")
    AccountTeamMemberFactory(client=client, user=account_staff, role="nam")
    ContractFactory(client=client, number="CTR-MINE")
    return account_staff


@pytest.fixture
def printer():
    return ProductFactory(sku="PRN-1", name="Printer", list_price=Decimal("500.00"))


# Values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1234.50", "1234.50"), ("1.234,50", "1234.50"), ("1234,5", "1234.5"),
     ("1,234.50", "1234.50"), ("€ 1 234,50", "1234.50"), ("1.234.567", "1234567"),
     ("0", "0"), ("99.9", "99.9")],
)  # fmt: skip
def test_it_reads_amounts_written_either_way(text: str, value: str) -> None:
    assert parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize("text", ["abc", "1,2,3", "NaN", "12e"])
def test_it_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("2026-01-31", datetime.date(2026, 1, 31)), ("31/01/2026", datetime.date(2026, 1, 31)),
     ("2026-01-31T00:00:00", datetime.date(2026, 1, 31)), ("1.2.2026", datetime.date(2026, 2, 1))],
)  # fmt: skip
def test_it_reads_dates_written_either_way(text: str, value: datetime.date) -> None:
    assert parse_date(text) == value


def test_it_refuses_an_impossible_date() -> None:
    with pytest.raises(ValidationError):
        parse_date("31/02/2026")


# Products ----------------------------------------------------------------------------------------


def test_it_imports_products_from_csv_and_updates_them_on_reimport(admin_user, printer) -> None:
    rows = [["PRN-1", "Printer XL", "Hardware", "product", "pz", "1.234,50", "22", "", "yes"],
            ["SRV-1", "Setup", "Services", "service", "h", "80", "0", "N3.1", "1"]]  # fmt: skip

    job = check(admin_user, csv_file(PRODUCT_HEADER, rows, delimiter=";"))

    assert job.status == ImportJob.Status.CHECKED
    assert outcome(job) == [(2, "update"), (3, "create")]
    assert Product.objects.count() == 1, "the check writes nothing"
    assert Product.objects.get().name == "Printer"

    job = apply(admin_user, job)

    assert job.status == ImportJob.Status.APPLIED
    printer.refresh_from_db()
    assert (printer.name, printer.list_price) == ("Printer XL", Decimal("1234.50"))
    setup = Product.objects.get(sku="SRV-1")
    assert (setup.kind, setup.unit, setup.vat_rate, setup.vat_nature, setup.is_active) == (
        "service", "h", Decimal("0"), "N3.1", True,
    )  # fmt: skip

    again = check(admin_user, csv_file(PRODUCT_HEADER, rows, delimiter=";"))
    assert outcome(again) == [(2, "unchanged"), (3, "unchanged")]
    rows[1][5], rows[1][8] = "85,00", "no"
    job = apply(admin_user, check(admin_user, csv_file(PRODUCT_HEADER, rows, delimiter=";")))
    assert outcome(job) == [(2, "unchanged"), (3, "update")]
    assert Product.objects.count() == 2
    setup.refresh_from_db()
    assert (setup.list_price, setup.is_active) == (Decimal("85.00"), False)


def test_product_rows_with_errors_are_shown_and_skipped(admin_user) -> None:
    rows = [["NEW-1", "Good", "Hardware", "product", "pz", "10", "22", "", ""],
            ["NEW-2", "Bad price", "Hardware", "product", "pz", "ten", "22", "", ""],
            ["NEW-3", "Zero VAT", "Hardware", "robot", "pz", "10", "0", "", ""],
            ["new-1", "Twice", "Hardware", "product", "pz", "10", "22", "", ""],
            ["NEW-4", "", "", "", "", "", "", "", ""]]  # fmt: skip

    job = apply(admin_user, check(admin_user, csv_file(PRODUCT_HEADER, rows)))

    assert outcome(job) == [(2, "create"), (3, "error"), (4, "error"), (5, "error"),
                            (6, "error")]  # fmt: skip
    errors = {row["line"]: " ".join(row["errors"]) for row in job.rows}
    assert "List price: ten is not a number." in errors[3]
    assert "Kind: robot is not one of" in errors[4]
    assert "on line 2 already" in errors[5]
    assert "Name: This field cannot be blank." in errors[6]
    assert list(Product.objects.values_list("sku", flat=True)) == ["NEW-1"]


def test_a_zero_vat_rate_without_a_nature_code_is_the_rows_error(admin_user) -> None:
    file = csv_file(PRODUCT_HEADER, [["Z-1", "Zero", "Hardware", "", "", "10", "0", "", ""]])

    job = check(admin_user, file)

    assert outcome(job) == [(2, "error")]
    assert job.rows[0]["errors"] == ["Give a VAT nature code exactly when the rate is 0."]


def test_only_an_admin_may_import_products(team_lead, nam, printer) -> None:
    file = csv_file(PRODUCT_HEADER, [["PRN-1", "Cheaper", "", "", "", "1", "", "", ""]])

    for person in (team_lead, nam):
        with translation.override("en"), pytest.raises(NotAllowedError, match="administrators"):
            imports.import_job_create(by=person, file=file, group="orders")
        file.seek(0)

    assert not ImportJob.objects.exists()
    assert Product.objects.get().name == "Printer"


# Contract prices ---------------------------------------------------------------------------------


def test_it_imports_contract_prices_and_updates_them_on_reimport(nam, printer) -> None:
    rows = [["CTR-MINE", "PRN-1", "01/01/2026", "30/06/2026", "450,00"],
            ["CTR-MINE", "PRN-1", JUL, "", "1.440,50"]]  # fmt: skip

    job = check(nam, csv_file(PRICE_HEADER, rows, delimiter=";"))

    assert outcome(job) == [(2, "create"), (3, "create")]
    assert not ContractPrice.objects.exists()
    job = apply(nam, job)
    assert job.status == ImportJob.Status.APPLIED
    assert prices() == [
        ("CTR-MINE", "PRN-1", Decimal("450.00"), datetime.date(2026, 1, 1),
         datetime.date(2026, 6, 30)),
        ("CTR-MINE", "PRN-1", Decimal("1440.50"), datetime.date(2026, 7, 1), None),
    ]  # fmt: skip

    rows[1][3:] = [DEC, "1440.50"]
    job = apply(nam, check(nam, csv_file(PRICE_HEADER, rows, delimiter=";")))

    assert outcome(job) == [(2, "unchanged"), (3, "update")]
    assert ContractPrice.objects.count() == 2
    assert prices()[1][3:] == (datetime.date(2026, 7, 1), datetime.date(2026, 12, 31))


def test_an_overlapping_period_is_the_rows_error(nam, printer) -> None:
    contract = ContractFactory(
        client=Contract.objects.get(number="CTR-MINE").client, number="CTR-2"
    )
    ContractPriceFactory(contract=contract, product=printer, valid_from=datetime.date(2026, 1, 1),
                         valid_to=datetime.date(2026, 6, 30))  # fmt: skip
    rows = [["CTR-2", "PRN-1", "2026-03-01", "", "400"],  # overlaps the stored one
            ["CTR-MINE", "PRN-1", JAN, JUN, "400"],
            ["CTR-MINE", "PRN-1", "2026-06-01", DEC, "390"],  # overlaps the row above
            ["CTR-MINE", "PRN-1", JUL, DEC, "380"],
            ["CTR-MINE", "PRN-1", "2026-09-01", "2026-08-01", "380"]]  # fmt: skip

    job = apply(nam, check(nam, csv_file(PRICE_HEADER, rows)))

    assert outcome(job) == [(2, "error"), (3, "create"), (4, "error"), (5, "create"),
                            (6, "error")]  # fmt: skip
    overlap = "This product already has an agreed price for part of this period."
    assert job.rows[0]["errors"] == [overlap]
    assert job.rows[2]["errors"] == [overlap]
    assert job.rows[4]["errors"] == ["A price cannot stop being valid before it starts."]
    assert ContractPrice.objects.count() == 3


def test_an_overlap_only_the_database_sees_is_the_rows_error_not_a_crash(nam, printer) -> None:
    # As when another transaction commits the conflicting period between full_clean and save.
    contract = Contract.objects.get(number="CTR-MINE")
    ContractPriceFactory(contract=contract, product=printer, valid_from=datetime.date(2026, 1, 1))
    rows = [["CTR-MINE", "PRN-1", "2026-05-01", "", "400"]]

    with mock.patch.object(ContractPrice, "validate_constraints", return_value=None):
        job = check(nam, csv_file(PRICE_HEADER, rows))

    assert outcome(job) == [(2, "error")]
    assert job.rows[0]["errors"] == [
        "This product already has an agreed price for part of this period."
    ]


def test_contract_price_rows_are_checked_against_the_persons_rights(nam, printer) -> None:
    worked_on = ClientFactory(name="Worked on")  # the NAM is its project manager: reads only
    AccountTeamMemberFactory(client=worked_on, user=nam, role="project_manager")
    ContractFactory(client=worked_on, number="CTR-PM")
    ContractFactory(number="CTR-HIDDEN")  # an account the NAM does not see
    rows = [["CTR-MINE", "PRN-1", JAN, "", "400"],
            ["CTR-PM", "PRN-1", JAN, "", "400"],
            ["CTR-HIDDEN", "PRN-1", JAN, "", "400"],
            ["CTR-NONE", "PRN-1", JAN, "", "400"],
            ["CTR-MINE", "NOPE", JAN, "", "400"]]  # fmt: skip

    job = apply(nam, check(nam, csv_file(PRICE_HEADER, rows)))

    assert outcome(job) == [(2, "create"), (3, "error"), (4, "error"), (5, "error"),
                            (6, "error")]  # fmt: skip
    errors = [row["errors"] for row in job.rows]
    assert errors[1] == ["Your role on this account does not allow this change."]
    # A contract the person does not see reads exactly like one that does not exist.
    assert errors[2] == ["Contract: there is no contract CTR-HIDDEN."]
    assert errors[3] == ["Contract: there is no contract CTR-NONE."]
    assert errors[4] == ["Product: there is no product with the SKU NOPE."]
    assert prices() == [("CTR-MINE", "PRN-1", Decimal("400.00"), datetime.date(2026, 1, 1), None)]


def test_an_unchanged_price_still_needs_the_right_to_manage_it(nam, printer) -> None:
    worked_on = ClientFactory(name="Worked on")
    AccountTeamMemberFactory(client=worked_on, user=nam, role="project_manager")
    contract = ContractFactory(client=worked_on, number="CTR-PM")
    ContractPriceFactory(contract=contract, product=printer, unit_price=Decimal("400.00"),
                         valid_from=datetime.date(2026, 1, 1))  # fmt: skip

    job = check(nam, csv_file(PRICE_HEADER, [["CTR-PM", "PRN-1", JAN, "", "400"]]))

    assert outcome(job) == [(2, "error")]


def test_it_imports_a_workbook_of_products_and_their_contract_prices(admin_user) -> None:
    ContractFactory(number="CTR-A")
    book = xlsx_file({
        "Contract prices": [PRICE_HEADER,
                            ["CTR-A", "LIC-1", datetime.date(2026, 1, 1), None, 1234.5]],
        "Prodotti": [PRODUCT_HEADER,
                     ["LIC-1", "Licence", "Software", "Software", "licence", 1500, 22, None, 1]],
        "Notes": [["anything"]],
    })  # fmt: skip

    job = check(admin_user, book)

    assert [(row["sheet"], row["kind"], row["action"]) for row in job.rows] == [
        ("Prodotti", "products", "create"),
        ("Contract prices", "contract_prices", "create"),
    ], "products run first, so the prices find the new ones"
    apply(admin_user, job)
    assert Product.objects.get().kind == "software"
    assert prices() == [("CTR-A", "LIC-1", Decimal("1234.50"), datetime.date(2026, 1, 1), None)]


def test_a_csv_is_recognized_from_its_columns(nam, printer) -> None:
    job = check(nam, csv_file(PRICE_HEADER, [["CTR-MINE", "PRN-1", JAN, "", "1"]]))

    assert job.rows[0]["kind"] == "contract_prices"


# Bad files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kind", "message"),
    [
        ("prices.pdf", b"%PDF", "", "neither"),
        ("prices.csv", b"", "", "empty"),
        ("prices.csv", b"contract_number,sku,unit_price\nC,S,1\n", "", "missing: valid_from"),
        ("prices.csv", b"sku,name\n", "", "no rows"),
        ("prices.xlsx", b"not a zip", "", "not a valid Excel"),
        ("prices.csv", b"sku,name\nA,B\n", "clients", "no import of this kind"),
    ],
)
def test_it_refuses_a_bad_file_and_stores_nothing(
    admin_user, name: str, content: bytes, kind: str, message: str
) -> None:
    with translation.override("en"), pytest.raises(ImportFileError, match=message):
        imports.import_job_create(
            by=admin_user, file=SimpleUploadedFile(name, content), kind=kind, group="orders"
        )
    assert not ImportJob.objects.exists()


def test_the_upload_page_shows_a_bad_file_error(client, login, nam) -> None:
    login(nam)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    file = SimpleUploadedFile("prices.csv", b"contract_number,sku\nCTR-MINE,PRN-1\n")

    response = client.post("/orders/imports/", {"file": file})

    assert response.status_code == 200
    assert "missing: valid_from, unit_price" in response.content.decode()
    assert not ImportJob.objects.exists()


# One transaction ---------------------------------------------------------------------------------


def test_a_row_changed_since_the_check_rolls_everything_back(nam, printer) -> None:
    other = ProductFactory(sku="PRN-2")
    rows = [["CTR-MINE", "PRN-1", JAN, "", "400"], ["CTR-MINE", "PRN-2", JAN, "", "90"]]
    job = check(nam, csv_file(PRICE_HEADER, rows))
    assert outcome(job) == [(2, "create"), (3, "create")]
    # Between the check and the apply, someone agrees a price for PRN-2 by hand.
    contract = Contract.objects.get(number="CTR-MINE")
    ContractPriceFactory(contract=contract, product=other, valid_from=datetime.date(2025, 12, 1))

    job = apply(nam, job)

    assert job.status == ImportJob.Status.CHECKED, "back to the preview, with the new error"
    assert "nothing was imported" in job.message
    assert outcome(job) == [(2, "create"), (3, "error")]
    assert prices() == [("CTR-MINE", "PRN-2", Decimal("80.00"), datetime.date(2025, 12, 1), None)]


def test_a_failure_mid_apply_writes_nothing(admin_user) -> None:
    rows = [["A-1", "A", "Hardware", "", "", "1", "", "", ""],
            ["A-2", "B", "Hardware", "", "", "2", "", "", ""]]  # fmt: skip
    job = check(admin_user, csv_file(PRODUCT_HEADER, rows))
    from orders import services

    real_save, calls = services.product_save, []

    def breaks_on_the_second(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_save(**kwargs)

    with mock.patch.object(services, "product_save", breaks_on_the_second):
        job = apply(admin_user, job)

    assert job.status == ImportJob.Status.FAILED
    assert not Product.objects.exists()


# Pages -------------------------------------------------------------------------------------------


def test_the_whole_flow_through_the_pages(
    client, login, nam, printer, django_capture_on_commit_callbacks
) -> None:
    login(nam)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    file = csv_file(PRICE_HEADER, [["CTR-MINE", "PRN-1", JAN, "", "400"],
                                   ["CTR-MINE", "PRN-1", JAN, "", "-1"]])  # fmt: skip

    with (
        mock.patch.object(tasks.import_check, "delay") as check_delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post("/orders/imports/", {"file": file, "kind": "contract_prices"})
    job = ImportJob.objects.get()
    assert (job.group, job.kind) == ("orders", "contract_prices")
    assert response.status_code == 302
    assert response.url == f"/orders/imports/{job.pk}/"
    check_delay.assert_called_once_with(job.pk)
    page = client.get(response.url).content.decode()
    assert f'hx-get="/orders/imports/{job.pk}/status/"' in page
    assert "0 of 2 rows" in page

    tasks.import_check.apply(args=[job.pk])
    html = client.get(f"/orders/imports/{job.pk}/status/", headers={"HX-Request": "true"})
    html = html.content.decode()
    assert "<html" not in html
    assert "Import 1 row" in html
    assert "Contract price" in html
    assert "on line 2 already" in html
    assert f'action="/orders/imports/{job.pk}/apply/"' in html

    with (
        mock.patch.object(tasks.import_apply, "delay") as apply_delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(f"/orders/imports/{job.pk}/apply/")
    apply_delay.assert_called_once_with(job.pk)
    tasks.import_apply.apply(args=[job.pk])
    html = client.get(f"/orders/imports/{job.pk}/").content.decode()
    assert "Imported: 1 new" in html
    assert ContractPrice.objects.get().unit_price == Decimal("400.00")


def test_the_upload_page_documents_the_orders_kinds_only(client, login, nam) -> None:
    ImportJob.objects.create(created_by=nam, file_name="clients.csv", language="en")
    ImportJob.objects.create(created_by=nam, file_name="prices.csv", language="en",
                             group="orders")  # fmt: skip
    login(nam)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get("/orders/imports/").content.decode()

    assert "Import the catalogue and contract prices" in page
    assert 'data-testid="layout-products"' in page
    assert 'data-testid="layout-contract_prices"' in page
    assert 'data-testid="layout-clients"' not in page
    assert 'href="/orders/imports/template/contract_prices.csv"' in page
    assert "prices.csv" in page
    assert "clients.csv" not in page, "each page lists its own group's imports"
    assert 'value="sites"' not in page


def test_the_template_csv_has_the_documented_columns(client, login, nam) -> None:
    login(nam)

    response = client.get("/orders/imports/template/contract_prices.csv")

    assert response.content.decode().strip().split(",") == PRICE_HEADER
    assert client.get("/orders/imports/template/clients.csv").status_code == 302


def test_the_job_page_runs_few_queries_however_many_rows(
    client, login, nam, django_assert_num_queries
) -> None:
    rows = [{"sheet": "", "line": n, "kind": "products", "label": f"P{n}", "action": "create",
             "errors": []} for n in range(2, 300)]  # fmt: skip
    job = ImportJob.objects.create(created_by=nam, file_name="f.csv", language="en", rows=rows,
                                   group="orders", status=ImportJob.Status.CHECKED)  # fmt: skip
    login(nam)

    # Session, user, the user's groups (role check), the job, the unread-notifications badge,
    # and the session's save (savepoint, update, release); none per row.
    with django_assert_num_queries(8):
        response = client.get(f"/orders/imports/{job.pk}/")
    assert response.content.decode().count('data-action="create"') == 298


# Access matrix -----------------------------------------------------------------------------------

PAGES = [("get", "/orders/imports/"), ("get", "/orders/imports/{pk}/"),
         ("get", "/orders/imports/{pk}/status/"), ("post", "/orders/imports/{pk}/apply/"),
         ("get", "/orders/imports/template/products.csv")]  # fmt: skip


@pytest.fixture
def orders_job(nam) -> ImportJob:
    return ImportJob.objects.create(created_by=nam, file_name="p.csv", language="en",
                                    group="orders", status=ImportJob.Status.CHECKED)  # fmt: skip


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_people_are_sent_to_log_in(client, orders_job, method: str, url: str) -> None:
    response = getattr(client, method)(url.format(pk=orders_job.pk))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_finance_may_not_use_the_pages(client, login, finance, orders_job, method, url) -> None:
    login(finance)
    assert getattr(client, method)(url.format(pk=orders_job.pk)).status_code == 403


def test_finance_may_not_import(finance) -> None:
    with pytest.raises(NotAllowedError):
        imports.import_job_create(
            by=finance, file=csv_file(PRICE_HEADER, [["C", "S", JAN, "", "1"]]), group="orders"
        )


@pytest.mark.parametrize("role", [Role.TEAM_LEAD, Role.ACCOUNT_STAFF, Role.ADMIN])
def test_someone_elses_job_answers_404(client, login, make_user, orders_job, role) -> None:
    login(make_user(role))
    for method, url in PAGES[1:4]:
        assert getattr(client, method)(url.format(pk=orders_job.pk)).status_code == 404


def test_a_job_is_found_only_on_its_own_groups_pages(client, login, nam, orders_job) -> None:
    clients_job = ImportJob.objects.create(created_by=nam, file_name="c.csv", language="en",
                                           status=ImportJob.Status.CHECKED)  # fmt: skip
    login(nam)

    assert client.get(f"/orders/imports/{orders_job.pk}/").status_code == 200
    assert client.get(f"/clients/import/{clients_job.pk}/").status_code == 200
    assert client.get(f"/orders/imports/{clients_job.pk}/").status_code == 404
    assert client.get(f"/clients/import/{orders_job.pk}/").status_code == 404
    assert client.post(f"/clients/import/{orders_job.pk}/apply/").status_code == 404
    orders_job.refresh_from_db()
    assert orders_job.status == ImportJob.Status.CHECKED


def test_the_job_constraints_refuse_unknown_groups_and_kinds(nam) -> None:
    from django.db import IntegrityError, transaction

    for fields in ({"group": "billing"}, {"kind": "invoices"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ImportJob.objects.create(created_by=nam, file_name="x.csv", language="en", **fields)
