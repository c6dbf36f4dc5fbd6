from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsCrmConfig(AppConfig):
    name = "accounts_crm"
    verbose_name = _("Accounts CRM")

    def ready(self) -> None:
        # Connects the login-time receiver that the session lifetime depends on, before any
        # request has loaded the middleware (a test's force_login, a login from a command).
        # The same for the receiver that restores a person's chosen language at sign-in.
        from accounts_crm import language, middleware  # noqa: F401
