"""A person's language follows them: remembered when they switch, restored when they sign in.

Django 6 keeps the chosen language only in a cookie (LocaleMiddleware reads it; the session no
longer holds it), so a new browser or a cleared cookie would forget it, and jobs that notify a
person could not know it. UserPreferences.language keeps it; this module connects the two:

- the language switch (Django's `set_language` view, untouched) sets the cookie; the middleware
  sees that a signed-in person did so and stores the language in their preferences;
- signing in sets the cookie (and the language of the rest of that request) to the stored one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts_crm.models import UserPreferences

# Set on the request by the sign-in receiver, read by the middleware on the way out.
LOGIN_LANGUAGE = "_crm_login_language"
SET_LANGUAGE_VIEW = "set_language"


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """The cookie exactly as Django's set_language view writes it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@receiver(user_logged_in)
def _restore_language(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    if request is None:
        return
    language = UserPreferences.objects.filter(user=user).values_list("language", flat=True).first()
    if language is None:  # never chose: the browser's language (cookie, Accept-Language) stays
        return
    translation.activate(language)
    request.LANGUAGE_CODE = language
    setattr(request, LOGIN_LANGUAGE, language)


class UserLanguageMiddleware:
    """Stores a signed-in person's language switch; writes the cookie after a sign-in.

    Goes after AuthenticationMiddleware (it reads request.user).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        login_language = getattr(request, LOGIN_LANGUAGE, None)
        if login_language:
            set_language_cookie(response, login_language)
        elif self._is_language_switch(request):
            # set_language writes the cookie only for a valid language, so the cookie is the
            # answer to "did the switch work, and to what".
            morsel = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
            if morsel is not None and morsel.value in dict(settings.LANGUAGES):
                from accounts_crm.notifications import user_language_remember

                user_language_remember(user=request.user, language=morsel.value)
        return response

    @staticmethod
    def _is_language_switch(request: HttpRequest) -> bool:
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        return (
            request.method == "POST"
            and match is not None
            and match.view_name == SET_LANGUAGE_VIEW
            and user is not None
            and user.is_authenticated
        )
