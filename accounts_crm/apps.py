from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsCrmConfig(AppConfig):
    name = "accounts_crm"
    verbose_name = _("Accounts CRM")
