"""Run the whole product for development: web, one Celery worker and beat, with demo data.

`./dev run` calls this. It migrates, seeds the demo book, starts the three processes with this
process's environment, waits until the login page answers, prints the URL and the demo logins,
and stops everything on Ctrl-C, SIGTERM or when any of the three dies.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.urls import reverse

from accounts_crm.demo import DEMO_PASSWORD, DEMO_USERS
from accounts_crm.embedded import forget_dead_handles

START_TIMEOUT = 120.0  # seconds for the login page to answer
STOP_TIMEOUT = 20.0  # seconds the children get to exit before SIGKILL


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    # The signal that makes this child exit through its normal shutdown path. That path matters:
    # each child holds a handle on the embedded PostgreSQL, released by an atexit hook, and the
    # server stops only when the last handle goes. runserver has no SIGTERM handler (the default
    # action skips atexit), but turns SIGINT into a clean exit; Celery shuts down warmly on SIGTERM.
    stop_signal: signal.Signals


class Command(BaseCommand):
    help = "Migrate, seed the demo book, then run web, a Celery worker and beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on.")
        parser.add_argument("--no-demo", action="store_true", help="Do not seed the demo book.")

    def handle(self, *args: Any, host: str, port: int, no_demo: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        if not no_demo:
            call_command("seed_demo")
        # Nothing here queries the database again; do not keep a connection open for hours.
        connections.close_all()

        self.stop_requested: int | None = None
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.request_stop)

        children = self.start_children(host, port)
        try:
            self.wait_until_ready(children, host, port)
            if self.stop_requested is None:
                self.print_welcome(host, port, show_logins=not no_demo)
            while self.stop_requested is None:
                self.fail_if_any_died(children)
                time.sleep(0.2)
        finally:
            self.stop_children(children)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = signum

    def start_children(self, host: str, port: int) -> list[Child]:
        addrport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        celery = ["celery", "-A", "accounts_crm"]
        worker = [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"]
        commands = [
            ("web", ["django", "runserver", "--noreload", addrport], signal.SIGINT),
            ("worker", worker, signal.SIGTERM),
            # Exactly one beat; its schedule file is settings.CELERY_BEAT_SCHEDULE_FILENAME (var/).
            ("beat", [*celery, "beat", "--loglevel", "INFO"], signal.SIGTERM),
        ]
        # Each child gets its own process group, so that Ctrl-C in the terminal reaches only this
        # process, which then sends each child its own stop signal exactly once (a second signal
        # could interrupt a child's shutdown before it releases its database handle).
        return [
            Child(
                name,
                subprocess.Popen(  # noqa: S603 (fixed argv)
                    [sys.executable, "-m", *argv], cwd=settings.BASE_DIR, process_group=0
                ),
                stop_signal,
            )
            for name, argv, stop_signal in commands
        ]

    def wait_until_ready(self, children: list[Child], host: str, port: int) -> None:
        probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        probe_host = f"[{probe_host}]" if ":" in probe_host else probe_host
        url = f"http://{probe_host}:{port}{reverse('login')}"
        deadline = time.monotonic() + START_TIMEOUT
        while self.stop_requested is None:
            self.fail_if_any_died(children)
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return
            except urllib.error.HTTPError as error:
                # Up, but the page is broken: say so once instead of probing (and logging a
                # traceback) twice a second until the deadline.
                self.stderr.write(f"{url} answered {error.code}; see the web log above.")
                return
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise CommandError(f"{url} did not answer within {START_TIMEOUT:.0f}s.")
            time.sleep(0.5)

    def fail_if_any_died(self, children: list[Child]) -> None:
        for child in children:
            code = child.process.poll()
            if code is not None:
                raise CommandError(f"The {child.name} process exited (code {code}); stopping.")

    def print_welcome(self, host: str, port: int, *, show_logins: bool) -> None:
        shown_host = f"[{host}]" if ":" in host else host
        lines = ["", self.style.SUCCESS(f"Accounts CRM is running at http://{shown_host}:{port}/")]
        if show_logins:
            width = max(len(user.username) for user in DEMO_USERS) + 2
            what_width = max(len(user.what) for user in DEMO_USERS) + 2
            lines += ["", f"  {'username':<{width}}{'role':<{what_width}}password"]
            lines += [
                f"  {user.username:<{width}}{user.what:<{what_width}}{DEMO_PASSWORD}"
                for user in DEMO_USERS
            ]
        lines += ["", "Web, worker and beat are running. Press Ctrl-C to stop them.", ""]
        self.stdout.write("\n".join(lines))

    def stop_children(self, children: list[Child]) -> None:
        for child in children:
            if child.process.poll() is None:
                child.process.send_signal(child.stop_signal)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {child.name} process did not stop in time; killing it.")
                child.process.kill()
                child.process.wait()
        # A child that was killed (SIGKILL, OOM) never released its hold on the embedded
        # PostgreSQL; forget it, so that the server stops when this process exits.
        forget_dead_handles(settings.VAR_DIR / "postgres")
