"""HTML pages for a person's own notifications: the bell's menu, the list, opening one, marking
read, and their preferences (language, e-mail per kind).

Everything here is about the signed-in person's own rows: anyone else's notification is a 404.
htmx requests get a partial of the same template as the page, plus the bell's count out of band
when it changed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_crm import notifications
from accounts_crm.language import set_language_cookie
from accounts_crm.models import Notification, NotificationKind
from accounts_crm.notification_filters import NotificationFilter
from accounts_crm.pages import csv_response, is_htmx_partial, safe_next

PAGE_SIZE = 25
MENU_SIZE = 8  # the latest ones in the bell's dropdown; the list has the rest
LIST_TEMPLATE = "notifications/notification_list.html"


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    filterset = NotificationFilter(
        request.GET, queryset=notifications.notification_list(user=request.user), request=request
    )
    rows = filterset.qs
    if request.GET.get("format") == "csv":
        return csv_response(
            rows.iterator(chunk_size=500),
            filename="notifications.csv",
            header=[_("Created"), _("Kind"), _("Message"), _("Link"), _("Read")],
            row=_csv_row,
        )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page}
    template = f"{LIST_TEMPLATE}#results" if is_htmx_partial(request) else LIST_TEMPLATE
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


def _csv_row(notification: Notification) -> list[Any]:
    read_at = notification.read_at
    return [
        timezone.localtime(notification.created_at).isoformat(timespec="seconds"),
        notification.get_kind_display(),
        notification.message,
        notifications.absolute_url(notification.url) if notification.url else "",
        timezone.localtime(read_at).isoformat(timespec="seconds") if read_at else "",
    ]


@require_GET
def notification_menu(request: HttpRequest) -> HttpResponse:
    """The bell's dropdown (loaded with htmx when it opens): the latest few."""
    latest = notifications.notification_list(user=request.user)[:MENU_SIZE]
    return render(request, "notifications/_menu.html", {"latest": latest})


@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a notification (from the bell, the list or an e-mail): mark it read, go to its page.

    Only local URLs are followed; anything else lands on the list, never on another site.
    """
    notification = notifications.notification_get(user=request.user, pk=pk)
    notifications.notification_mark_read(notification=notification, by=request.user)
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.url)
    return redirect("notifications:list")


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = notifications.notification_get(user=request.user, pk=pk)
    notifications.notification_mark_read(notification=notification, by=request.user)
    if is_htmx_partial(request):
        return render(request, f"{LIST_TEMPLATE}#row", {"notification": notification, "oob": True})
    return redirect(safe_next(request, "notifications:list"))


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.notification_mark_all_read(by=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked read.", "%(count)d notifications marked read.", count
        )
        % {"count": count},
    )
    return redirect(safe_next(request, "notifications:list"))


# Preferences ---------------------------------------------------------------------------------


class PreferencesForm(forms.Form):
    """Language, and e-mail on or off for each kind (one checkbox per kind)."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text=gettext_lazy("Pages, notifications and e-mail use this language."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.conf import settings

        self.fields["language"].choices = settings.LANGUAGES
        for kind in NotificationKind:
            self.fields[self.email_field(kind)] = forms.BooleanField(
                label=kind.label,
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    @staticmethod
    def email_field(kind: str) -> str:
        return f"email_{kind}"

    def email_fields(self) -> list[forms.BoundField]:
        return [self[self.email_field(kind)] for kind in NotificationKind.values]

    def email_choices(self) -> dict[str, bool]:
        return {kind: self.cleaned_data[self.email_field(kind)] for kind in NotificationKind.values}


@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            language = form.cleaned_data["language"]
            notifications.user_preferences_update(
                user=user, language=language, email=form.email_choices()
            )
            response = redirect("notifications:preferences")
            set_language_cookie(response, language)  # the next page is in it already
            with translation.override(language):
                messages.success(request, _("Your preferences are saved."))
            return response
    else:
        initial = {"language": notifications.user_language(user)}
        for kind, on in notifications.notification_preferences(user=user).items():
            initial[PreferencesForm.email_field(kind)] = on
        form = PreferencesForm(initial=initial)
    return render(request, "notifications/preferences.html", {"form": form})
