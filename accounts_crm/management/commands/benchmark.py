from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts_crm import benchmark, benchmark_pages


class Command(BaseCommand):
    help = (
        "Time the invoice checks and the pages on the current database: the nightly check over "
        "the open book, a single-invoice check (median) and each rule's core query alone "
        "(accounts_crm/benchmark.py); then the median and p95 server time of the dashboards and "
        "the main lists and pages, with each dashboard's core aggregate query alone "
        "(accounts_crm/benchmark_pages.py). Rolled back at the end unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--single", type=int, default=20, help="Invoices for the single-check median."
        )
        parser.add_argument(
            "--keep", action="store_true", help="Keep the findings the nightly check made."
        )
        parser.add_argument(
            "--repeat", type=int, default=15, help="Requests per page (after one warm-up)."
        )
        parser.add_argument(
            "--only",
            choices=("checks", "pages"),
            help="Run only the invoice checks or only the pages.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("single", "repeat"):
            if options[name] < 1:
                self.stderr.write(f"--{name} must be at least 1.")
                raise SystemExit(2)
        only = options["only"]
        if only != "pages":
            result = benchmark.run(
                single=options["single"], keep=options["keep"], log=self.stderr.write
            )
            for line in result.lines():
                self.stdout.write(line)
        if only != "checks":
            if only is None:
                self.stdout.write("")
            pages = benchmark_pages.run(repeat=options["repeat"], log=self.stderr.write)
            for line in pages.lines():
                self.stdout.write(line)
