from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts_crm import benchmark


class Command(BaseCommand):
    help = (
        "Time the invoice checks on the current database: the nightly check over the open book, "
        "a single-invoice check (median), and each rule's core query alone (see "
        "accounts_crm/benchmark.py). Rolled back at the end unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--single", type=int, default=20, help="Invoices for the single-check median."
        )
        parser.add_argument(
            "--keep", action="store_true", help="Keep the findings the nightly check made."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["single"] < 1:
            self.stderr.write("--single must be at least 1.")
            raise SystemExit(2)
        result = benchmark.run(
            single=options["single"], keep=options["keep"], log=self.stderr.write
        )
        for line in result.lines():
            self.stdout.write(line)
