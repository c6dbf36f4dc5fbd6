"""Who may see and do what: the one module every selector, view and API endpoint goes through.

System roles are Django groups (`Role`). What a person sees follows DESIGN.md:

- admin sees everything; finance sees every client read-only (and has full rights in billing);
- everyone else sees a client, and everything hanging off it, when they are on its account team
  or lead a team that owns it.

Models that hang off a client give their querysets `AccessQuerySet` and name the path to the
client in `client_path`; `Model.objects.visible_to(user)` is then the only way selectors start.
A row a person may not see answers 404 (`get_visible_or_404`), never 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

AnyUser = User | AnonymousUser


class Role(models.TextChoices):
    ACCOUNT_STAFF = "account_staff", _("Account staff")
    TEAM_LEAD = "team_lead", _("Team lead")
    FINANCE = "finance", _("Finance")
    ADMIN = "admin", _("Administrator")


def roles_of(user: AnyUser) -> frozenset[Role]:
    """The system roles of a user, read once per request and kept on the user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_crm_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMIN)
        cached = frozenset(Role(name) for name in names)
        user._crm_roles = cached  # type: ignore[union-attr]
    return cached


def has_role(user: AnyUser, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))


def is_admin(user: AnyUser) -> bool:
    return has_role(user, Role.ADMIN)


def reads_every_client(user: AnyUser) -> bool:
    """Admin and finance read the whole book; finance may not change what is outside billing."""
    return has_role(user, Role.ADMIN, Role.FINANCE)


def whole_book_reader(name: str) -> User:
    """An in-memory principal that reads every client, as an administrator does.

    For background jobs that reuse selectors (which start from `visible_to(user)`) over the whole
    book: never saved, never signed in, and its role is set here, so asking it costs no query.
    """
    principal = User(username=name, is_active=True, is_superuser=True)
    principal._crm_roles = frozenset({Role.ADMIN})  # type: ignore[attr-defined]
    return principal


def ensure_role_groups() -> None:
    """Create the role groups (idempotent); migrations and the demo data call it."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def client_scope(user: AnyUser) -> models.QuerySet | None:
    """Ids of the clients `user` works on (account team, led team); None when no rule is set."""
    if not settings.ACCESS_CLIENT_SCOPE:
        return None
    scope: Callable[[AnyUser], models.QuerySet] = import_string(settings.ACCESS_CLIENT_SCOPE)
    return scope(user)


class AccessQuerySet(models.QuerySet):
    """Base queryset for every model a person may or may not see.

    `client_path` is the lookup from the model to its client: `"pk"` for the client itself,
    `"client"` for a contact, `"order__client"` for an order line.
    """

    client_path: ClassVar[str] = "client"

    def visible_to(self, user: AnyUser) -> AccessQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if reads_every_client(user):
            return self
        scope = client_scope(user)
        if scope is None:
            return self.none()
        return self.filter(Q(**{f"{self.client_path}__in": scope}))


def get_visible_or_404(queryset: AccessQuerySet, user: AnyUser, **lookups: Any) -> Any:
    """Fetch one row the user may see; a row they may not see does not exist for them."""
    try:
        return queryset.visible_to(user).get(**lookups)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None


def role_required(*roles: Role) -> Callable:
    """View decorator: only people holding one of `roles` (admin always) may use the page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not has_role(request.user, Role.ADMIN, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
