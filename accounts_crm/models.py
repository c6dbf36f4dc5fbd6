from __future__ import annotations

import pghistory
from django.contrib.auth.models import User
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Base for the product's tables: when a row was made and last changed."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """The last time a background process proved it was alive; read by the health endpoint."""

    class Source(models.TextChoices):
        BEAT = "beat", _("Scheduler (beat)")
        WORKER = "worker", _("Worker")

    source = models.CharField(max_length=20, choices=Source.choices, unique=True)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=["beat", "worker"]), name="heartbeat_source_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"


# Audit of people and roles: who changed a user's details or role membership, and when.
# Django's own tables are tracked through proxies of ours, so that the trigger migrations live in
# this app and not in django.contrib.auth. Passwords and login times are left out: they are
# secrets or noise, not changes someone made.
class AuditedUser(User):
    class Meta:
        proxy = True


class AuditedUserRole(User.groups.through):
    class Meta:
        proxy = True


UserEvent = pghistory.create_event_model(
    AuditedUser,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
    model_name="UserEvent",
    abstract=False,
)

UserRoleEvent = pghistory.create_event_model(
    AuditedUserRole,
    pghistory.InsertEvent("role.added"),
    pghistory.DeleteEvent("role.removed"),
    model_name="UserRoleEvent",
    obj_field=None,
    abstract=False,
)
