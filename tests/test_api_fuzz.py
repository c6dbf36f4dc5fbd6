"""Fuzz the whole API with schemathesis: no server errors, no answer that breaks the schema.

The schema is the one the app serves at /api/schema/, loaded through WSGI, so every endpoint a
later issue adds is fuzzed by this test without touching it. It runs as a NAM and as finance
(read-only on clients), against a small book committed to the test database. Detail URLs of
resources the book has rows for point at a real row, so updates and deletes get past the 404.

Bounded and reproducible: few examples per operation, derandomized Hypothesis, no shrinking.

One pytest test per caller loops over the operations itself instead of using
`schemathesis.pytest.from_fixture(...).parametrize()`: that loader (schemathesis 4.32) sets
`request.node._nodeid`, which pytest 9 no longer has, and it is the only way to load a schema
that needs the test database (the token) at test time.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clients.models import Client
from tests.clients.api_book import make_book

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 12
DETAIL = re.compile(r"^/api/v1/(?P<resource>[^/]+)/\{id\}/$")


def make_caller(principal: str) -> dict[str, Any]:
    """The caller's token and the ids of the book's rows, by resource path."""
    book = make_book()
    user = book.a.nam if principal == "nam" else book.finance
    side = book.a
    return {
        "token": Token.objects.create(user=user).key,
        # Random ids almost never name a row the caller sees, so positive bodies would all stop
        # at "invalid pk"; these point the references a body has at the book's rows instead.
        "references": {
            "client": side.client.pk,
            "site": side.site.pk,
            "reports_to": side.contact.pk,
            "contacts": [side.contact.pk],
            "parent": None,
            "team": side.team.pk,
            # The account's own NAM: a generated "nam" membership for anyone else would hand
            # the account over and lock the NAM out of the rest of the run.
            "user": side.nam.pk,
            "lead": side.lead.pk,
            "members": [side.nam.pk],
        },
        "rows": {
            "clients": side.client.pk,
            "sites": side.site.pk,
            "contacts": side.contact.pk,
            "account-team-members": side.membership.pk,
            "activities": side.activity.pk,
            "account-plans": side.plan.pk,
            "teams": side.team.pk,
        },
    }


def fuzz(operation: Any, mode: GenerationMode, principal: dict[str, Any]) -> str | None:
    """Run one operation's examples; the first failure, described, or None."""
    auth = {"Authorization": f"Token {principal['token']}"}
    match = DETAIL.match(operation.path)
    fixed = None
    # Negative cases need something to break: without a body, that is the id itself.
    has_body = operation.method.upper() in ("POST", "PUT", "PATCH")
    wants_real_row = mode is GenerationMode.POSITIVE or has_body
    if match and match["resource"] in principal["rows"] and wants_real_row:
        fixed = {"id": principal["rows"][match["resource"]]}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed, headers=auth)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the case
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE and isinstance(case.body, dict):
            for name, value in principal["references"].items():
                if name in case.body:
                    case.body[name] = value
            # Random strings are never a valid VAT number or tax code; the book's stand.
            for name in ("vat_number", "tax_code", "sdi_code", "pec"):
                case.body.pop(name, None)
            if "version" in case.body and match and match["resource"] == "clients":
                case.body["version"] = Client.objects.get(pk=fixed["id"]).version
        case.call_and_validate(headers=auth, checks=CHECKS)

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:  # reported with the operation's name
        return f"{operation.label} ({mode.value}): {error}"
    return None


@pytest.mark.parametrize("principal", ["nam", "finance"])
def test_it_answers_every_operation_within_its_schema(principal: str) -> None:
    from accounts_crm.wsgi import application

    caller = make_caller(principal)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/", application, headers={"Authorization": f"Token {caller['token']}"}
    )
    # Deletes last: the NAM ending their own membership would hide the book from what follows.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: operation.method.upper() == "DELETE",
    )
    assert len(operations) >= 39  # the clients API alone; later issues only add to it
    failures = [
        failure
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if (failure := fuzz(operation, mode, caller))
    ]
    assert not failures, "\n\n".join(failures)
