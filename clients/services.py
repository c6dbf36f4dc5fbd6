"""Every write on clients and what hangs off them: atomic, policy-checked, audited by triggers.

Forms and API serializers validate input and build an unsaved (or edited) instance; the service
checks the person's rights, runs the model's validation, saves, and turns a database constraint
into a clear `ValidationError` instead of a server error.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts_crm.access import AnyUser
from accounts_crm.errors import ConcurrentEditError
from clients import policies
from clients.errors import ClientHierarchyError, not_allowed
from clients.models import (
    AccountPlan,
    AccountTeamMember,
    Activity,
    Client,
    Contact,
    Site,
    Team,
)

# One lock for every change to a hierarchy (group, org chart): two concurrent moves (A under B,
# B under A) would each pass the cycle check alone and make a cycle together.
HIERARCHY_LOCK = 0x636C_6965  # "clie"

ANCESTORS_SQL = """
WITH RECURSIVE ancestors(id, up) AS (
    SELECT id, {up} FROM {table} WHERE id = %s
    UNION ALL
    SELECT t.id, t.{up} FROM {table} t JOIN ancestors a ON t.id = a.up
)
SELECT EXISTS (SELECT 1 FROM ancestors WHERE id = %s)
"""


def _save[M: models.Model](instance: M, *, exclude: Iterable[str] = ()) -> M:
    """Validate and save, turning a violated constraint into a message on the right field."""
    instance.full_clean(exclude=list(exclude))
    with _constraint_messages():
        instance.save()
    return instance


@contextmanager
def _constraint_messages() -> Iterator[None]:
    """Run a write in a savepoint; a violated constraint becomes its model's message.

    `full_clean()` catches most violations first; this covers the race where another
    transaction commits the conflicting row between the check and the write.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        constraint = next(
            (c for model in apps.get_app_config("clients").get_models()
             for c in model._meta.constraints if c.name == name),
            None,
        )  # fmt: skip
        if constraint is None:
            raise
        fields = getattr(constraint, "fields", ())
        key = fields[0] if constraint.violation_error_code == "unique" else NON_FIELD_ERRORS
        raise ValidationError({key: constraint.get_violation_error_message()}, code=name) from error


def _is_own_ancestor(field: models.ForeignKey, *, start_id: int, candidate_id: int) -> bool:
    """Whether `candidate_id` is `start_id` or one of its ancestors through the self-key `field`."""
    sql = ANCESTORS_SQL.format(table=field.model._meta.db_table, up=field.column)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HIERARCHY_LOCK])
        cursor.execute(sql, [start_id, candidate_id])
        return bool(cursor.fetchone()[0])


# Clients -----------------------------------------------------------------------------------------


@transaction.atomic
def client_create(*, by: AnyUser, client: Client) -> Client:
    if not policies.can_create_client(by, client.team if client.team_id else None):
        raise not_allowed()
    parent = client.parent
    client.parent = None
    _save(client)
    if parent is not None:
        client_set_parent(client=client, parent=parent, by=by)
    return client


@transaction.atomic
def client_update(*, by: AnyUser, client: Client, version: int) -> Client:
    """Save an edited client unless someone else saved it since `version` was read."""
    if not policies.can_manage_client(by, client):
        raise not_allowed()
    client.full_clean(exclude=["parent"])
    fields = {
        f.attname: getattr(client, f.attname)
        for f in Client._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in ("parent", "created_at")
    }
    fields["updated_at"] = timezone.now()
    with _constraint_messages():
        updated = Client.objects.filter(pk=client.pk, version=version).update(
            **fields, version=F("version") + 1
        )
    if not updated:
        raise ConcurrentEditError(
            _(
                "Someone else changed this client after you opened it. "
                "Reload it to see their changes."
            )
        )
    current = Client.objects.get(pk=client.pk)
    if client.parent_id != current.parent_id:
        client_set_parent(client=current, parent=client.parent, by=by)
    return current


def client_set_parent(*, client: Client, parent: Client | None, by: AnyUser) -> Client:
    """Move `client` under `parent` (or make it a group head), refusing any cycle."""
    if not policies.can_manage_client(by, client):
        raise not_allowed()
    with transaction.atomic():
        if parent is not None and _is_own_ancestor(
            Client._meta.get_field("parent"), start_id=parent.pk, candidate_id=client.pk
        ):
            raise ClientHierarchyError(
                _("%(client)s cannot belong to %(parent)s: it would be its own parent.")
                % {"client": client, "parent": parent}
            )
        Client.objects.filter(pk=client.pk).update(parent=parent, updated_at=timezone.now())
        client.parent = parent
    return client


@transaction.atomic
def client_delete(*, by: AnyUser, client: Client) -> None:
    if not policies.can_delete_client(by):
        raise not_allowed()
    if client.subsidiaries.exists():
        raise ValidationError(_("Move or delete its subsidiaries first."), code="has_subsidiaries")
    _delete(client, _("This client still has %(kinds)s; it can be made inactive instead."))


def _delete(row: models.Model, message: str) -> None:
    """Delete `row`; rows that other apps keep (orders, projects, invoices...) refuse in words.

    `message` names the protecting kinds through `%(kinds)s`.
    """
    try:
        with transaction.atomic():
            row.delete()
    except models.ProtectedError as error:
        kinds = sorted({str(other._meta.verbose_name_plural) for other in error.protected_objects})
        raise ValidationError(message % {"kinds": ", ".join(kinds)}, code="protected") from None


# Account team ------------------------------------------------------------------------------------


@transaction.atomic
def account_team_member_add(*, by: AnyUser, member: AccountTeamMember) -> AccountTeamMember:
    """Put someone on the account team; a new NAM takes over from the current one."""
    client = member.client
    if not policies.can_manage_client(by, client):
        raise not_allowed()
    if member.role == AccountTeamMember.Role.NAM and member.ends_on is None:
        for current in AccountTeamMember.objects.select_for_update().filter(
            client=client, role=AccountTeamMember.Role.NAM, ends_on__isnull=True
        ):
            if current.user_id == member.user_id:
                raise ValidationError(
                    {"user": _("This person is already the NAM of this account.")}
                )
            account_team_member_end(by=by, member=current, on=member.starts_on)
    return _save(member)


@transaction.atomic
def account_team_member_end(
    *, by: AnyUser, member: AccountTeamMember, on: datetime.date | None = None
) -> None:
    """Take someone off the account team; their access ends with their next request.

    The last day on the team is the day before `on` (today by default); a membership that had
    not started yet is simply removed.
    """
    if not policies.can_manage_client(by, member.client):
        raise not_allowed()
    on = on or timezone.localdate()
    if member.ends_on is not None and member.ends_on < on:
        return  # ended already: moving its end date would rewrite the account team's history
    if member.starts_on >= on:
        member.delete()
        return
    member.ends_on = on - datetime.timedelta(days=1)
    member.save(update_fields=["ends_on", "updated_at"])


# Sites, contacts, activities, plans -------------------------------------------------------------


@transaction.atomic
def site_save(*, by: AnyUser, site: Site) -> Site:
    if not policies.can_work_on_client(by, site.client):
        raise not_allowed()
    return _save(site)


@transaction.atomic
def contact_save(*, by: AnyUser, contact: Contact) -> Contact:
    if not policies.can_work_on_client(by, contact.client):
        raise not_allowed()
    errors = {}
    if contact.site_id and contact.site.client_id != contact.client_id:
        errors["site"] = _("The site belongs to another client.")
    if contact.reports_to_id:
        if contact.reports_to.client_id != contact.client_id:
            errors["reports_to"] = _("The manager must be a contact of the same client.")
        elif contact.pk and _is_own_ancestor(
            Contact._meta.get_field("reports_to"),
            start_id=contact.reports_to_id,
            candidate_id=contact.pk,
        ):
            errors["reports_to"] = _(
                "%(contact)s cannot report to someone who reports to them."
            ) % {"contact": contact}
    if errors:
        raise ValidationError(errors)
    return _save(contact)


@transaction.atomic
def activity_log(*, by: AnyUser, activity: Activity, contacts: Iterable[Contact] = ()) -> Activity:
    if not policies.can_work_on_client(by, activity.client):
        raise not_allowed()
    contacts = list(contacts)
    if any(contact.client_id != activity.client_id for contact in contacts):
        raise ValidationError({"contacts": _("Every contact must belong to this client.")})
    if activity.author_id is None:
        activity.author = by
    _save(activity)
    activity.contacts.set(contacts)
    return activity


@transaction.atomic
def account_plan_save(*, by: AnyUser, plan: AccountPlan) -> AccountPlan:
    if not policies.can_manage_client(by, plan.client):
        raise not_allowed()
    return _save(plan)


@transaction.atomic
def child_delete(*, by: AnyUser, row: Site | Contact | Activity | AccountPlan) -> None:
    """Delete a site, contact, activity or plan; plans need the account's managers."""
    allowed = (
        policies.can_manage_client(by, row.client)
        if isinstance(row, AccountPlan)
        else policies.can_work_on_client(by, row.client)
    )
    if not allowed:
        raise not_allowed()
    _delete(row, _("This is still used by %(kinds)s; change those first."))


def team_save(*, by: AnyUser, team: Team, members: Iterable[Any] | None = None) -> Team:
    from accounts_crm.access import is_admin

    if not is_admin(by):
        raise not_allowed()
    with transaction.atomic():
        _save(team)
        if members is not None:
            team.members.set(members)
    return team


def apply_fields[M: models.Model](instance: M, data: Mapping[str, Any]) -> M:
    """Copy validated input onto an instance (plain fields and foreign keys, not many-to-many)."""
    for name, value in data.items():
        setattr(instance, name, value)
    return instance
