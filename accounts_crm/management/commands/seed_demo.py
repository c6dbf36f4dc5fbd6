from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts_crm import demo
from accounts_crm.audit import audit_context


class Command(BaseCommand):
    help = "Create the demo book (people, teams, clients); safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_context(command="seed_demo"):
            demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
