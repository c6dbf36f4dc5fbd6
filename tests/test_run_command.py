"""Smoke test of `manage.py runstack` in its default mode: embedded PostgreSQL, filesystem broker.

It runs the real command as a subprocess with a fresh `VAR_DIR`, so it initialises its own
database cluster and broker folders, serves the login page, lets a demo user in, and stops
without leaving a PostgreSQL server behind. It uses its own server, not pytest-django's database.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from accounts_crm.demo import DEMO_PASSWORD, DEMO_USERS

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120  # a fresh cluster: initdb, migrations, demo data, three processes
STOP_TIMEOUT = 60


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    url: str
    pgdata: Path


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Let the test see the 302 of the login form instead of following it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(pgdata) in (process.info["cmdline"] or []):
            found.append(process)
    return found


def wait_for_login_page(stack: Stack) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert stack.process.poll() is None, "runstack exited before the login page answered"
        try:
            with urllib.request.urlopen(f"{stack.url}/accounts/login/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet (HTTPError is an OSError too)
            pass
        time.sleep(1)
    pytest.fail(f"the login page did not answer 200 within {START_TIMEOUT}s")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    var_dir = tmp_path / "var"
    # The default mode: no database or broker configured, and a private runtime dir (lock file).
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "XDG_RUNTIME_DIR", "DJANGO_ENV"}
    }
    env["VAR_DIR"] = str(var_dir)
    port = free_port()
    log_path = tmp_path / "runstack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(port)],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(process, f"http://127.0.0.1:{port}", var_dir / "postgres")
    try:
        yield stack
    finally:
        # Whatever happened, leave nothing running: the command, its children, its database.
        leftovers = postgres_processes(stack.pgdata)
        if process.poll() is None:
            leftovers += [psutil.Process(process.pid)]
            leftovers += psutil.Process(process.pid).children(recursive=True)
        for leftover in leftovers:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
        process.wait(timeout=10)
        # Shown by pytest only when the test failed.
        print(log_path.read_text(errors="replace")[-20_000:])


def test_it_serves_a_demo_login_and_stops_cleanly(stack: Stack) -> None:
    wait_for_login_page(stack)

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with browser.open(f"{stack.url}/accounts/login/", timeout=10) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, "the login form has no CSRF token"
    credentials = {
        "username": DEMO_USERS[0].username,
        "password": DEMO_PASSWORD,
        "csrfmiddlewaretoken": token.group(1),
    }
    with pytest.raises(urllib.error.HTTPError) as redirect:
        browser.open(
            f"{stack.url}/accounts/login/", urllib.parse.urlencode(credentials).encode(), timeout=10
        )
    assert redirect.value.code == 302
    home = urllib.parse.urljoin(stack.url, redirect.value.headers["Location"])
    assert "/accounts/login/" not in home
    # The home page sends a NAM on to their own book (the NAM home); follow it, signed in.
    signed_in = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with signed_in.open(home, timeout=10) as response:
        assert response.status == 200
        assert "/accounts/login/" not in response.url

    health = urllib.request.Request(f"{stack.url}/health/", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(health, timeout=30) as response:
            checks = json.load(response)
    except urllib.error.HTTPError as error:  # 500 when another check (say, beat) is not up yet
        checks = json.load(error)
    assert [value for name, value in checks.items() if name.startswith("Database")] == ["OK"]

    children = psutil.Process(stack.process.pid).children(recursive=True)
    assert len(children) >= 3  # web, worker (+ its pool), beat
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=STOP_TIMEOUT) == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    assert postgres_processes(stack.pgdata) == []
