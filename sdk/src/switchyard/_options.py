"""``init()`` options: arguments first, then ``SWITCHYARD_*`` environment variables, then defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._errors import ConfigurationError
from ._log import log_once
from ._sender import RedactHook
from ._signing import load_public_keys

DEFAULT_HOST = "http://127.0.0.1:8000"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "switchyard"


@dataclass(frozen=True, slots=True)
class Options:
    """Resolved settings of one :class:`switchyard.Client`."""

    api_key: str | None
    sdk_key: str | None
    host: str
    environment: str | None
    sync_mode: bool
    disabled: bool
    enable_routing: bool
    capture_payloads: bool
    redact: RedactHook | None
    redact_secrets: bool
    spool_dir: Path | None
    spool_max_bytes: int
    config_public_keys: Mapping[str, Ed25519PublicKey]
    config_cache_dir: Path | None
    config_poll_interval: float
    max_queue_size: int
    flush_at: int
    flush_interval: float
    max_batch_size: int
    max_batch_bytes: int
    max_event_bytes: int
    max_retries: int
    request_timeout: float
    shutdown_timeout: float


_POSITIVE = (
    "max_queue_size",
    "flush_at",
    "flush_interval",
    "max_batch_size",
    "max_batch_bytes",
    "max_event_bytes",
    "request_timeout",
    "shutdown_timeout",
    "config_poll_interval",
    "spool_max_bytes",
)
_PASSED_THROUGH = (*_POSITIVE, "max_retries", "enable_routing", "capture_payloads", "redact", "redact_secrets")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {value!r}")


def resolve_options(settings: Mapping[str, Any]) -> Options:
    """Merge ``init()``'s arguments with the environment and validate; raise :class:`ConfigurationError`."""
    env = os.environ
    api_key: str | None = settings["api_key"] or env.get("SWITCHYARD_API_KEY") or None
    sdk_key: str | None = settings["sdk_key"] or env.get("SWITCHYARD_SDK_KEY") or None
    host: str = (settings["host"] or env.get("SWITCHYARD_HOST") or DEFAULT_HOST).rstrip("/")
    config_cache_dir = settings["config_cache_dir"]
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"host must be an http(s) URL, got {host!r}")
    if api_key is not None and not api_key.startswith("sy_ingest_"):
        log_once("api-key-prefix", "switchyard: api_key should start with 'sy_ingest_'; the server may refuse it")
    if sdk_key is not None and not sdk_key.startswith("sy_sdk_"):
        log_once("sdk-key-prefix", "switchyard: sdk_key should start with 'sy_sdk_'; the server may refuse it")
    for name in _POSITIVE:
        _positive(name, settings[name])
    if settings["max_retries"] < 0:
        raise ConfigurationError("max_retries must be >= 0")
    keys_source: Mapping[str, str] | str | None = settings["config_public_keys"]
    if keys_source is None:
        keys_source = env.get("SWITCHYARD_CONFIG_PUBLIC_KEYS")
    spool = settings["spool_dir"] if settings["spool_dir"] is not None else env.get("SWITCHYARD_SPOOL_DIR") or None
    if config_cache_dir is True or config_cache_dir is None:
        cache_dir: Path | None = Path(env["SWITCHYARD_CACHE_DIR"]) if env.get("SWITCHYARD_CACHE_DIR") else (
            default_cache_dir()
        )
    elif config_cache_dir is False:
        cache_dir = None
    else:
        cache_dir = Path(config_cache_dir)
    passed_through = {name: settings[name] for name in _PASSED_THROUGH}
    return Options(
        api_key=api_key,
        sdk_key=sdk_key,
        host=host,
        environment=settings["environment"] or env.get("SWITCHYARD_ENVIRONMENT") or None,
        sync_mode=_env_flag("SWITCHYARD_SYNC_MODE") if settings["sync_mode"] is None else settings["sync_mode"],
        disabled=_env_flag("SWITCHYARD_DISABLED"),
        spool_dir=Path(spool) if spool else None,
        config_public_keys=load_public_keys(keys_source),
        config_cache_dir=cache_dir,
        **passed_through,
    )
