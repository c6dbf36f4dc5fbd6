"""A task runs end to end in a real worker process, through the configured broker (Redis in CI)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from accounts_crm.models import Heartbeat
from accounts_crm.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def database_url_for_tests() -> str:
    """The configured database URL, pointed at the test database this run created."""
    url = urlsplit(settings.DATABASE_URL)
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture
def queue() -> str:
    """A queue of this test's own, so that no stale message from another run reaches its worker."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def worker(queue: str):
    env = os.environ | {"DATABASE_URL": database_url_for_tests()}
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "accounts_crm", "worker",
         "--pool", "solo", "--loglevel", "INFO", "--without-heartbeat", "--without-mingle",
         "--queues", f"{queue},{settings.CELERY_TASK_DEFAULT_QUEUE}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_it_runs_a_task_in_a_real_worker_through_the_broker(worker, queue) -> None:
    heartbeat.apply_async(kwargs={"source": Heartbeat.Source.WORKER}, queue=queue)

    arrived = wait_for(lambda: Heartbeat.objects.filter(source="worker").exists())

    if not arrived:
        worker.terminate()
        pytest.fail(f"the worker never ran the task:\n{worker.communicate(timeout=30)[0]}")
    assert settings.REDIS_URL or settings.CELERY_BROKER_URL == "filesystem://"


def test_it_enqueues_on_commit_only(worker, queue) -> None:
    from django.db import transaction

    def enqueue_then_fail() -> None:
        with transaction.atomic():
            heartbeat.apply_async_on_commit(kwargs={"source": "worker"}, queue=queue)
            raise RuntimeError("rolled back: nothing may be sent")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    with transaction.atomic():
        heartbeat.apply_async_on_commit(kwargs={"source": "beat"}, queue=queue)

    assert wait_for(lambda: Heartbeat.objects.filter(source="beat").exists())
    assert not Heartbeat.objects.filter(source="worker").exists()


def test_it_answers_the_health_ping_while_a_worker_runs(worker, client) -> None:
    def ping_ok() -> bool:
        response = client.get("/health/", headers={"accept": "application/json"})
        return any(k.startswith("Ping") and v == "OK" for k, v in response.json().items())

    assert wait_for(ping_ok, timeout=60)
