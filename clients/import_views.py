"""Pages of the import: upload, the job page (preview, progress, outcome) and its apply button.

The job page polls its own status partial with htmx while the worker checks or applies the file;
the person may leave and come back (the job is kept, listed on the upload page).
"""

from __future__ import annotations

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
        choices=[("", gettext_lazy("Recognize from the columns")), *imports.ImportKind.choices],
        required=False,
        help_text=gettext_lazy("XLSX sheets named clients, sites or contacts are recognized."),
    )


@role_required(*IMPORTERS)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_job_create(
                by=request.user, file=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
            )
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            return redirect("clients:import_preview", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).defer("content", "rows")[:10]
    context = {"form": form, "jobs": jobs, "layouts": _layouts(), "max_rows": imports.MAX_ROWS}
    return render(request, "clients/import_upload.html", context)


@role_required(*IMPORTERS)
def import_job(request: HttpRequest, pk: int, *, partial: bool = False) -> HttpResponse:
    """The job page, or (`partial`, polled by htmx) just its status block."""
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk, created_by=request.user)
    rows = sorted(job.rows, key=lambda row: row["action"] != "error")
    context = {
        "job": job,
        "summary": imports.import_summary(job),
        "rows": rows[:ROWS_SHOWN],
        "rows_hidden": max(0, len(rows) - ROWS_SHOWN),
        "running": job.status in (ImportJob.Status.CHECKING, ImportJob.Status.APPLYING),
        "percent": round(100 * job.progress_done / job.progress_total) if job.progress_total else 0,
    }
    template = "clients/import_job.html" + ("#status" if partial else "")
    return render(request, template, context)


@require_POST
@role_required(*IMPORTERS)
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk, created_by=request.user)
    try:
        imports.import_job_apply_request(by=request.user, job=job)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, _("The import is running. You may leave this page."))
    return redirect("clients:import_preview", pk=job.pk)


@role_required(*IMPORTERS)
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An empty CSV with the columns of one kind, to fill in."""
    if kind not in imports.COLUMNS:
        return redirect("clients:import_upload")
    response = HttpResponse(imports.import_template_csv(kind), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    return response


def _layouts() -> list[dict[str, object]]:
    return [
        {
            "kind": kind,
            "label": label,
            "columns": imports.COLUMNS[kind],
            "required": imports.REQUIRED_COLUMNS[kind],
        }
        for kind, label in imports.ImportKind.choices
    ]
