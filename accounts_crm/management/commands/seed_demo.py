from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts_crm import demo, demo_large
from accounts_crm.audit import audit_context


class Command(BaseCommand):
    help = (
        "Create the demo book (people, teams, clients, orders, projects, invoices); safe to run "
        "again. With --scale large, also the large book for benchmarks (demo_large.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=("demo", "large"), default="demo")
        parser.add_argument(
            "--factor",
            type=float,
            default=1.0,
            help="Size of the large book relative to full size (2,000 clients, 200,000 orders, "
            "100,000 invoices); e.g. 0.001 for a quick one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_context(command="seed_demo"):
            demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        if options["scale"] != "large":
            return
        factor = options["factor"]
        if not 0 < factor <= 10:
            self.stderr.write("--factor must be above 0 and at most 10.")
            raise SystemExit(2)
        report = demo_large.seed_large(factor=factor, log=self.stdout.write)
        if report.skipped:
            self.stdout.write("The large book is already there: nothing to do.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Large book (factor {factor:g}) made in {report.seconds:.1f} s.")
        )
