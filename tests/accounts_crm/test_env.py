import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts_crm.env import Env


def test_it_reads_typed_values() -> None:
    env = Env({"FLAG": "yes", "N": "42", "HOSTS": "a.example, b.example,"})
    assert env.bool("FLAG", default=False) is True
    assert env.int("N", 1) == 42
    assert env.list("HOSTS") == ["a.example", "b.example"]


def test_it_uses_defaults_only_when_the_variable_is_absent() -> None:
    env = Env({})
    assert env.bool("FLAG", default=True) is True
    assert env.int("N", 7) == 7
    assert env.url("DATABASE_URL", ("postgres",)) is None


@pytest.mark.parametrize(
    ("environ", "read", "message"),
    [
        ({}, lambda e: e.str("SECRET_KEY"), "Set the SECRET_KEY environment variable."),
        (
            {"SECRET_KEY": " "},
            lambda e: e.str("SECRET_KEY"),
            "SECRET_KEY environment variable is empty",
        ),
        (
            {"DEBUG": "maybe"},
            lambda e: e.bool("DEBUG", default=False),
            "DEBUG='maybe' is not a boolean",
        ),
        (
            {"CONN_MAX_AGE": "ten"},
            lambda e: e.int("CONN_MAX_AGE", 60),
            "CONN_MAX_AGE='ten' is not a whole",
        ),
        (
            {"CONN_MAX_AGE": "-1"},
            lambda e: e.int("CONN_MAX_AGE", 60, minimum=0),
            "CONN_MAX_AGE=-1 must be",
        ),
        (
            {"POSTGRES_RANDOM_PAGE_COST": "fast"},
            lambda e: e.decimal("POSTGRES_RANDOM_PAGE_COST", "1.1"),
            "POSTGRES_RANDOM_PAGE_COST='fast' is not a number",
        ),
        (
            {"POSTGRES_RANDOM_PAGE_COST": "-2"},
            lambda e: e.decimal("POSTGRES_RANDOM_PAGE_COST", "1.1"),
            "POSTGRES_RANDOM_PAGE_COST=-2 must be at least 0",
        ),
        (
            {"DJANGO_ENV": "prod"},
            lambda e: e.choice("DJANGO_ENV", ("development", "production"), "development"),
            "DJANGO_ENV='prod' must be one of",
        ),
        (
            {"DATABASE_URL": "mysql://x/y"},
            lambda e: e.url("DATABASE_URL", ("postgres",)),
            "DATABASE_URL uses the scheme 'mysql'",
        ),
        (
            {"REDIS_URL": "localhost:6379"},
            lambda e: e.url("REDIS_URL", ("redis",)),
            "REDIS_URL='localhost:6379' is not a URL",
        ),
    ],
)
def test_it_names_the_variable_when_a_value_is_bad(environ, read, message) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        read(Env(environ))


def test_a_number_is_kept_as_written_and_empty_means_none() -> None:
    assert Env({"COST": "1.5"}).decimal("COST", "1.1") == "1.5"
    assert Env({}).decimal("COST", "1.1") == "1.1"
    assert Env({"COST": ""}).decimal("COST", "1.1") is None
