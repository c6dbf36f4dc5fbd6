from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework.views import APIView

SESSION_LOGIN_AT = "crm_login_at"


@receiver(user_logged_in)
def _remember_login_time(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_LOGIN_AT] = int(time.time())


class SessionLifetimeMiddleware:
    """Ends a session once it is older than SESSION_ABSOLUTE_LIFETIME, however active it is.

    The idle timeout is Django's own (SESSION_COOKIE_AGE renewed on every request); this adds
    the absolute cap that a stolen but busy session cookie would otherwise escape.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            login_at = request.session.get(SESSION_LOGIN_AT)
            if login_at is None or time.time() - login_at > settings.SESSION_ABSOLUTE_LIFETIME:
                logout(request)
                messages.info(request, _("Your session has expired. Please sign in again."))
                if not request.path.startswith("/api/"):
                    return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's login wall for pages; API views answer 401/403 through DRF's own permissions.

    An integrator with a token must get a status code, not a redirect to an HTML login form.
    """

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[object, ...],
        view_kwargs: dict[str, object],
    ) -> HttpResponse | None:
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
