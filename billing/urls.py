from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/print/", views.invoice_print, name="invoice_print"),
    path("invoices/<int:pk>/einvoice/", views.invoice_einvoice, name="invoice_einvoice"),
    path(
        "invoices/<int:pk>/einvoice/<int:export_pk>/",
        views.einvoice_download,
        name="einvoice_download",
    ),
    path("invoices/einvoice-batch/", views.einvoice_batch, name="einvoice_batch"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/delete/", views.invoice_delete, name="invoice_delete"),
    path("invoices/<int:pk>/lines/add/", views.line_add, name="line_add"),
    path("invoices/<int:pk>/lines/<int:line_pk>/edit/", views.line_edit, name="line_edit"),
    path("invoices/<int:pk>/lines/<int:line_pk>/delete/", views.line_delete, name="line_delete"),
    path("invoices/<int:pk>/check/", views.invoice_check, name="invoice_check"),
    path("invoices/<int:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/payments/add/", views.payment_add, name="payment_add"),
    path(
        "invoices/<int:pk>/payments/<int:payment_pk>/delete/",
        views.payment_delete,
        name="payment_delete",
    ),
    path("invoices/<int:pk>/credit-note/", views.credit_note_create, name="credit_note_create"),
    path("findings/<int:pk>/override/", views.finding_override, name="finding_override"),
    path("findings/<int:pk>/comment/", views.finding_comment, name="finding_comment"),
    path("review/", views.review_queue, name="review_queue"),
    path("receivables/", views.receivables, name="receivables"),
]
