"""Small pieces every app's HTML views share: run a service into a form or from a button, the
form page, htmx, sortable column headers, streamed CSV, change histories, and the links and
panels an app to the right adds to another app's page.

They used to live, private, in clients/views.py; orders (and the apps after it) use them too, so
they are public here, where the dependency arrow allows every app to import them.
"""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, Q
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.http import (
    content_disposition_header,
    url_has_allowed_host_and_scheme,
    urlencode,
)
from django.utils.translation import gettext as _
from pghistory.models import Events

from accounts_crm.errors import DomainError, NotAllowedError
from accounts_crm.widgets import LongSelect

# Events shown in a change history (client page, order page, contract page).
HISTORY_LIMIT = 50
# The shared form page. It lives with the clients templates for history's sake; every app uses it.
FORM_TEMPLATE = "clients/object_form.html"


def save_form(form: BaseForm, service: Callable[..., Any], **kwargs: Any) -> bool:
    """Run a service; what it refuses becomes a form error (or a 403). True when it saved."""
    try:
        service(**kwargs)
    except NotAllowedError as error:
        raise PermissionDenied(error.message) from error
    except ValidationError as error:
        for field, messages_ in error.update_error_dict({}).items():
            form.add_error(field if field in form.fields else None, messages_)
        return False
    except DomainError as error:
        form.add_error(None, error.message)
        return False
    return True


def posted_data(request: HttpRequest) -> Any:
    """The POST data on a POST (even an empty one, which `request.POST or None` would miss)."""
    return request.POST if request.method == "POST" else None


def require(allowed: bool) -> None:
    """403 unless the policy check passed (rows the person may not see are 404s before this)."""
    if not allowed:
        raise PermissionDenied


def form_page(
    request: HttpRequest,
    form: BaseForm,
    *,
    title: str,
    client: Model | None = None,
    back: str,
    delete_url: str | None = None,
    breadcrumbs: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    """The shared form page; `breadcrumbs` (label, url) replace the clients trail above it."""
    context = {"form": form, "title": title, "client": client, "back": back}
    context |= {"delete_url": delete_url, "breadcrumbs": breadcrumbs}
    return render(request, FORM_TEMPLATE, context)


def is_htmx_partial(request: HttpRequest) -> bool:
    """An htmx request that wants a partial (a history restore wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def sort_columns(
    columns: Iterable[tuple[str, str | Promise]], current: str
) -> list[dict[str, Any]]:
    """Header links of a sortable list: each column's direction now and the ordering it links to."""
    headers = []
    for key, label in columns:
        direction = "asc" if current == key else "desc" if current == f"-{key}" else None
        next_ = f"-{key}" if direction == "asc" else key
        headers.append({"key": key, "label": label, "direction": direction, "next": next_})
    return headers


class Echo:
    """A file-like object whose write() returns what it is given: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    rows: Iterable[Any],
    *,
    filename: str,
    header: Sequence[str | Promise],
    row: Callable[[Any], list[Any]],
) -> StreamingHttpResponse:
    """Rows as a CSV download, streamed: the export of a large book does not sit in memory.

    Pass `queryset.iterator(chunk_size=...)` as `rows` so the database is read in chunks too.
    """
    writer = csv.writer(Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([str(label) for label in header])
        for item in rows:
            yield writer.writerow(row(item))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def field_change(model: type[Model], name: str, values: list[Any]) -> dict[str, Any]:
    """One field of an audit event's diff, with its label and choice labels resolved."""
    try:
        field = model._meta.get_field(name.removesuffix("_id"))
    except FieldDoesNotExist:  # a column dropped since the event was written
        return {"label": name, "old": values[0], "new": values[1]}
    choices = dict(field.flatchoices) if field.choices else {}
    return {
        "label": field.verbose_name,
        "old": choices.get(values[0], values[0]),
        "new": choices.get(values[1], values[1]),
    }


def change_history(row: Model, *, models: list[str]) -> list[Any]:
    """The audit trail of `row` and of the rows of `models` that point at it (its lines, its
    prices), newest first, with authors and field names resolved like the client page's."""
    label = row._meta.label
    events = list(
        Events.objects.references(row)
        .filter(pgh_obj_model__in=[label, *models])
        .filter(~Q(pgh_obj_model=label) | Q(pgh_obj_id=str(row.pk)))  # not another order's
        .order_by("-pgh_created_at", "-pgh_id")[:HISTORY_LIMIT]
    )
    return described_events(events)


def described_events(events: list[Any]) -> list[Any]:
    """Audit events as a history shows them: each with its `author` (one query for all),
    `subject` (the model's name) and `changes` (field_change per changed field)."""
    user_ids = {(event.pgh_context or {}).get("user") for event in events} - {None}
    authors = {user.pk: user for user in User.objects.filter(pk__in=user_ids)}
    for event in events:
        event.author = authors.get((event.pgh_context or {}).get("user"))
        model = apps.get_model(event.pgh_obj_model)
        event.subject = model._meta.verbose_name
        event.changes = [
            field_change(model, name, values)
            for name, values in sorted((event.pgh_diff or {}).items())
        ]
    return events


# What `run_action` answers when the service refused: the refusal is already a message.
FAILED = object()


def run_action(request: HttpRequest, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a button's service; what it refuses becomes an error message (FAILED), or a 403."""
    try:
        return service(**kwargs)
    except NotAllowedError as error:
        raise PermissionDenied(error.message) from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except DomainError as error:
        messages.error(request, error.message)
    return FAILED


@dataclass(frozen=True)
class PageLink:
    """A button one app puts on another app's page (billing's "Invoice this order")."""

    label: str | Promise
    url: str


# page name ("orders.order") -> functions (request, row) -> PageLink or None. An app to the right
# of the arrow registers in its AppConfig.ready(); the page never imports it.
PAGE_LINKS: defaultdict[str, list[Callable[[HttpRequest, Any], PageLink | None]]] = defaultdict(
    list
)


def register_page_link(page: str, link: Callable[[HttpRequest, Any], PageLink | None]) -> None:
    if link not in PAGE_LINKS[page]:
        PAGE_LINKS[page].append(link)


def page_links(request: HttpRequest, page: str, row: Any) -> list[PageLink]:
    """The links other apps add to `page` for `row`, those that apply to this person and row."""
    return [link for make in PAGE_LINKS[page] if (link := make(request, row)) is not None]


# page name ("orders.contract") -> functions (request, row) -> rendered HTML or None: a panel one
# app shows on another app's detail page (dashboards' contract compliance on the contract page).
# Registered from AppConfig.ready(), like PAGE_LINKS; the page never imports the app.
PAGE_PANELS: defaultdict[str, list[Callable[[HttpRequest, Any], str | None]]] = defaultdict(list)


def register_page_panel(page: str, panel: Callable[[HttpRequest, Any], str | None]) -> None:
    """Show `panel(request, row)` on `page` (an app label and model, "orders.contract").

    The panel renders its own HTML (`render_to_string(..., request=request)`, which is safe to
    output as it is) or answers None to show nothing for this person and row. It reads only what
    `request.user` may see, in a number of queries that does not grow with the rows it shows:
    the page's query budget is pinned in tests with the panel in it.
    """
    if panel not in PAGE_PANELS[page]:
        PAGE_PANELS[page].append(panel)


def page_panels(request: HttpRequest, page: str, row: Any) -> list[str]:
    """The panels other apps add to `page` for `row`, rendered, in the order they registered."""
    return [html for render_panel in PAGE_PANELS[page] if (html := render_panel(request, row))]


def list_url(name: str, **filters: object) -> str:
    """The URL of the list `name` filtered by `filters` (None drops a filter): what a figure
    links to. A dashboard links thousands of figures, so the list's path is reversed once per
    URLconf and script prefix, not once per link."""
    path = _list_path(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    query = urlencode({key: value for key, value in filters.items() if value is not None})
    return f"{path}?{query}" if query else path


@functools.lru_cache(maxsize=256)
def _list_path(name: str, urlconf: str, script_prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


def person_name(user: Any) -> str:
    """A person as lists and CSV exports show them: full name, else username; "" for nobody."""
    return (user.get_full_name() or user.get_username()) if user else ""


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go back to after a POST: a `next` on this site, else `fallback` (never off-site)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def id_dropdowns(form: BaseForm, choices: dict[str, list[tuple[Any, Any]]]) -> None:
    """Turn a FilterSet form's id filters into dropdowns of `choices` (what the person sees).

    The FilterSet is shared with the API, which keeps taking ids: the dropdown still hands it an
    int, and an id outside the choices is a form error, so it filters nothing and reveals nothing.
    """
    for name, options in choices.items():
        form.fields[name] = forms.TypedChoiceField(
            label=form.fields[name].label,
            choices=[("", _("All")), *options],
            coerce=int,
            empty_value=None,
            required=False,
            widget=LongSelect,  # every client finance sees: thousands of options
        )
