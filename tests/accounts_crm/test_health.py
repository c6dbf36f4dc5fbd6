"""The health endpoint reports each piece: database, cache, broker, workers, beat."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts_crm.models import Heartbeat

# The checks run in worker threads with their own connections: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def health(client) -> tuple[int, dict[str, str]]:
    response = client.get("/health/", headers={"accept": "application/json"})
    return response.status_code, {
        key.split("(")[0]: value for key, value in response.json().items()
    }


def test_it_answers_anonymous_probes_and_names_what_is_down(client) -> None:
    status, checks = health(client)
    # No worker runs in this test, and beat has never ticked.
    assert status == 500
    assert checks["Database"] == "OK"
    assert checks["Cache"] == "OK"
    assert checks["Broker"] == "OK"
    assert "unavailable" in checks["Ping"].lower()
    assert checks["Beat"] == "Unavailable: No heartbeat from beat yet"


def test_it_reports_a_stale_beat(client) -> None:
    Heartbeat.objects.create(source="beat", last_seen=timezone.now() - timedelta(minutes=10))
    _, checks = health(client)
    assert checks["Beat"].startswith("Unavailable: Last beat heartbeat 6")


def test_it_reports_a_fresh_beat_as_ok(client) -> None:
    Heartbeat.objects.create(source="beat", last_seen=timezone.now())
    _, checks = health(client)
    assert checks["Beat"] == "OK"


def test_it_refuses_an_unknown_heartbeat_source() -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError, match="heartbeat_source_valid"):
        Heartbeat.objects.create(source="cron", last_seen=timezone.now())
