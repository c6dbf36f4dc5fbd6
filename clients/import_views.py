"""Pages of the import: upload, the job page (preview, progress, outcome) and its apply button.

The job page polls its own status partial with htmx while the worker checks or applies the file;
the person may leave and come back (the job is kept, listed on the upload page).

The pages serve every import group (clients/imports.py GROUPS) from the same templates: each
group mounts them in its own URL namespace through the `group_*` views below (the clients' at
/clients/import/, the catalogue's at /orders/imports/), and a job is found only on its group's
pages, only by whoever uploaded it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts_crm.access import Role, role_required
from accounts_crm.errors import DomainError
from clients import imports
from clients.models import ImportJob

IMPORTERS = (Role.TEAM_LEAD, Role.ACCOUNT_STAFF)  # and admin; finance changes no client
# Rows shown on the job page, errors first; the counts above the table cover every row.
ROWS_SHOWN = 500


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8, comma or semicolon) or Excel XLSX, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        required=False,
        help_text=gettext_lazy("XLSX sheets named after what they hold are recognized."),
    )

    def __init__(self, *args: Any, group: imports.ImportGroup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            ("", gettext_lazy("Recognize from the columns")),
            *((spec.kind, spec.label) for spec in imports.group_kinds(group)),
        ]


# The views of any group ---------------------------------------------------------------------


def group_upload(request: HttpRequest, *, group: str) -> HttpResponse:
    import_group = imports.get_group(group)
    form = ImportUploadForm(request.POST or None, request.FILES or None, group=import_group)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_job_create(
                by=request.user,
                file=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                group=group,
            )
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            return redirect(f"{import_group.url_namespace}:import_preview", pk=job.pk)
    jobs = _jobs(request, group).defer("content", "rows")[:10]
    context = {
        "form": form,
        "jobs": jobs,
        "layouts": _layouts(import_group),
        "max_rows": imports.MAX_ROWS,
        "import_group": import_group,
        "ns": import_group.url_namespace,
    }
    return render(request, "clients/import_upload.html", context)


def group_job(request: HttpRequest, pk: int, *, group: str, partial: bool = False) -> HttpResponse:
    """The job page, or (`partial`, polled by htmx) just its status block."""
    import_group = imports.get_group(group)
    job = get_object_or_404(_jobs(request, group).defer("content"), pk=pk)
    row_labels = {spec.kind: spec.row_label for spec in imports.group_kinds(import_group)}
    rows = sorted(job.rows, key=lambda row: row["action"] != "error")
    context = {
        "job": job,
        "summary": imports.import_summary(job),
        "rows": [
            {**row, "kind_label": row_labels.get(row["kind"], row["kind"])}
            for row in rows[:ROWS_SHOWN]
        ],
        "rows_hidden": max(0, len(rows) - ROWS_SHOWN),
        "running": job.status in (ImportJob.Status.CHECKING, ImportJob.Status.APPLYING),
        "percent": round(100 * job.progress_done / job.progress_total) if job.progress_total else 0,
        "import_group": import_group,
        "ns": import_group.url_namespace,
    }
    template = "clients/import_job.html" + ("#status" if partial else "")
    return render(request, template, context)


def group_apply(request: HttpRequest, pk: int, *, group: str) -> HttpResponse:
    namespace = imports.get_group(group).url_namespace
    job = get_object_or_404(_jobs(request, group).defer("content"), pk=pk)
    try:
        imports.import_job_apply_request(by=request.user, job=job)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, _("The import is running. You may leave this page."))
    return redirect(f"{namespace}:import_preview", pk=job.pk)


def group_template(request: HttpRequest, kind: str, *, group: str) -> HttpResponse:
    """An empty CSV with the columns of one kind, to fill in."""
    import_group = imports.get_group(group)
    if kind not in import_group.kinds:
        return redirect(f"{import_group.url_namespace}:import_upload")
    response = HttpResponse(imports.import_template_csv(kind), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    return response


def _jobs(request: HttpRequest, group: str) -> Any:
    """The person's own jobs of this group: anyone else's answers 404."""
    return ImportJob.objects.filter(created_by=request.user, group=group)


def _layouts(group: imports.ImportGroup) -> list[dict[str, object]]:
    return [
        {"kind": spec.kind, "label": spec.label, "columns": spec.columns, "required": spec.required}
        for spec in imports.group_kinds(group)
    ]


# The clients' import (clients/import_urls.py) ---------------------------------------------


@role_required(*IMPORTERS)
def import_upload(request: HttpRequest) -> HttpResponse:
    return group_upload(request, group="clients")


@role_required(*IMPORTERS)
def import_job(request: HttpRequest, pk: int, *, partial: bool = False) -> HttpResponse:
    return group_job(request, pk, group="clients", partial=partial)


@require_POST
@role_required(*IMPORTERS)
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    return group_apply(request, pk, group="clients")


@role_required(*IMPORTERS)
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    return group_template(request, kind, group="clients")
