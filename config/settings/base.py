"""Settings shared by every way of running Switchyard.

Production differs from local only by environment variables (see README "Configuration").
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from config.settings.env import BASE_DIR, env_bool, env_int, env_list, env_str

VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEV_SECRET_KEY = "dev-insecure-switchyard-secret-key-change-me"  # noqa: S105 - refused in production
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc served from this server (/api/docs/ works offline)
    "apps.core",
    "apps.accounts",
    "apps.warehouse",
    "apps.pricing",
    "apps.ingest",
    "apps.dashboard",
    "apps.routing",
    "apps.replay",
    "apps.billing",
    "apps.policies",
    "apps.spend",
    "apps.opportunities",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.request_guards.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.accounts.middleware.CurrentTenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.tenant",
            ],
        },
    },
]

# --- relational store -------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'switchyard.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout: the in-process worker writes while pages read.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- ClickHouse ---------------------------------------------------------------
CLICKHOUSE_URL = env_str("CLICKHOUSE_URL", f"chdb://{VAR_DIR / 'clickhouse'}")
CLICKHOUSE_DATABASE = env_str("CLICKHOUSE_DATABASE", "switchyard")
CLICKHOUSE_CLUSTER = env_str("CLICKHOUSE_CLUSTER", "")
CLICKHOUSE_QUERY_TIMEOUT_S = env_int("CLICKHOUSE_QUERY_TIMEOUT_S", 30)

# --- background jobs ----------------------------------------------------------
# Empty broker = the embedded in-process worker (jobs run off the request thread).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
EMBEDDED_WORKER_THREADS = env_int("EMBEDDED_WORKER_THREADS", 2)

# --- replay ---------------------------------------------------------------------
# Provider API keys are encrypted at rest with keys derived from this value (HKDF-SHA256 → Fernet).
# Comma-separated: the first encrypts, every one decrypts (rotation). Default: derived from SECRET_KEY.
PROVIDER_KEYS_ENCRYPTION_KEY = env_str("PROVIDER_KEYS_ENCRYPTION_KEY", SECRET_KEY)
# Whether a provider base URL may point at loopback/private addresses (vLLM, Ollama on the same host).
PROVIDER_ALLOW_PRIVATE_URLS = env_bool("PROVIDER_ALLOW_PRIVATE_URLS", True)
# A running replay whose worker has not heart-beaten for this long is taken to be dead: the beat
# (replay.resume_stalled, each minute) queues it again and another worker continues it.
REPLAY_LEASE_S = env_int("REPLAY_LEASE_S", 90)
CELERY_BEAT_SCHEDULE["replay-schedules"] = {"task": "replay.check_schedules", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["replay-resume-stalled"] = {"task": "replay.resume_stalled", "schedule": 60.0}
# Price changes write a recompute request with them; this plans any that no worker started (e.g.
# one made by `manage.py import_prices` while the embedded server owns the store).
CELERY_BEAT_SCHEDULE["pricing-plan-pending"] = {"task": "pricing.plan_pending_recomputes", "schedule": 15.0}

# --- billing (Stripe) -------------------------------------------------------------
# Empty key = no Stripe: everyone is on the Free plan (the embedded demo). Only
# apps/billing/stripe_gateway.py reads these.
STRIPE_API_KEY = env_str("STRIPE_API_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
CELERY_BEAT_SCHEDULE["billing-report-usage"] = {"task": "billing.report_usage", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["billing-check-usage"] = {"task": "billing.check_usage", "schedule": 600.0}
CELERY_BEAT_SCHEDULE["billing-sweep-grace"] = {"task": "billing.sweep_grace", "schedule": 3600.0}
# The plan decides how many seats an organisation has and how long a new project keeps its calls.
# Billing owns plans and sits a floor above accounts, so accounts calls these by name.
ACCOUNTS_SEAT_CHECK = "apps.billing.services.quotas.seat_check"
ACCOUNTS_RETENTION_DAYS = "apps.billing.selectors.plan_retention_days"

# --- routing policies and GET /v1/config ----------------------------------------
# "key-id:base64-private-key,…" (32 raw Ed25519 bytes each). Empty = an embedded key generated once
# into VAR_DIR (demo and tests). CONFIG_SIGNING_KEY_ID picks the signing key (default: the first).
CONFIG_SIGNING_KEYS = env_str("CONFIG_SIGNING_KEYS", "")
CONFIG_SIGNING_KEY_ID = env_str("CONFIG_SIGNING_KEY_ID", "")
CONFIG_RATE_LIMIT_RPS = env_int("CONFIG_RATE_LIMIT_RPS", 50)
CELERY_BEAT_SCHEDULE["policies-guard"] = {"task": "policies.guard_tick", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["policies-recommend"] = {"task": "policies.recommend_all", "schedule": 900.0}
# Opportunities: each project's detectors run when their last run is 6 hours old (checked every 15 min).
CELERY_BEAT_SCHEDULE["opportunities-detect"] = {"task": "opportunities.detect_due", "schedule": 900.0}
# Spend control: budgets and anomaly monitors judged, alerts opened, resolved and delivered.
CELERY_BEAT_SCHEDULE["spend-tick"] = {"task": "spend.tick", "schedule": 60.0}

# --- ingest limits --------------------------------------------------------------
INGEST_MAX_BODY_BYTES = env_int("INGEST_MAX_BODY_BYTES", 10_000_000)
INGEST_MAX_DECOMPRESSED_BYTES = env_int("INGEST_MAX_DECOMPRESSED_BYTES", 50_000_000)
INGEST_MAX_EVENTS_PER_BATCH = env_int("INGEST_MAX_EVENTS_PER_BATCH", 5_000)
INGEST_MAX_EVENT_BYTES = env_int("INGEST_MAX_EVENT_BYTES", 1_000_000)
INGEST_DEFAULT_RATE_LIMIT_EPS = env_int("INGEST_DEFAULT_RATE_LIMIT_EPS", 100_000)
INGEST_COMMIT_TIMEOUT_S = env_int("INGEST_COMMIT_TIMEOUT_S", 30)

# --- cache (login throttling, rate limits) -------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "switchyard"}
    }

# --- auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_S = env_int("LOGIN_FAILURE_WINDOW_S", 900)
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", True)

# --- i18n -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "apps.dashboard.staticfiles.PlotlyFinder",  # vendor/plotly.min.js from the plotly package
]
STATIC_ROOT = VAR_DIR / "staticfiles"
# The SDK's wheel (built from sdk/ by `manage.py build_sdk` at install or image build) and its
# dependencies' wheels, served at /sdk/ so `pip install` needs nothing but this server.
SDK_DIST_DIR = Path(env_str("SDK_DIST_DIR", str(VAR_DIR / "sdk"))).resolve()

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Switchyard <noreply@switchyard.local>")

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api_errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard API",
    "DESCRIPTION": "LLM cost observability and routing optimisation. Every error is "
    '`{"error": {"code": "...", "message": "..."}}`.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.openapi.add_plain_views",
        "apps.policies.openapi.add_config_view",
    ],
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "plain")  # plain | json
_LOG_RENDERER = "json" if LOG_FORMAT == "json" else "plain"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "apps.core.logs.json_formatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": _LOG_RENDERER}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own console handler (DEBUG) would print each django.* line a second time.
    "loggers": {"django": {"handlers": [], "propagate": True}, "django.db.backends": {"level": "WARNING"}},
}

# --- operations -------------------------------------------------------------------
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0"))
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
    )
