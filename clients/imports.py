"""Import from CSV and XLSX (clients, sites, contacts; and what other apps register): parse,
check (preview), apply.

How an import runs (DESIGN.md: "long work runs in the background with visible progress"):

1. Upload (`import_job_create`): the file's shape is checked at once (type, size, header, required
   columns, row count); a bad file is refused with a clear message and nothing is stored. A good
   one becomes an `ImportJob` and the worker checks it (`clients.tasks.import_check`).
2. Check (`import_job_check`): a dry run. Every row goes through the same services as a form
   (`client_create`, `client_update`, `site_save`, `contact_save`) with the importing person as
   `by`, each in its own savepoint, inside one transaction that is rolled back at the end. So the
   preview's per-row status (create / update / unchanged / error) and messages are exactly what
   applying would do, policies and constraints included, in the uploader's language.
3. Apply (`import_job_apply_request`, then `import_job_apply` in the worker): the same run in one
   transaction that commits. Rows the preview showed as errors are skipped; if a row that was
   fine in the preview fails now (someone changed the data meanwhile), or anything unexpected
   happens, the transaction is rolled back and nothing is written.

Re-importing a file updates rather than duplicates: clients are matched on the VAT number
(normalized; without one, on the tax code; without both, on the name), sites on (client, name),
contacts on (client, e-mail; without one, first and last name). Empty cells leave the current
value unchanged, and so do columns the file does not have.

Progress is written through a second database connection, so that it is visible while the
import's own transaction is still open.

The machinery serves other apps too (see "The registry" below): an app registers a group of
kinds (columns, the model its errors are named after, who may import it) and an `ImportRunner`
that writes one row through its own services; the group gets the same upload, preview, apply,
tasks and pages. orders/imports.py registers the catalogue and contract prices that way. Such
modules are found with `autodiscover_modules("imports")` on first use, so clients never imports
the apps to its right, and a worker knows every group without loading the URLs.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import logging
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts_crm.access import AnyUser, Role, has_role
from accounts_crm.audit import audit_context
from accounts_crm.errors import DomainError, NotAllowedError
from clients import policies, services
from clients.errors import ClientError, not_allowed
from clients.models import Client, Contact, ImportJob, Region, Site, Team
from clients.validators import normalize_vat_number

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# Progress is written at most this often (seconds); the page polls every second.
PROGRESS_INTERVAL = 0.5
# Serializes the apply of one job: two workers given the same job write it once.
IMPORT_LOCK = 0x696D_7074  # "impt"


class ImportKind(models.TextChoices):
    CLIENTS = "clients", gettext_lazy("Clients")
    SITES = "sites", gettext_lazy("Sites")
    CONTACTS = "contacts", gettext_lazy("Contacts")


# The documented layout of each kind of the clients' group (registered at the bottom).
_CLIENT_COLUMNS: dict[str, tuple[str, ...]] = {
    ImportKind.CLIENTS: (
        "name", "legal_name", "vat_number", "tax_code", "sdi_code", "pec", "team", "industry",
        "tier", "status", "scope", "street", "postal_code", "city", "province", "region",
        "country", "parent_vat_number",
    ),
    ImportKind.SITES: (
        "client_vat_number", "name", "kind", "street", "postal_code", "city", "province",
        "region", "country",
    ),
    ImportKind.CONTACTS: (
        "client_vat_number", "first_name", "last_name", "job_title", "email", "phone",
        "buying_role", "influence", "relationship_strength", "site_name", "reports_to_email",
    ),
}  # fmt: skip
# Columns whose values are choices: a code ("lombardia") or a label in any language ("Lombardia").
CHOICE_COLUMNS: dict[str, dict[str, Any]] = {
    ImportKind.CLIENTS: {
        "tier": Client.Tier,
        "status": Client.Status,
        "scope": Client.Scope,
        "region": Region,
    },
    ImportKind.SITES: {"kind": Site.Kind, "region": Region},
    ImportKind.CONTACTS: {
        "buying_role": Contact.BuyingRole,
        "influence": Contact.Influence,
        "relationship_strength": Contact.Strength,
    },
}


# The registry: which kinds of import exist, grouped by the pages that import them ----------------
#
# A group (the clients' import, the catalogue's) has its own pages and runs its kinds in order;
# each kind has its columns, the model its errors are named after and who may import it. Apps to
# the right of clients register their groups from their own `imports` module (found by
# `autodiscover_modules`, as the admin finds `admin` modules), so clients never imports them.


@dataclass(frozen=True)
class KindSpec:
    kind: str
    label: Any  # plural, for messages about the file ("Clients need the columns ...")
    row_label: Any  # singular, for each row of the preview
    columns: tuple[str, ...]
    required: tuple[str, ...]
    model: type[models.Model]
    # XLSX sheet names (lower case, spaces as underscores) that hold this kind.
    sheet_names: tuple[str, ...] = ()
    # Who may import this kind at all; rows are then checked one by one by the services.
    can_import: Callable[[AnyUser], bool] | None = None
    refusal: Any = None  # the message when `can_import` says no


class ImportRunner:
    """One pass over a group's rows as `by`: `handle` writes one row and names what it did."""

    def __init__(self, *, by: AnyUser) -> None:
        self.by = by

    def handle(self, kind: str, values: dict[str, str], seen: dict[str, int], line: int) -> str:
        """Write one row through the services; return create, update or unchanged."""
        return getattr(self, f"_{kind}")(values, seen, line)

    def label(self, kind: str, values: dict[str, str]) -> str:
        return values.get("name", "")

    def ordered(self, sheet: Sheet) -> list[Row]:
        return sheet.rows


@dataclass(frozen=True)
class ImportGroup:
    name: str  # stored on the job (ImportJob.group)
    kinds: tuple[str, ...]  # in the order they run
    runner: Callable[..., ImportRunner]
    guess_kind: Callable[[list[str]], str]
    can_import: Callable[[AnyUser], bool]
    url_namespace: str  # of its pages: import_upload, import_preview, import_status, ...
    title: Any
    sheets_help: Any  # which XLSX sheet names are recognized
    rules: tuple[Any, ...] = ()  # "how rows are matched", one line each


KINDS: dict[str, KindSpec] = {}
GROUPS: dict[str, ImportGroup] = {}
# Kept for the pages and the templates: each kind's columns, and those a file must have.
COLUMNS: dict[str, tuple[str, ...]] = {}
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {}


def register(group: ImportGroup, kinds: Iterable[KindSpec]) -> None:
    """Make a group of kinds importable (safe to call again, e.g. on a module reload)."""
    for spec in kinds:
        KINDS[spec.kind] = spec
        COLUMNS[spec.kind] = spec.columns
        REQUIRED_COLUMNS[spec.kind] = spec.required
    GROUPS[group.name] = group


@functools.cache
def _discover() -> None:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("imports")


def get_group(name: str) -> ImportGroup:
    _discover()
    try:
        return GROUPS[name]
    except KeyError:
        raise ClientError(_("There is no import of this kind."), code="import_unknown") from None


def group_kinds(group: ImportGroup) -> list[KindSpec]:
    return [KINDS[kind] for kind in group.kinds]


class ImportFileError(ClientError):
    """The file cannot be imported at all (type, size, encoding, columns, rows)."""

    code = "import_file_invalid"


def can_import(user: AnyUser) -> bool:
    """Admin, team leads and account staff; each row is then checked against their rights."""
    return has_role(user, Role.ADMIN, Role.TEAM_LEAD, Role.ACCOUNT_STAFF)


def sheet_key(name: str) -> str:
    """A sheet's name as the registry spells it: "Contract prices" -> "contract_prices"."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


# Parsing ------------------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    values: dict[str, str]


@dataclass
class Sheet:
    kind: str
    name: str  # the XLSX sheet's name; blank for a CSV file
    rows: list[Row] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def parse_file(*, name: str, content: bytes, kind: str = "", group: str = "clients") -> list[Sheet]:
    """The sheets of an import file, in the order they must run; raises ImportFileError."""
    import_group = get_group(group)
    if kind and kind not in import_group.kinds:
        raise ImportFileError(_("There is no import of this kind."))
    if not content:
        raise ImportFileError(_("The file is empty."))
    if len(content) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB; split it into smaller files."))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension == "csv":
        tables = [("", _read_csv(content))]
    elif extension == "xlsx":
        tables = _read_xlsx(content, _sheet_kinds(import_group))
    else:
        raise ImportFileError(
            _("Upload a CSV (UTF-8) or an Excel XLSX file; %(name)s is neither.") % {"name": name}
        )
    sheets = [_sheet(sheet_name, table, kind, import_group) for sheet_name, table in tables]
    total = sum(len(sheet.rows) for sheet in sheets)
    if total == 0:
        raise ImportFileError(_("The file has a header but no rows to import."))
    if total > MAX_ROWS:
        raise ImportFileError(
            _("The file has %(count)s rows; at most %(max)s can be imported at once.")
            % {"count": total, "max": MAX_ROWS}
        )
    return sorted(sheets, key=lambda sheet: import_group.kinds.index(sheet.kind))


def _sheet_kinds(group: ImportGroup) -> dict[str, str]:
    return {name: spec.kind for spec in group_kinds(group) for name in spec.sheet_names}


Table = Iterator[tuple[int, list[str]]]


def _read_csv(content: bytes) -> Table:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is not UTF-8 text. In Excel, save it as “CSV UTF-8”.")
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, [cell.strip() for cell in cells]
    except csv.Error as error:
        raise ImportFileError(
            _("Line %(line)s of the file cannot be read: %(error)s")
            % {"line": reader.line_num, "error": error}
        ) from None


def _read_xlsx(content: bytes, sheet_kinds: dict[str, str]) -> list[tuple[str, Table]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ImportFileError(_("The file is not a valid Excel XLSX workbook.")) from None
    named = [ws for ws in workbook.worksheets if sheet_key(ws.title) in sheet_kinds]
    chosen = named or workbook.worksheets[:1]
    if not chosen:
        raise ImportFileError(_("The workbook has no sheets."))
    return [(ws.title if named else "", _xlsx_rows(ws)) for ws in chosen]


def _xlsx_rows(worksheet: Any) -> Table:
    for line, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
        yield line, [_cell_text(cell) for cell in cells]


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person typed (1234 stays 1234, not 1234.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def _header_name(cell: str) -> str:
    return cell.strip().lower().replace(" ", "_").replace("-", "_")


def _sheet(sheet_name: str, table: Table, kind: str, group: ImportGroup) -> Sheet:
    where = _("Sheet %(sheet)s: ") % {"sheet": sheet_name} if sheet_name else ""
    header: list[str] = []
    for _line, cells in table:
        if any(cells):
            header = [_header_name(cell) for cell in cells]
            break
    if not header:
        raise ImportFileError(where + _("the file has no header row."))
    kind = _sheet_kinds(group).get(sheet_key(sheet_name), kind) or group.guess_kind(header)
    duplicated = sorted({column for column in header if column and header.count(column) > 1})
    if duplicated:
        raise ImportFileError(
            where
            + _("these columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicated)}
        )
    missing = [column for column in REQUIRED_COLUMNS[kind] if column not in header]
    if missing:
        raise ImportFileError(
            where
            + _("%(kind)s need the columns %(columns)s; missing: %(missing)s.")
            % {
                "kind": KINDS[kind].label,
                "columns": ", ".join(REQUIRED_COLUMNS[kind]),
                "missing": ", ".join(missing),
            }
        )
    known = set(COLUMNS[kind])
    sheet = Sheet(
        kind=kind,
        name=sheet_name,
        ignored_columns=[column for column in header if column and column not in known],
    )
    for line, cells in table:
        if not any(cells):
            continue
        values = {
            column: cells[index] if index < len(cells) else ""
            for index, column in enumerate(header)
            if column in known
        }
        sheet.rows.append(Row(line=line, values=values))
        if len(sheet.rows) > MAX_ROWS:
            break  # enough to refuse the file without reading the rest
    return sheet


# Values -------------------------------------------------------------------------------------------


@functools.cache
def _choice_lookup(choices: Any) -> dict[str, Any]:
    """Every way a person may write a choice: its code, its label in each language."""
    lookup: dict[str, Any] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for value, label in choices.choices:
                lookup[str(label).casefold()] = value
    for value in choices.values:
        lookup[str(value).casefold()] = value
    return lookup


def parse_choice(choices: Any, text: str) -> Any:
    value = _choice_lookup(choices).get(text.strip().casefold())
    if value is None:
        raise ValidationError(
            _("%(value)s is not one of: %(choices)s.")
            % {"value": text, "choices": ", ".join(str(label) for label in choices.labels)}
        )
    return value


def _vat(text: str) -> str:
    """Normalized VAT number; a spreadsheet that dropped the leading zeros gets them back."""
    number = normalize_vat_number(text)
    if number.isdigit() and len(number) < 11:
        number = number.zfill(11)
    return number


def row_messages(error: Exception, model: type[models.Model] | None = None) -> list[str]:
    """A person-readable message per problem, each field named in the user's language."""
    if isinstance(error, DomainError):
        return [error.message]
    if not isinstance(error, ValidationError):
        return [str(error)]
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    messages = []
    for name, errors in error.message_dict.items():
        label = ""
        if model is not None and name != NON_FIELD_ERRORS:
            try:
                label = str(model._meta.get_field(name).verbose_name)
            except Exception:  # an error on a name that is not a field
                label = name
        # "VAT nature", not "Vat nature": only the first letter changes.
        label = label[:1].upper() + label[1:]
        messages += [f"{label}: {message}" if label else message for message in errors]
    return messages


# Running the rows --------------------------------------------------------------------------------


class RowError(Exception):
    """A row's own problems, in the words to show on its line of the preview."""

    def __init__(self, messages: Iterable[str]) -> None:
        super().__init__()
        self.messages = list(messages)


class _ChangedSinceCheck(Exception):
    """A row that was fine in the preview fails at apply time: roll everything back."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        super().__init__()
        self.results = results


def _row_key(result: dict[str, Any]) -> tuple[str, int]:
    return (result["sheet"], result["line"])


class _Progress:
    """Writes rows-done on a connection of its own, visible while the import's is still open."""

    def __init__(self, job_id: int, total: int) -> None:
        self.job_id, self.total = job_id, total
        self.connection: Any = None
        self.last = 0.0

    def __call__(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        try:
            if self.connection is None:
                self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.connection.cursor() as cursor:
                    # Never wait on the job's row (a lock held by the import's own transaction
                    # would make this wait forever): skip this update instead.
                    cursor.execute("SET lock_timeout = '1s'")
            table = self.connection.ops.quote_name(ImportJob._meta.db_table)
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET progress_done = %s, progress_total = %s "  # noqa: S608
                    "WHERE id = %s",
                    [done, self.total, self.job_id],
                )
        except DatabaseError:
            logger.warning("Could not record the progress of import %s", self.job_id)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _execute(
    runner: ImportRunner,
    sheets: list[Sheet],
    skip: dict[tuple[str, int], dict[str, Any]],
    progress: Callable[[int], None],
) -> list[dict[str, Any]]:
    """Every row in its own savepoint: a row's error is its own, the others go on."""
    results = []
    done = 0
    for sheet in sheets:
        seen: dict[str, int] = {}
        for row in runner.ordered(sheet):
            result = {
                "sheet": sheet.name,
                "line": row.line,
                "kind": sheet.kind,
                "label": runner.label(sheet.kind, row.values),
                "action": "error",
                "errors": [],
            }
            key = (sheet.name, row.line)
            if key in skip:
                results.append(skip[key])
            else:
                try:
                    with transaction.atomic():
                        result["action"] = runner.handle(sheet.kind, row.values, seen, row.line)
                except RowError as error:
                    result["errors"] = error.messages
                except (ValidationError, DomainError) as error:
                    result["errors"] = row_messages(error, KINDS[sheet.kind].model)
                except IntegrityError as error:
                    # A constraint the service's full_clean() could not see coming (another
                    # transaction committed the conflicting row meanwhile): the row's error,
                    # in the constraint's words, not a crash.
                    result["errors"] = [_constraint_message(error)]
                results.append(result)
            done += 1
            progress(done)
    return results


def _constraint_message(error: IntegrityError) -> str:
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == name:
                return str(constraint.get_violation_error_message())
    return _("This row conflicts with data already stored.")


class _Run(ImportRunner):
    """The clients' group: clients, sites and contacts, written through the clients' services."""

    def __init__(self, *, by: AnyUser) -> None:
        super().__init__(by=by)
        self.clients: dict[str, Client] = {}  # by matching key, as written in this run
        self.teams = {team.name.casefold(): team for team in Team.objects.all()}
        self.led_teams = [team for team in self.teams.values() if team.lead_id == by.pk]

    def label(self, kind: str, values: dict[str, str]) -> str:
        if kind == ImportKind.CONTACTS:
            name = f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()
            return f"{name} <{values['email']}>" if values.get("email") else name
        return values.get("name", "")

    def ordered(self, sheet: Sheet) -> list[Row]:
        """File order, except that a parent (or manager) in the file runs before its children."""
        if sheet.kind == ImportKind.CLIENTS:
            own, up = "vat_number", "parent_vat_number"
        elif sheet.kind == ImportKind.CONTACTS:
            own, up = "email", "reports_to_email"
        else:
            return sheet.rows

        def key(row: Row, column: str) -> str:
            value = row.values.get(column, "")
            return _vat(value) if column.endswith("vat_number") else value.strip().casefold()

        by_key = {key(row, own): row for row in sheet.rows if key(row, own)}
        ordered: list[Row] = []
        placed: set[int] = set()
        for row in sheet.rows:
            chain: list[Row] = []
            current: Row | None = row
            while current is not None and current.line not in placed and current not in chain:
                chain.append(current)
                current = by_key.get(key(current, up)) if key(current, up) else None
            for item in reversed(chain):
                placed.add(item.line)
                ordered.append(item)
        return ordered

    # Clients ---------------------------------------------------------------------------------

    def _client_key(self, values: dict[str, str]) -> str:
        vat = _vat(values.get("vat_number", ""))
        if vat:
            return f"vat:{vat}"
        if values.get("tax_code"):
            return f"tax:{values['tax_code'].replace(' ', '').upper()}"
        return f"name:{values.get('name', '').strip().casefold()}"

    def _find_client(self, values: dict[str, str]) -> Client | None:
        key = self._client_key(values)
        if key in self.clients:
            return self.clients[key]
        kind, _sep, value = key.partition(":")
        lookup = {
            "vat": Q(vat_number=value),
            "tax": Q(tax_code=value),
            "name": Q(name__iexact=value, vat_number="", tax_code=""),
        }[kind]
        # Active first: two inactive duplicates and one active company are that company.
        return (
            Client.objects.filter(lookup)
            .select_related("team")
            .order_by(Case(When(status="active", then=Value(0)), default=Value(1)), "-pk")
            .first()
        )

    def _clients(self, values: dict[str, str], seen: dict[str, int], line: int) -> str:
        key = self._client_key(values)
        if key in seen:
            raise RowError([_("This client is on line %(line)s already.") % {"line": seen[key]}])
        seen[key] = line
        fields = self._client_fields(values)
        parent = self._parent(values)
        client = self._find_client(values)
        if client is None:
            if "team" not in fields:
                if len(self.led_teams) != 1:
                    raise RowError([_("Give the team that owns this new client.")])
                fields["team"] = self.led_teams[0]
            client = Client(**fields)
            client.parent = parent
            services.client_create(by=self.by, client=client)
            action = "create"
        else:
            if not policies.can_manage_client(self.by, client):
                raise RowError(
                    [_("A client with this VAT number exists and you may not change it.")]
                )
            moves_team = "team" in fields and fields["team"].pk != client.team_id
            if moves_team and not policies.can_create_client(self.by, fields["team"]):
                raise RowError(
                    [_("You may not give clients to the team %(team)s.") % {"team": fields["team"]}]
                )
            before = snapshot(client)
            services.apply_fields(client, fields)
            if parent is not None:
                client.parent = parent
            client.clean()  # normalizes as saving would, so that "unchanged" is exact
            if snapshot(client) == before:
                action = "unchanged"
            else:
                client = services.client_update(by=self.by, client=client, version=client.version)
                action = "update"
        self.clients[key] = client
        return action

    def _client_fields(self, values: dict[str, str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        errors: list[str] = []
        for column in _CLIENT_COLUMNS[ImportKind.CLIENTS]:
            text = values.get(column, "")
            if not text or column == "parent_vat_number":
                continue
            try:
                if column == "team":
                    fields["team"] = self.teams.get(text.casefold())
                    if fields["team"] is None:
                        raise ValidationError(_("No team is called %(team)s.") % {"team": text})
                elif column in CHOICE_COLUMNS[ImportKind.CLIENTS]:
                    fields[column] = parse_choice(CHOICE_COLUMNS[ImportKind.CLIENTS][column], text)
                elif column == "vat_number":
                    fields[column] = _vat(text)
                else:
                    fields[column] = text
            except ValidationError as error:
                errors += row_messages(ValidationError({column: error}), Client)
        if errors:
            raise RowError(errors)
        return fields

    def _parent(self, values: dict[str, str]) -> Client | None:
        text = values.get("parent_vat_number", "")
        if not text:
            return None
        return self._client_of(text, column=_("parent company"))

    def _client_of(self, text: str, *, column: str) -> Client:
        """A client this person sees, by VAT number: written earlier in this run, or in the book."""
        vat = _vat(text)
        client = self.clients.get(f"vat:{vat}")
        if client is None:
            client = (
                Client.objects.visible_to(self.by)
                .filter(vat_number=vat)
                .select_related("team")
                .order_by(Case(When(status="active", then=Value(0)), default=Value(1)), "-pk")
                .first()
            )
        if client is not None:
            self.clients[f"vat:{vat}"] = client  # the next rows of this client ask again
        else:
            raise RowError(
                [
                    _("%(column)s: none of your clients has the VAT number %(vat)s.")
                    % {"column": column.capitalize(), "vat": text}
                ]
            )
        return client

    # Sites -------------------------------------------------------------------------------------

    def _sites(self, values: dict[str, str], seen: dict[str, int], line: int) -> str:
        client = self._client_of(values["client_vat_number"], column=_("client"))
        name = values.get("name", "")
        key = f"{client.pk}:{name.casefold()}"
        if key in seen:
            raise RowError([_("This site is on line %(line)s already.") % {"line": seen[key]}])
        seen[key] = line
        fields = self._simple_fields(ImportKind.SITES, values, Site, skip=("client_vat_number",))
        site = Site.objects.filter(client=client, name__iexact=name).first() if name else None
        if site is None:
            site = Site(client=client, **fields)
            services.site_save(by=self.by, site=site)
            return "create"
        return self._update(site, fields, lambda: services.site_save(by=self.by, site=site))

    # Contacts ----------------------------------------------------------------------------------

    def _contacts(self, values: dict[str, str], seen: dict[str, int], line: int) -> str:
        client = self._client_of(values["client_vat_number"], column=_("client"))
        email = values.get("email", "").strip()
        first, last = values.get("first_name", ""), values.get("last_name", "")
        key = f"{client.pk}:" + (email.casefold() or f"{first}|{last}".casefold())
        if key in seen:
            raise RowError([_("This contact is on line %(line)s already.") % {"line": seen[key]}])
        seen[key] = line
        fields = self._simple_fields(
            ImportKind.CONTACTS,
            values,
            Contact,
            skip=("client_vat_number", "site_name", "reports_to_email"),
        )
        errors = []
        if values.get("site_name"):
            fields["site"] = Site.objects.filter(
                client=client, name__iexact=values["site_name"]
            ).first()
            if fields["site"] is None:
                errors.append(
                    _("Site: %(client)s has no site called %(site)s.")
                    % {"client": client, "site": values["site_name"]}
                )
        if values.get("reports_to_email"):
            fields["reports_to"] = Contact.objects.filter(
                client=client, email__iexact=values["reports_to_email"]
            ).first()
            if fields["reports_to"] is None:
                errors.append(
                    _("Reports to: %(client)s has no contact with the e-mail %(email)s.")
                    % {"client": client, "email": values["reports_to_email"]}
                )
        if errors:
            raise RowError(errors)
        existing = Contact.objects.filter(client=client)
        if email:
            contact = existing.filter(email__iexact=email).first()
        else:
            contact = existing.filter(
                email="", first_name__iexact=first, last_name__iexact=last
            ).first()
        if contact is None:
            contact = Contact(client=client, **fields)
            services.contact_save(by=self.by, contact=contact)
            return "create"
        return self._update(
            contact, fields, lambda: services.contact_save(by=self.by, contact=contact)
        )

    # Shared ------------------------------------------------------------------------------------

    @staticmethod
    def _simple_fields(
        kind: str, values: dict[str, str], model: type[models.Model], *, skip: tuple[str, ...]
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        errors: list[str] = []
        for column in _CLIENT_COLUMNS[kind]:
            text = values.get(column, "")
            if not text or column in skip:
                continue
            if column in CHOICE_COLUMNS[kind]:
                try:
                    fields[column] = parse_choice(CHOICE_COLUMNS[kind][column], text)
                except ValidationError as error:
                    errors += row_messages(ValidationError({column: error}), model)
            elif column in ("province", "country"):
                fields[column] = text.upper()
            else:
                fields[column] = text
        if errors:
            raise RowError(errors)
        return fields

    def _update(self, instance: models.Model, fields: dict[str, Any], save: Callable) -> str:
        before = snapshot(instance)
        services.apply_fields(instance, fields)
        if snapshot(instance) == before:
            # Still the person's rights on the row: "unchanged" must not hide a refusal.
            if not policies.can_work_on_client(self.by, instance.client):  # type: ignore[attr-defined]
                raise not_allowed()
            return "unchanged"
        save()
        return "update"


def snapshot(instance: models.Model) -> dict[str, Any]:
    ignored = {"id", "created_at", "updated_at", "version"}
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in ignored
    }


def _run(
    job: ImportJob, *, commit: bool, skip: dict[tuple[str, int], dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Run every row of `job` as its uploader; roll back unless `commit` and all went well."""
    group = get_group(job.group)
    sheets = parse_file(
        name=job.file_name, content=bytes(job.content), kind=job.kind, group=job.group
    )
    progress = _Progress(job.pk, sum(len(sheet.rows) for sheet in sheets))
    progress(0, force=True)
    skip = skip or {}
    try:
        with (
            translation.override(job.language),
            # The dry run's writes are rolled back: no audit context to attach to them.
            audit_context(user=job.created_by_id, import_job=job.pk) if commit else nullcontext(),
            transaction.atomic(),
        ):
            runner = group.runner(by=job.created_by)
            results = _execute(runner, sheets, skip, progress)
            if not commit:
                transaction.set_rollback(True)
            elif any(r["action"] == "error" and _row_key(r) not in skip for r in results):
                raise _ChangedSinceCheck(results)
            else:
                _mark(job, ImportJob.Status.APPLIED, rows=results, content=b"")
    finally:
        progress.close()
    return results


def _mark(job: ImportJob, status: str, **fields: Any) -> None:
    """Record the outcome on the job's connection (never the progress one: that would wait on
    the row this transaction holds)."""
    fields.setdefault("finished_at", timezone.now())
    if status in (ImportJob.Status.CHECKED, ImportJob.Status.APPLIED):
        fields["progress_done"] = F("progress_total")
    ImportJob.objects.filter(pk=job.pk).update(status=status, updated_at=timezone.now(), **fields)
    job.refresh_from_db(fields=["status", "rows", "message", "finished_at"])


# Services ----------------------------------------------------------------------------------------


@transaction.atomic
def import_job_create(
    *, by: AnyUser, file: UploadedFile, kind: str = "", group: str = "clients"
) -> ImportJob:
    """Check the file's shape now, and have the worker check its rows (raises ImportFileError)."""
    if not get_group(group).can_import(by):
        raise not_allowed()
    if file.size is not None and file.size > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB; split it into smaller files."))
    content = file.read(MAX_BYTES + 1)
    name = file.name or "import"
    sheets = parse_file(name=name, content=content, kind=kind, group=group)
    for spec in {KINDS[sheet.kind] for sheet in sheets}:
        if spec.can_import is not None and not spec.can_import(by):
            raise NotAllowedError(str(spec.refusal))
    job = ImportJob.objects.create(
        created_by=by,
        file_name=name[:255],
        content=content,
        group=group,
        kind=kind,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        progress_total=sum(len(sheet.rows) for sheet in sheets),
    )
    from clients import tasks

    transaction.on_commit(lambda: tasks.import_check.delay(job.pk))
    return job


def import_job_check(*, job_id: int) -> ImportJob:
    """The preview: a dry run of every row. Safe to run twice (only a job being checked runs)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportJob.Status.CHECKING:
        return job
    try:
        rows = _run(job, commit=False)
    except ImportFileError as error:
        _mark(job, ImportJob.Status.FAILED, message=error.message)
    else:
        _mark(job, ImportJob.Status.CHECKED, rows=rows, finished_at=None)
    return job


@transaction.atomic
def import_job_apply_request(*, by: AnyUser, job: ImportJob) -> ImportJob:
    """Queue the apply of a checked import; the worker writes its valid rows."""
    if job.created_by_id != by.pk:
        raise not_allowed()
    if not ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(
        status=ImportJob.Status.APPLYING, message="", updated_at=timezone.now()
    ):
        raise ClientError(_("This import is not waiting to be applied."), code="import_not_ready")
    from clients import tasks

    transaction.on_commit(lambda: tasks.import_apply.delay(job.pk))
    job.refresh_from_db(fields=["status", "message"])
    return job


def import_job_apply(*, job_id: int) -> ImportJob:
    """Write every valid row in one transaction, or nothing. Safe to run twice."""
    with transaction.atomic():
        # One apply per job at a time; the second waits, then finds it applied and stops.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK, job_id])
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)
        if job.status != ImportJob.Status.APPLYING:
            return job
        skip = {_row_key(row): row for row in job.rows if row["action"] == "error"}
        try:
            _run(job, commit=True, skip=skip)
        except _ChangedSinceCheck as changed:
            with translation.override(job.language):
                message = _(
                    "Some rows changed since the check and now have errors, so nothing was "
                    "imported. Review the rows below and import again."
                )
            _mark(
                job,
                ImportJob.Status.CHECKED,
                rows=changed.results,
                message=message,
                finished_at=None,
            )
    return job


def import_job_fail(*, job_id: int, error: BaseException) -> None:
    """Record that a check or apply broke down; its transaction was rolled back."""
    job = ImportJob.objects.get(pk=job_id)
    logger.error("Import %s failed: %r", job_id, error)
    with translation.override(job.language):
        message = (
            error.message
            if isinstance(error, DomainError)
            else _("The import stopped because of an unexpected error; nothing was written.")
        )
    _mark(job, ImportJob.Status.FAILED, message=message)


def import_summary(job: ImportJob) -> dict[str, int]:
    summary = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
    for row in job.rows:
        summary[row["action"]] += 1
    return summary


def import_template_csv(kind: str) -> str:
    """An empty CSV with the documented columns of `kind`, to fill in."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(COLUMNS[kind])
    return buffer.getvalue()


def _guess_client_kind(header: list[str]) -> str:
    if "first_name" in header or "last_name" in header:
        return ImportKind.CONTACTS
    if "client_vat_number" in header:
        return ImportKind.SITES
    return ImportKind.CLIENTS


register(
    ImportGroup(
        name="clients",
        kinds=(ImportKind.CLIENTS, ImportKind.SITES, ImportKind.CONTACTS),
        runner=_Run,
        guess_kind=_guess_client_kind,
        can_import=can_import,
        url_namespace="clients",
        title=gettext_lazy("Import clients, sites and contacts"),
        sheets_help=gettext_lazy(
            "A CSV file holds one kind of row; an XLSX workbook may hold all three in sheets "
            "named clients, sites and contacts."
        ),
        rules=(
            gettext_lazy(
                "Clients by VAT number (with or without the IT prefix); without one, by tax "
                "code; without both, by name. The parent company is given by its VAT number."
            ),
            gettext_lazy(
                "Sites by client and name; contacts by client and e-mail (without an e-mail, by "
                "first and last name). The client is given by its VAT number."
            ),
            gettext_lazy(
                "A row that matches updates what is there; importing the same file again "
                "creates no duplicates. Empty cells leave the current value as it is."
            ),
            gettext_lazy(
                "Choices (tier, status, region, kind, buying role, influence, relationship "
                "strength) may be given as codes or as the labels shown in the application, in "
                "Italian or English."
            ),
            gettext_lazy(
                "You can import only what your role lets you change: rows about other accounts "
                "are shown as errors and skipped."
            ),
        ),
    ),
    [
        KindSpec(
            kind=ImportKind.CLIENTS,
            label=ImportKind.CLIENTS.label,
            row_label=gettext_lazy("Client"),
            columns=_CLIENT_COLUMNS[ImportKind.CLIENTS],
            required=("name", "vat_number"),
            model=Client,
            sheet_names=("clients", "clienti"),
        ),
        KindSpec(
            kind=ImportKind.SITES,
            label=ImportKind.SITES.label,
            row_label=gettext_lazy("Site"),
            columns=_CLIENT_COLUMNS[ImportKind.SITES],
            required=("client_vat_number", "name"),
            model=Site,
            sheet_names=("sites", "sedi"),
        ),
        KindSpec(
            kind=ImportKind.CONTACTS,
            label=ImportKind.CONTACTS.label,
            row_label=gettext_lazy("Contact"),
            columns=_CLIENT_COLUMNS[ImportKind.CONTACTS],
            required=("client_vat_number", "first_name", "last_name", "email"),
            model=Contact,
            sheet_names=("contacts", "contatti"),
        ),
    ],
)
