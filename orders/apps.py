from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # The client page's sections (clients/views.py), before its history.
        from clients.views import ClientSection, add_client_sections
        from orders import views

        add_client_sections(
            ClientSection("orders", _("Orders"), "orders/_section_orders.html",
                          views.client_orders_context),
            ClientSection("contracts", _("Contracts"), "orders/_section_contracts.html",
                          views.client_contracts_context),
            ClientSection("opportunities", _("Opportunities"),
                          "orders/_section_opportunities.html",
                          views.client_opportunities_context),
            ClientSection("reorders", _("Reorders due"), "orders/_section_reorders.html",
                          views.client_reorders_context),
            ClientSection("whitespace", _("Whitespace"), "orders/_section_whitespace.html",
                          views.client_whitespace_context),
        )  # fmt: skip
