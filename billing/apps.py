from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from accounts_crm.pages import register_page_link
        from billing import sdi_rules, views

        # The exchange system's (SdI) own checks run as one more invoice-check rule.
        sdi_rules.register_with_checks()

        # Finance invoices an order, or a project's completed milestones, from their pages.
        register_page_link("orders.order", views.invoice_order_link)
        register_page_link("projects.project", views.invoice_project_link)

        # The client page's sections (clients/views.py), before its history.
        from clients.views import ClientSection, add_client_sections

        add_client_sections(
            ClientSection("invoices", _("Invoices"), "billing/_section_invoices.html",
                          views.client_invoices_context),
            ClientSection("findings", _("Invoice findings"), "billing/_section_findings.html",
                          views.client_findings_context),
        )  # fmt: skip
