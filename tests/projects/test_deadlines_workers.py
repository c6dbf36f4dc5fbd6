"""The deadline scan in real Celery worker processes, through the broker (Redis in CI), against
this run's test database: two workers at once notify once; a worker killed mid-scan loses nothing.

Both tests hold a lock on the notifications table from here, so that the scans are caught exactly
where it matters: inside their INSERT ... ON CONFLICT DO NOTHING, at the same time, or while the
worker is killed.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts_crm.models import Notification
from projects.tasks import deadline_scan
from tests.accounts_crm.test_celery_worker import database_url_for_tests
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    MilestoneFactory,
    ProjectFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MILESTONES = 60


@pytest.fixture
def queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def start_worker(queue: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a worker on this test's queue only; its log goes to a file (a pipe could fill up)."""
    processes: list[subprocess.Popen] = []
    env = os.environ | {"DATABASE_URL": database_url_for_tests()}
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL

    def start(name: str, *pool: str) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "accounts_crm", "worker", "--hostname",
             f"{name}@%h", "--loglevel", "INFO", "--without-heartbeat", "--without-mingle",
             "--without-gossip", "--queues", queue, *(pool or ("--pool", "solo"))],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        process.log_path = tmp_path / f"{name}.log"  # type: ignore[attr-defined]
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_of(process: subprocess.Popen) -> str:
    return process.log_path.read_text()  # type: ignore[attr-defined]


def wait_for(predicate: Callable[[], bool], timeout: float = 180.0) -> bool:
    """Generous: two cores shared with other test runs can make a worker start slowly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def book() -> int:
    """MILESTONES milestones due in three days, each for owner, project manager and NAM; nobody
    has an e-mail address, so the workers send no mail. Returns the notifications expected."""
    today = timezone.localdate()
    client = ClientFactory()
    nam = UserFactory(email="")
    AccountTeamMemberFactory(
        client=client, user=nam, role="nam", starts_on=today - datetime.timedelta(days=30)
    )
    manager = UserFactory(email="")
    AccountTeamMemberFactory(client=client, user=manager, role="project_manager")
    owners = [UserFactory(email="") for _ in range(3)]
    project = ProjectFactory(
        client=client, manager=manager, starts_on=today - datetime.timedelta(days=100),
        due_on=today + datetime.timedelta(days=100),
    )  # fmt: skip
    for n in range(MILESTONES):
        MilestoneFactory(
            project=project, owner=owners[n % 3], due_on=today + datetime.timedelta(days=3)
        )
    return 2 * MILESTONES + MILESTONES  # NAM and manager on each, one owner each


class TableLock:
    """EXCLUSIVE lock on the notifications table, from a connection of its own: INSERTs wait."""

    def __init__(self) -> None:
        db = connection.settings_dict
        self.conn = psycopg.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
            host=db["HOST"] or None, port=db["PORT"] or None, autocommit=False,
        )  # fmt: skip

    def __enter__(self) -> TableLock:
        self.conn.execute(f"LOCK TABLE {Notification._meta.db_table} IN EXCLUSIVE MODE")
        return self

    def waiting(self) -> int:
        """Sessions of the test database waiting for the lock."""
        row = self.conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE NOT l.granted AND c.relname = %s "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [Notification._meta.db_table],
        ).fetchone()
        return row[0]

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()

    def __exit__(self, *exc: object) -> None:
        self.release()


def test_two_workers_scanning_at_once_notify_once(start_worker, queue, book) -> None:
    first, second = start_worker("first"), start_worker("second")
    assert wait_for(lambda: "ready" in log_of(first) and "ready" in log_of(second))

    with TableLock() as lock:
        deadline_scan.apply_async(queue=queue)
        deadline_scan.apply_async(queue=queue)
        # Both scans have read the book and wait to insert the same notices: a real race.
        both_waiting = wait_for(lambda: lock.waiting() >= 2)
        lock.release()

    def both_done() -> bool:
        return all("succeeded" in log_of(worker) for worker in (first, second))

    done = wait_for(both_done)
    assert both_waiting, log_of(first) + log_of(second)
    assert done, log_of(first) + log_of(second)
    assert Notification.objects.count() == book
    keys = list(Notification.objects.values_list("user_id", "key"))
    assert len(set(keys)) == len(keys)
    created = [
        line for w in (first, second) for line in log_of(w).splitlines() if "succeeded" in line
    ]
    # Between them, the two scans created each notification once.
    assert sum(int(line.split("'milestone': ")[1].split(",")[0]) for line in created) == book


def child_pids(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def test_a_scan_killed_mid_run_is_redelivered_and_completes(start_worker, queue, book) -> None:
    worker = start_worker("prefork", "--pool", "prefork", "--concurrency", "1")
    assert wait_for(lambda: "ready" in log_of(worker) and child_pids(worker.pid))

    with TableLock() as lock:
        deadline_scan.apply_async(queue=queue)
        assert wait_for(lambda: lock.waiting() >= 1), log_of(worker)
        (child,) = child_pids(worker.pid)
        os.kill(child, signal.SIGKILL)  # the process running the scan dies mid-INSERT
        assert wait_for(lambda: "WorkerLostError" in log_of(worker)), log_of(worker)
    # reject_on_worker_lost gave the message back; a new child runs the scan to the end.
    assert wait_for(lambda: Notification.objects.count() == book), log_of(worker)
    assert wait_for(lambda: "succeeded" in log_of(worker)), log_of(worker)
    keys = list(Notification.objects.values_list("user_id", "key"))
    assert len(set(keys)) == len(keys) == book
