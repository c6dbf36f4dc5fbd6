"""Import of clients, sites and contacts: file checks, preview, apply in one transaction, rights."""

from __future__ import annotations

import io
from collections.abc import Iterable
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import translation
from openpyxl import Workbook

from accounts_crm.access import Role
from accounts_crm.errors import NotAllowedError
from clients import imports, tasks
from clients.imports import ImportFileError
from clients.models import Client, Contact, ImportJob, Site
from tests.factories import AccountTeamMemberFactory, ClientFactory, TeamFactory

pytestmark = pytest.mark.django_db

CLIENT_COLUMNS = ["name", "legal_name", "vat_number", "sdi_code", "team", "tier", "region",
                  "city", "parent_vat_number"]  # fmt: skip
# Valid Partite IVA (python-stdnum).
HOLDING_VAT, RETAIL_VAT, OTHER_VAT = "04123450159", "02876540580", "03987650375"


def csv_file(
    header: list[str], rows: Iterable[list[str]], *, delimiter: str = ","
) -> SimpleUploadedFile:
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    return SimpleUploadedFile("import.csv", ("\n".join(lines) + "\n").encode(), "text/csv")


def xlsx_file(sheets: dict[str, list[list[object]]]) -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("book.xlsx", buffer.getvalue())


def check(by, file: SimpleUploadedFile, *, kind: str = "", language: str = "en") -> ImportJob:
    """Upload and run the worker's check, as the task would."""
    with translation.override(language):
        job = imports.import_job_create(by=by, file=file, kind=kind)
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


@pytest.fixture
def north(team_lead):
    return TeamFactory(name="Nord", lead=team_lead)


@pytest.fixture
def book_xlsx() -> SimpleUploadedFile:
    """A group in one workbook: a subsidiary before its holding, a manager after their report."""
    return xlsx_file(
        {
            "clients": [
                CLIENT_COLUMNS,
                ["Padano Retail", "Padano Retail S.r.l.", f"IT{RETAIL_VAT}", "M5UXCR1", "nord",
                 "Key", "Lombardia", "Milano", int(HOLDING_VAT)],
                ["Padano Holding", "Padano Holding S.p.A.", HOLDING_VAT, "M5UXCR1", "Nord",
                 "strategic", "emilia_romagna", "Parma", None],
            ],
            "sites": [
                ["client_vat_number", "name", "kind", "city", "region"],
                [HOLDING_VAT, "Sede centrale", "Headquarters", "Parma", "Emilia-Romagna"],
                [RETAIL_VAT, "Deposito Lodi", "warehouse", "Lodi", "lombardia"],
            ],
            "contacts": [
                ["client_vat_number", "first_name", "last_name", "email", "buying_role",
                 "influence", "relationship_strength", "site_name", "reports_to_email"],
                [HOLDING_VAT, "Bruno", "Verdi", "b.verdi@padano.example", "Champion", 3, "Good",
                 "Sede centrale", "ANNA.NERI@padano.example"],
                [HOLDING_VAT, "Anna", "Neri", "anna.neri@padano.example", "decision_maker", 5, 4,
                 "", ""],
            ],
        }
    )  # fmt: skip


# Happy paths -------------------------------------------------------------------------------------


def test_it_imports_a_workbook_of_clients_sites_and_contacts(team_lead, north, book_xlsx) -> None:
    job = check(team_lead, book_xlsx)

    assert job.status == ImportJob.Status.CHECKED
    assert {row["action"] for row in job.rows} == {"create"}
    assert not Client.objects.exists(), "the check is a dry run"

    job = apply(team_lead, job)

    assert job.status == ImportJob.Status.APPLIED
    holding = Client.objects.get(vat_number=HOLDING_VAT)
    retail = Client.objects.get(vat_number=RETAIL_VAT)
    assert retail.parent == holding
    assert (retail.team, retail.tier, retail.region) == (north, "key", "lombardia")
    assert holding.sites.get().kind == "headquarters"
    anna, bruno = Contact.objects.order_by("first_name")
    assert bruno.reports_to == anna
    assert (bruno.buying_role, bruno.relationship_strength, bruno.site.name) == (
        "champion",
        4,
        "Sede centrale",
    )
    assert job.content == b""
    assert job.progress_done == job.progress_total == 6


def test_it_updates_on_reimport_instead_of_duplicating(team_lead, north, book_xlsx) -> None:
    apply(team_lead, check(team_lead, book_xlsx))
    counts = (Client.objects.count(), Site.objects.count(), Contact.objects.count())

    book_xlsx.seek(0)
    again = check(team_lead, book_xlsx)

    assert {row["action"] for row in again.rows} == {"unchanged"}
    changed = csv_file(
        ["vat_number", "name", "city"], [[f"IT {HOLDING_VAT}", "Padano Holding", "Reggio Emilia"]]
    )
    job = apply(team_lead, check(team_lead, changed))

    assert outcome(job) == [(2, "update")]
    assert (Client.objects.count(), Site.objects.count(), Contact.objects.count()) == counts
    holding = Client.objects.get(vat_number=HOLDING_VAT)
    assert (holding.city, holding.tier, holding.version) == ("Reggio Emilia", "strategic", 2)


def test_it_imports_a_semicolon_csv_with_a_byte_order_mark(team_lead, north) -> None:
    header = ["name", "legal_name", "vat_number", "pec", "status", "scope"]
    rows = [["Sanità Integrata", "Sanità Integrata S.p.A.", HOLDING_VAT, "amm@pec.si.example",
             "Attivo", "National"]]  # fmt: skip
    file = csv_file(header, rows, delimiter=";")
    file = SimpleUploadedFile("clienti.CSV", b"\xef\xbb\xbf" + file.read())

    job = apply(team_lead, check(team_lead, file))

    assert outcome(job) == [(2, "create")]
    client = Client.objects.get()
    assert (client.name, client.team, client.status) == ("Sanità Integrata", north, "active")


def test_it_matches_contacts_on_email_and_sites_on_name(team_lead, north) -> None:
    client = ClientFactory(team=north, vat_number=OTHER_VAT, sdi_code="M5UXCR1")
    contact = Contact.objects.create(client=client, first_name="Ada", last_name="Neri",
                                     email="ada@x.example", job_title="Buyer")  # fmt: skip
    file = csv_file(
        ["client_vat_number", "first_name", "last_name", "email", "job_title"],
        [[OTHER_VAT, "Ada", "Neri", "ADA@x.example", "Head of purchasing"],
         [OTHER_VAT, "Ugo", "Bassi", "", "Engineer"]],
    )  # fmt: skip

    job = apply(team_lead, check(team_lead, file))

    assert outcome(job) == [(2, "update"), (3, "create")]
    contact.refresh_from_db()
    assert contact.job_title == "Head of purchasing"
    assert client.contacts.count() == 2


# Errors ------------------------------------------------------------------------------------------


def test_it_shows_per_row_errors_and_writes_only_the_valid_rows(team_lead, north) -> None:
    file = csv_file(
        ["name", "legal_name", "vat_number", "sdi_code", "region", "tier"],
        [["Good", "Good S.p.A.", HOLDING_VAT, "M5UXCR1", "Lazio", ""],
         ["Bad VAT", "Bad S.p.A.", "12345678901", "M5UXCR1", "", ""],
         ["Bad choices", "Bad S.p.A.", RETAIL_VAT, "M5UXCR1", "Atlantis", "Gold"],
         ["Twice", "Good S.p.A.", HOLDING_VAT, "M5UXCR1", "", ""]],
    )  # fmt: skip

    job = check(team_lead, file)

    assert outcome(job) == [(2, "create"), (3, "error"), (4, "error"), (5, "error")]
    errors = {row["line"]: " ".join(row["errors"]) for row in job.rows}
    assert "not a valid Italian VAT number" in errors[3]
    assert "Atlantis is not one of" in errors[4]
    assert "Gold is not one of" in errors[4]
    assert "line 2 already" in errors[5]

    job = apply(team_lead, job)

    assert job.status == ImportJob.Status.APPLIED
    assert list(Client.objects.values_list("name", flat=True)) == ["Good"]


def test_it_gives_row_errors_in_the_uploaders_language(team_lead, north) -> None:
    file = csv_file(
        ["name", "vat_number", "sdi_code"], [["Senza ragione sociale", HOLDING_VAT, "M5UXCR1"]]
    )

    job = check(team_lead, file, language="it")

    assert outcome(job) == [(2, "error")]
    assert any("non può essere vuoto" in error for error in job.rows[0]["errors"]), job.rows


def test_rows_refer_to_clients_and_managers_that_exist(team_lead, north) -> None:
    file = xlsx_file(
        {
            "contacts": [
                ["client_vat_number", "first_name", "last_name", "email", "reports_to_email",
                 "site_name"],
                [OTHER_VAT, "Ada", "Neri", "ada@x.example", "", ""],
            ],
        }
    )  # fmt: skip
    ClientFactory(team=north, vat_number=HOLDING_VAT)
    wrong = xlsx_file(
        {
            "contacts": [
                ["client_vat_number", "first_name", "last_name", "email", "reports_to_email",
                 "site_name"],
                [HOLDING_VAT, "Ada", "Neri", "ada@x.example", "nobody@x.example", "Nowhere"],
            ],
        }
    )  # fmt: skip

    assert "none of your clients" in check(team_lead, file).rows[0]["errors"][0]
    errors = " ".join(check(team_lead, wrong).rows[0]["errors"])
    assert "no site called Nowhere" in errors
    assert "nobody@x.example" in errors


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("clients.txt", b"name,vat_number\nA,1\n", "Upload a CSV"),
        ("clients.csv", b"", "empty"),
        ("clients.csv", b"name,legal_name\nA,A S.p.A.\n", "missing: vat_number"),
        ("clients.csv", b"name,vat_number\n", "no rows"),
        ("clients.csv", b"\n\n", "no header"),
        ("clients.csv", "name,vat_number\nCittà,1\n".encode("latin-1"), "not UTF-8"),
        ("clients.csv", b"name,vat_number,name\nA,1,B\n", "appear twice"),
        ("clients.xlsx", b"PK\x03\x04 not really a workbook", "not a valid Excel"),
        ("clients.csv", b"name,vat_number\n" + b"A,1\n" * 5001, "at most 5000"),
        ("clients.csv", b"name,vat_number\n" + b"x" * (5 * 1024 * 1024), "larger than 5 MB"),
    ],
)
def test_it_refuses_a_bad_file_and_changes_nothing(
    team_lead, north, name: str, content: bytes, message: str
) -> None:
    with translation.override("en"), pytest.raises(ImportFileError, match=message):
        imports.import_job_create(by=team_lead, file=SimpleUploadedFile(name, content))
    assert not ImportJob.objects.exists()


def test_the_upload_page_shows_a_bad_file_error(client, login, team_lead, north) -> None:
    login(team_lead)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    file = SimpleUploadedFile("clients.csv", b"name,legal_name\nA,A S.p.A.\n")

    response = client.post("/clients/import/", {"file": file})

    assert response.status_code == 200
    assert "missing: vat_number" in response.content.decode()
    assert not ImportJob.objects.exists()


# One transaction -------------------------------------------------------------------------------


def test_a_failure_mid_apply_writes_nothing(team_lead, north, book_xlsx) -> None:
    job = check(team_lead, book_xlsx)
    real_contact_save = imports.services.contact_save
    calls = []

    def breaks_on_the_second_contact(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_contact_save(**kwargs)

    with mock.patch.object(imports.services, "contact_save", breaks_on_the_second_contact):
        job = apply(team_lead, job)

    assert job.status == ImportJob.Status.FAILED
    assert "nothing was written" in job.message or "nulla" in job.message
    assert (Client.objects.count(), Site.objects.count(), Contact.objects.count()) == (0, 0, 0)


def test_rows_that_fail_only_at_apply_time_roll_everything_back(
    team_lead, north, make_user
) -> None:
    file = csv_file(["name", "legal_name", "vat_number", "sdi_code"],
                    [["A", "A S.p.A.", HOLDING_VAT, "M5UXCR1"],
                     ["B", "B S.p.A.", RETAIL_VAT, "M5UXCR1"]])  # fmt: skip
    job = check(team_lead, file)
    # Between the check and the apply, someone enters B by hand.
    ClientFactory(team=north, name="B", vat_number=RETAIL_VAT, sdi_code="ABCDEFG")
    # ... and the team gets a new lead: the uploader may no longer create clients for it.
    north.lead = make_user(Role.TEAM_LEAD)
    north.save()

    job = apply(team_lead, job)

    assert job.status == ImportJob.Status.CHECKED, "back to the preview, with the new errors"
    assert "nothing was imported" in job.message
    assert {row["action"] for row in job.rows} == {"error"}
    assert list(Client.objects.values_list("name", flat=True)) == ["B"]


def test_applying_twice_writes_once(team_lead, north, book_xlsx) -> None:
    job = apply(team_lead, check(team_lead, book_xlsx))
    counts = (Client.objects.count(), Contact.objects.count())

    tasks.import_apply.apply(args=[job.pk])
    tasks.import_check.apply(args=[job.pk])

    assert (Client.objects.count(), Contact.objects.count()) == counts
    with pytest.raises(Exception, match="not waiting"):
        imports.import_job_apply_request(by=team_lead, job=job)


# Rights ------------------------------------------------------------------------------------------


def test_a_nam_imports_only_into_the_accounts_they_manage(account_staff, north, team_lead) -> None:
    mine = ClientFactory(team=north, vat_number=HOLDING_VAT, sdi_code="M5UXCR1")
    AccountTeamMemberFactory(client=mine, user=account_staff, role="nam")
    ClientFactory(team=north, name="Not mine", vat_number=RETAIL_VAT, sdi_code="M5UXCR1")
    file = csv_file(
        ["name", "legal_name", "vat_number", "sdi_code", "team", "industry"],
        [["Mine", "Mine S.p.A.", HOLDING_VAT, "M5UXCR1", "", "Retail"],
         ["Not mine", "X S.p.A.", RETAIL_VAT, "M5UXCR1", "", "Retail"],
         ["New", "New S.p.A.", OTHER_VAT, "M5UXCR1", "Nord", "Retail"]],
    )  # fmt: skip

    job = apply(account_staff, check(account_staff, file))

    assert outcome(job) == [(2, "update"), (3, "error"), (4, "error")]
    assert "may not change it" in job.rows[1]["errors"][0]
    assert Client.objects.get(pk=mine.pk).industry == "Retail"
    assert not Client.objects.filter(industry="Retail").exclude(pk=mine.pk).exists()


def test_contacts_of_an_account_the_person_does_not_see_are_errors(account_staff, north) -> None:
    ClientFactory(team=north, vat_number=HOLDING_VAT)
    file = csv_file(["client_vat_number", "first_name", "last_name", "email"],
                    [[HOLDING_VAT, "Ada", "Neri", "ada@x.example"]])  # fmt: skip

    job = apply(account_staff, check(account_staff, file))

    assert outcome(job) == [(2, "error")]
    assert not Contact.objects.exists()


def test_finance_may_not_import(client, login, finance) -> None:
    with pytest.raises(NotAllowedError):
        imports.import_job_create(by=finance, file=csv_file(["name", "vat_number"], [["A", "1"]]))
    login(finance)
    assert client.get("/clients/import/").status_code == 403


def test_a_job_is_seen_only_by_whoever_uploaded_it(client, login, team_lead, north, make_user):
    job = check(team_lead, csv_file(["name", "vat_number"], [["A", HOLDING_VAT]]))
    other_lead = make_user(Role.TEAM_LEAD)
    login(other_lead)

    assert client.get(f"/clients/import/{job.pk}/").status_code == 404
    assert client.get(f"/clients/import/{job.pk}/status/").status_code == 404
    assert client.post(f"/clients/import/{job.pk}/apply/").status_code == 404


# Pages -----------------------------------------------------------------------------------------


def test_the_whole_flow_through_the_pages(
    client, login, team_lead, north, django_capture_on_commit_callbacks
) -> None:
    login(team_lead)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    file = csv_file(["name", "legal_name", "vat_number", "sdi_code"],
                    [["A", "A S.p.A.", HOLDING_VAT, "M5UXCR1"],
                     ["B", "", RETAIL_VAT, "M5UXCR1"]])  # fmt: skip

    with (
        mock.patch.object(tasks.import_check, "delay") as check_delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post("/clients/import/", {"file": file})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == f"/clients/import/{job.pk}/"
    check_delay.assert_called_once_with(job.pk)

    page = client.get(response.url).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "0 of 2 rows" in page

    tasks.import_check.apply(args=[job.pk])
    status = client.get(f"/clients/import/{job.pk}/status/", headers={"HX-Request": "true"})
    html = status.content.decode()
    assert "hx-trigger" not in html
    assert "<html" not in html
    assert "Import 1 row" in html
    assert "Legal name: This field cannot be blank." in html

    with (
        mock.patch.object(tasks.import_apply, "delay") as apply_delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(f"/clients/import/{job.pk}/apply/")
    apply_delay.assert_called_once_with(job.pk)
    assert 'hx-trigger="every 1s"' in client.get(f"/clients/import/{job.pk}/").content.decode()

    tasks.import_apply.apply(args=[job.pk])
    html = client.get(f"/clients/import/{job.pk}/status/").content.decode()
    assert "Imported: 1 new" in html
    assert list(Client.objects.values_list("name", flat=True)) == ["A"]
    upload_page = client.get("/clients/import/").content.decode()
    assert "import.csv" in upload_page
    assert "parent_vat_number" in upload_page


def test_the_status_shows_progress_while_the_worker_runs(client, login, team_lead) -> None:
    job = ImportJob.objects.create(created_by=team_lead, file_name="big.csv", language="en",
                                   status=ImportJob.Status.APPLYING, progress_done=1250,
                                   progress_total=5000)  # fmt: skip
    login(team_lead)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get(f"/clients/import/{job.pk}/status/").content.decode()

    assert "1250 of 5000 rows" in html
    assert 'aria-valuenow="25"' in html
    assert f'hx-get="/clients/import/{job.pk}/status/"' in html


def test_the_job_page_runs_few_queries_however_many_rows(
    client, login, team_lead, django_assert_max_num_queries
) -> None:
    rows = [{"sheet": "", "line": n, "kind": "clients", "label": f"C{n}", "action": "create",
             "errors": []} for n in range(2, 400)]  # fmt: skip
    job = ImportJob.objects.create(created_by=team_lead, file_name="f.csv", language="en",
                                   status=ImportJob.Status.CHECKED, rows=rows)  # fmt: skip
    login(team_lead)

    with django_assert_max_num_queries(8):
        response = client.get(f"/clients/import/{job.pk}/")
    assert response.content.decode().count('data-action="create"') == 398


def test_the_template_csv_has_the_documented_columns(client, login, team_lead) -> None:
    login(team_lead)
    response = client.get("/clients/import/template/contacts.csv")
    assert response.content.decode().strip().split(",") == list(imports.COLUMNS["contacts"])


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(team_lead, north) -> None:
    file = csv_file(["name", "legal_name", "vat_number", "sdi_code"],
                    [["A", "A S.p.A.", HOLDING_VAT, "M5UXCR1"],
                     ["B", "B S.p.A.", RETAIL_VAT, "M5UXCR1"]])  # fmt: skip
    with translation.override("en"):
        job = imports.import_job_create(by=team_lead, file=file)
    seen: list[int] = []
    record = imports._Progress.__call__

    def record_and_look(progress, done: int, *, force: bool = False) -> None:
        record(progress, done, force=True)
        # What the polling page would read, from outside the import's transaction.
        observer = connections.create_connection(DEFAULT_DB_ALIAS)
        with observer.cursor() as cursor:
            cursor.execute("SELECT progress_done FROM clients_importjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])
        observer.close()

    with mock.patch.object(imports._Progress, "__call__", record_and_look):
        tasks.import_check.apply(args=[job.pk])
        job = apply(team_lead, ImportJob.objects.get(pk=job.pk))

    assert job.status == ImportJob.Status.APPLIED
    assert seen == [0, 1, 2, 0, 1, 2]
    assert Client.objects.count() == 2
