"""Cross-cutting pieces of the REST API that every app's `api.py` reuses.

- One error shape for every 4xx answer, validation and domain errors alike:
  `{"code": "...", "message": "...", "fields": {"field": ["message", ...]}}` (`exception_handler`).
- `ApiSchema` documents that shape on every operation, so clients (and the schemathesis run in the
  test suite) know every status the API may answer.
- `VisibleRelatedFieldsMixin`: ids in a payload can only name rows the caller sees; a foreign id is
  a validation error, exactly like an id that does not exist.
- `PolicyPermission` + `ServiceViewSetMixin`: reads follow `visible_to` (an invisible row is 404),
  writes follow the app's policies (a visible row the caller may not change is 403) and go through
  services, never through `serializer.save()`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Manager
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts_crm.access import AccessQuerySet, AnyUser
from accounts_crm.errors import ConcurrentEditError, DomainError, NotAllowedError

# Keys under which DRF and Django put errors that belong to no single field.
NON_FIELD_KEYS = frozenset({api_settings.NON_FIELD_ERRORS_KEY, "__all__"})


# Errors ------------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "concurrent_edit"


def _domain_to_api(exc: Exception) -> Exception:
    """Services speak Django and domain errors; DRF's handler speaks APIException."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(serializers.as_serializer_error(exc))
    if isinstance(exc, NotAllowedError):
        return exceptions.PermissionDenied(exc.message, code=exc.code)
    if isinstance(exc, ConcurrentEditError):
        return Conflict(exc.message, code=exc.code)
    if isinstance(exc, DomainError):
        return exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [exc.message]}, exc.code
        )
    return exc


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Field errors as `{"field": [messages]}`; nested ones as `{"items.0.name": [...]}`."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list) and any(isinstance(item, (Mapping, list)) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            for field, messages in _flatten(value, f"{prefix}.{index}").items():
                flat.setdefault(field, []).extend(messages)
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix: [str(item) for item in items]}


def _first_code(codes: Any) -> str | None:
    if isinstance(codes, Mapping):
        codes = list(codes.values())
    if isinstance(codes, list):
        for code in codes:
            found = _first_code(code)
            if found:
                return found
        return None
    return str(codes) if codes else None


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """The one error shape: a stable code, a sentence for people, messages per field."""
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        general = [m for key in NON_FIELD_KEYS for m in fields.pop(key, [])]
        if "" in fields:  # a bare message or list: not about one field
            general += fields.pop("")
        code = exc.default_code
        if not fields and general:
            code = _first_code(exc.get_codes()) or code
        message = " ".join(general) or _("Some fields are not valid; see the field messages.")
        return {"code": code, "message": message, "fields": fields}
    detail = exc.detail
    code = _first_code(exc.get_codes()) if not isinstance(detail, str) else detail.code
    return {
        "code": code or exc.default_code,
        "message": " ".join(_flatten(detail).get("", []))
        if not isinstance(detail, str)
        else detail,
        "fields": {},
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every handled error leaves in the same shape."""
    exc = _domain_to_api(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    response.data = error_body(exc)
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL under /api/ that matches no endpoint answers in the one error shape.

    (`/api/v1/clients/abc/` never reaches DRF: the router only routes ids.) Pages keep
    Django's HTML 404.
    """
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(exceptions.NotFound()), status=404)
    return defaults.page_not_found(request, exception)


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer."""

    code = serializers.CharField(
        help_text="Stable code to branch on: invalid, not_allowed, concurrent_edit, not_found, ..."
    )
    message = serializers.CharField(help_text="A sentence for people, in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field of the request body or query (empty when none).",
    )


# Schema ------------------------------------------------------------------------------------------


class ApiSchema(AutoSchema):
    """Every operation documents the error answers it can give, in the one error shape."""

    # Extra statuses an operation may declare with `extend_schema(responses=...)` are kept.
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {
            "400": _("Invalid input (fields, filters) or a rule the change would break."),
            "401": _("No valid credentials (session or `Authorization: Token ...`)."),
            "403": _("Signed in, but your role does not allow this."),
        }
        if self._path_has_parameters():
            errors["404"] = _("No such row, or one you may not see.")
        elif self.method == "GET" and self._is_list_view():
            errors["404"] = _("No such page.")
        for code, description in errors.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                body["description"] = str(description)
                responses[code] = body
        return responses

    def _path_has_parameters(self) -> bool:
        return "{" in self.path


# Related ids -------------------------------------------------------------------------------------


class VisibleRelatedFieldsMixin:
    """Restrict every related-id field whose model has `visible_to` to rows the caller sees.

    Without it, `PrimaryKeyRelatedField(queryset=Site.objects.all())` would let a NAM attach a
    contact to another company's site, and tell them by the error which ids exist.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        for field in fields.values():
            relation = (
                field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            )
            queryset = getattr(relation, "queryset", None)
            if isinstance(queryset, Manager):  # ModelSerializer passes the default manager
                queryset = queryset.all()
            if isinstance(queryset, AccessQuerySet):
                relation.queryset = queryset.visible_to(user) if user else queryset.none()
        return fields


class UTCDateTimeField(serializers.DateTimeField):
    """Moments in UTC (`...Z`), in and out.

    In local time, a date before the 1890s carries Rome's mean time offset, +00:49:56, which
    RFC 3339 (and so the schema's `date-time`) cannot write; offsets are also normalised before
    they reach PostgreSQL, which refuses more than 16 hours.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(*args, **kwargs)


class ModelSerializer(VisibleRelatedFieldsMixin, serializers.ModelSerializer):
    """Base of every API model serializer: visible related ids only, moments in UTC."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
    }


# Permissions and viewsets ------------------------------------------------------------------------

Policy = Callable[[AnyUser, Any], bool]


class PolicyPermission(permissions.IsAuthenticated):
    """Signed in to do anything; writes on a row (that the caller sees) need the view's policy.

    The view names who may create (`may_create(user)`) and who may change or delete a row
    (`may_change(user, row)`). Services check the same policies again: this layer only answers
    403 before a body is parsed, so a read-only user never learns about validation rules.
    """

    message = gettext_lazy("Your role on this account does not allow this change.")
    code = NotAllowedError.code

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method == "POST" and getattr(view, "action", None) == "create":
            return view.may_create(request.user)
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return view.may_change(request.user, obj)


class ServiceViewSetMixin:
    """Writes through services: the serializer validates, the view builds the row, a service saves.

    Subclasses implement `perform_create` / `perform_update` / `perform_destroy` by calling their
    service, and set `serializer.instance` to the saved row re-read through the list selector so the
    answer looks exactly like a list row.
    """

    permission_classes: ClassVar[list[type[permissions.BasePermission]]] = [PolicyPermission]

    def may_create(self, user: AnyUser) -> bool:
        return True  # the service decides, once the payload names the client

    def may_change(self, user: AnyUser, obj: Any) -> bool:
        return True

    def reread(self, row: Any) -> Any:
        """The saved row as list and retrieve show it (annotations included).

        A change can take the row out of the caller's sight (a team lead gives a client to
        another team); the answer then shows the saved row without the list's extras.
        """
        return self.get_queryset().filter(pk=row.pk).first() or row  # type: ignore[attr-defined]


class AnnotationMixin:
    """A read-only value the list selector annotates; None on a row that did not come from it."""

    def get_attribute(self, instance: Any) -> Any:
        return getattr(instance, self.source, None)  # type: ignore[attr-defined]


class IntegerAnnotation(AnnotationMixin, serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)


class CharAnnotation(AnnotationMixin, serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)
