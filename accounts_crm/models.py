from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils import timezone
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


# Notifications ------------------------------------------------------------------------------------
# The service that creates and delivers them is accounts_crm/notifications.py.


class NotificationKind(models.TextChoices):
    """What a notification is about. Apps to the right of accounts_crm notify with these values;
    a new kind is a new member here (and a migration for the check constraint)."""

    MILESTONE_DUE = "milestone_due", _("Milestone due")
    TASK_DUE = "task_due", _("Task due")
    CONTRACT_RENEWAL = "contract_renewal", _("Contract renewal")
    CASE_SLA = "case_sla", _("Service case past its SLA")
    REORDER_DUE = "reorder_due", _("Reorder due")
    INVOICE_FINDING = "invoice_finding", _("Invoice check finding")
    PAYMENT_OVERDUE = "payment_overdue", _("Payment overdue")
    COMMITMENT_PACE = "commitment_pace", _("Contract commitment pace")
    OTHER = "other", _("Other")


# Callables, so that migrations do not freeze the list of languages.
def _language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


def _default_language() -> str:
    return settings.LANGUAGE_CODE


class UserPreferences(models.Model):
    """A person's settings that outlive a browser: the language of their pages, notifications
    and e-mail. No row means the defaults (settings.LANGUAGE_CODE)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="preferences", verbose_name=_("user")
    )
    language = models.CharField(
        _("language"), max_length=10, choices=_language_choices, default=_default_language
    )

    class Meta:
        verbose_name = _("user preferences")
        verbose_name_plural = _("user preferences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="userpreferences_language_valid",
                violation_error_message=_("Choose one of the product's languages."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class NotificationPreference(models.Model):
    """Whether a person wants e-mail for one kind of notification. No row means yes: deadlines
    should find people unless they opted out. In-app notifications are always kept."""

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    email = models.BooleanField(_("by e-mail"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"],
                name="notificationpreference_one_per_user_and_kind",
                violation_error_message=_("This person already has a preference for this kind."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=NotificationKind.values),
                name="notificationpreference_kind_valid",
                violation_error_message=_("Unknown notification kind."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {'e-mail' if self.email else 'in-app only'}"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def visible_to(self, user: User) -> NotificationQuerySet:
        """A person only ever sees their own notifications (anyone else's answers 404)."""
        return self.filter(user_id=user.pk) if user.is_authenticated else self.none()

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person should know, once: in-app (the bell, the list) and by e-mail.

    `key` names the effect ("milestone:42:due-7d"); (user, key) is unique, so a job that runs
    twice, or two workers running it at once, notify once. `message` is stored already rendered
    in the recipient's language at creation time.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    key = models.CharField(_("key"), max_length=200)
    message = models.TextField(_("message"))
    # A local URL (path) to the thing the notification is about; opening it goes there.
    url = models.CharField(_("link"), max_length=500, blank=True)
    target_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("target type"),
    )
    target_id = models.BigIntegerField(_("target id"), null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # The dedupe key: notify() inserts with ON CONFLICT (user_id, key) DO NOTHING.
            models.UniqueConstraint(
                fields=["user", "key"],
                name="notification_once_per_user_and_key",
                violation_error_message=_("This person was already notified of this."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=NotificationKind.values),
                name="notification_kind_valid",
                violation_error_message=_("Unknown notification kind."),
            ),
            models.CheckConstraint(
                condition=~models.Q(key=""),
                name="notification_key_not_empty",
                violation_error_message=_("A notification needs a key."),
            ),
            models.CheckConstraint(
                condition=models.Q(target_type__isnull=True, target_id__isnull=True)
                | models.Q(target_type__isnull=False, target_id__isnull=False),
                name="notification_target_complete",
                violation_error_message=_("A target needs both its type and its id."),
            ),
        ]
        indexes = [
            # The list and the bell's dropdown: a person's newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_newest"),
            # The bell's unread count, on every page: only unread rows are in the index.
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_user_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.message[:60]}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
