"""Start-up in production refuses missing or bad values, naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(extra_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_HOST", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    # The checks of generated columns ask the server's version: the test database answers.
    env["DATABASE_URL"] = _test_database_url()
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 20 + "-very-long-and-random-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "crm.example.com",
    "EMAIL_HOST": "smtp.example.com",
}


@pytest.mark.slow
@pytest.mark.django_db  # the check asks the test database's server for its version
def test_it_passes_the_deployment_checklist_in_production() -> None:
    result = run_check(PRODUCTION, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.django_db  # the check asks the test database's server for its version
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": None}, "Set the SECRET_KEY environment variable."),
        ({"ALLOWED_HOSTS": None}, "Set the ALLOWED_HOSTS environment variable."),
        ({"EMAIL_HOST": None}, "Set the EMAIL_HOST environment variable."),
        ({"DEBUG": "sometimes"}, "DEBUG='sometimes' is not a boolean"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "DATABASE_URL uses the scheme 'sqlite'"),
    ],
)
def test_it_refuses_to_start_naming_the_bad_variable(change: dict, message: str) -> None:
    env = {key: value for key, value in (PRODUCTION | change).items() if value is not None}
    result = run_check(env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.slow
@pytest.mark.django_db  # the check asks the test database's server for its version
def test_it_logs_one_json_object_per_line_in_production() -> None:
    import json

    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/accounts_crm")
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "import logging; logging.getLogger('accounts_crm').warning('invoice %s flagged', 7)"],
        cwd=ROOT, env=env | PRODUCTION, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["level"] == "WARNING"
    assert record["logger"] == "accounts_crm"
    assert record["message"] == "invoice 7 flagged"
    assert "time" in record


@pytest.mark.django_db
def test_the_apps_connections_plan_without_jit_and_for_fast_storage() -> None:
    """JIT compiling cost seconds on the dashboards' aggregates over the large book, and the
    default random page cost made the planner scan every order line (settings.py)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone() == ("1.1",)
