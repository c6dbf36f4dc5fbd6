"""The notifications API (DRF), under /api/v1/notifications/.

A caller only ever sees their own notifications: anyone else's answers 404, exactly like one that
does not exist. Same selectors, FilterSet and services as the HTML pages
(accounts_crm/notifications.py, accounts_crm/notification_filters.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts_crm import notifications
from accounts_crm.api import ModelSerializer
from accounts_crm.models import Notification, NotificationKind
from accounts_crm.notification_filters import NotificationFilter

router = SimpleRouter()


class NotificationSerializer(ModelSerializer):
    read = serializers.SerializerMethodField(help_text=_("Whether the person has read it."))
    target_type = serializers.SerializerMethodField(
        help_text=_('What it is about, as "app_label.model" (e.g. "projects.milestone"), or null.')
    )

    class Meta:
        model = Notification
        fields = [
            "id", "kind", "message", "url", "target_type", "target_id", "created_at", "read",
            "read_at", "emailed_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "message": {"help_text": _("Already in the recipient's language.")},
            "url": {"help_text": _("Path of the page it is about, on this site (may be empty).")},
        }

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_target_type(self, notification: Notification) -> str | None:
        if notification.target_type_id is None:
            return None
        # ContentType's own cache: one query per type per process, not one per row.
        content_type = ContentType.objects.get_for_id(notification.target_type_id)
        return f"{content_type.app_label}.{content_type.model}"


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text=_("How many notifications were unread."))


class EmailByKindSerializer(serializers.Serializer):
    """One boolean per kind: true sends that kind by e-mail too."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            kind.value: serializers.BooleanField(required=False, help_text=kind.label)
            for kind in NotificationKind
        }


class PreferencesSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("Language of pages, notifications and e-mail."),
    )
    email = EmailByKindSerializer(
        required=False,
        help_text=_("E-mail on or off per kind; kinds left out keep their setting."),
    )


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's own notifications, newest first. Filter with `unread`, `kind`, `q`."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Notification]:
        return notifications.notification_list(user=self.request.user)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark it read (again is harmless)."""
        notification = notifications.notification_mark_read(
            notification=self.get_object(), by=request.user
        )
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: MarkedReadSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark all of the caller's notifications read."""
        count = notifications.notification_mark_all_read(by=request.user)
        return Response(MarkedReadSerializer({"marked_read": count}).data)

    @extend_schema(
        methods=["GET"],
        responses={200: PreferencesSerializer},
        description="The caller's language and e-mail choice per kind.",
    )
    @extend_schema(
        methods=["PATCH"],
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer},
        description="Change the language and/or e-mail per kind; what is left out is kept.",
    )
    @action(detail=False, methods=["get", "patch"], filter_backends=[], pagination_class=None)
    def preferences(self, request: Request) -> Response:
        user = request.user
        if request.method == "PATCH":
            body = PreferencesSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            notifications.user_preferences_update(
                user=user,
                language=body.validated_data.get("language"),
                email=body.validated_data.get("email"),
            )
        return Response(self._preferences(user))

    def _preferences(self, user: Any) -> dict[str, Any]:
        data = {
            "language": notifications.user_language(user),
            "email": notifications.notification_preferences(user=user),
        }
        return PreferencesSerializer(data).data


router.register("notifications", NotificationViewSet, basename="api-notification")
