from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        from accounts_crm.pages import register_page_panel
        from dashboards import compliance_views

        # Contract compliance on the contract page; orders never imports dashboards.
        register_page_panel("orders.contract", compliance_views.contract_compliance_panel)

        # The client page's sections (clients/views.py), before its history.
        from clients.views import ClientSection, add_client_sections

        add_client_sections(
            ClientSection("compliance", _("Contract compliance"),
                          "dashboards/_compliance_section.html",
                          compliance_views.client_compliance_context),
        )  # fmt: skip
