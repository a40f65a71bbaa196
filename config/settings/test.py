"""Tests: real PostgreSQL and Redis, embedded ClickHouse in a directory of its own.

Names carry the process id so two test runs on one machine never share state.
"""

import os

import dj_database_url

from config.settings.base import *
from config.settings.base import VAR_DIR
from config.settings.env import env_str

_RUN = os.getpid()

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchyard"), conn_max_age=0
    )
}
DATABASES["default"]["TEST"] = {"NAME": f"test_switchyard_{_RUN}"}
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/14")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"test{_RUN}",
    }
}
CLICKHOUSE_URL = env_str("CLICKHOUSE_URL", f"chdb://{VAR_DIR / 'ch-test' / str(_RUN)}")
CLICKHOUSE_DATABASE = env_str("CLICKHOUSE_DATABASE", "switchyard_test")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = ""
