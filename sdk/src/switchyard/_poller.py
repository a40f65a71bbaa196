"""Config: the verified, compiled routing config in force, and the thread that keeps it fresh.

:class:`ConfigStore` installs a body only if its Ed25519 signature verifies, it parses, and its
``config_version`` is not older than the one in force; otherwise the last good config stays.
Good configs are persisted atomically (temp file + ``os.replace``) and re-verified when loaded at
start. :class:`ConfigPoller` polls ``GET /v1/config`` every ~30 s with jitter, sends
``If-None-Match``, and backs off on errors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._config import CompiledConfig, parse_config
from ._encoder import capabilities
from ._errors import InvalidConfigError, TransportError
from ._fork import after_fork_in_child
from ._log import log_once
from ._sender import retry_after_seconds
from ._signing import PublicKeys, verify_signature
from ._stats import Counters
from ._transport import Request, Transport
from ._version import __version__

logger = logging.getLogger("switchyard")


@dataclass(frozen=True, slots=True)
class SignedConfig:
    """A config body exactly as served, with what is needed to verify it again."""

    body: bytes
    signature: str | None
    key_id: str | None
    etag: str | None


class ConfigStore:
    """The config in force; ``current`` is read without a lock on every call."""

    def __init__(self, keys: PublicKeys, counters: Counters, cache_path: Path | None) -> None:
        self.keys = keys
        self.counters = counters
        self.cache_path = cache_path
        self.current: CompiledConfig | None = None
        self.etag: str | None = None
        self.last_error: InvalidConfigError | None = None
        self.loaded = threading.Event()
        self._lock = threading.Lock()
        self.on_install: Callable[[CompiledConfig], None] | None = None  # e.g. load the encoders it names

    def install(self, signed: SignedConfig, *, persist: bool) -> bool:
        """Verify, parse and swap in ``signed``; on any defect keep the current config."""
        try:
            verify_signature(signed.body, signed.signature, signed.key_id, self.keys)
            config = parse_config(signed.body)
        except InvalidConfigError as exc:
            self.last_error = exc
            self.counters.add("config_errors")
            log_once(f"config-invalid-{type(exc).__name__}", "switchyard: config rejected: %s", exc)
            return False
        with self._lock:
            current = self.current
            if current is not None and config.version < current.version:
                self.last_error = InvalidConfigError(
                    f"config_version {config.version} is older than {current.version} in force"
                )
                self.counters.add("config_errors")
                log_once("config-stale", "switchyard: %s", self.last_error)
                return False
            self.current = config
            self.etag = signed.etag
        if persist:
            self._persist(signed)
        self.loaded.set()
        hook = self.on_install
        if hook is not None:
            try:
                hook(config)
            except Exception as exc:
                log_once("config-hook", "switchyard: after installing a config: %r", exc)
        return True

    def _persist(self, signed: SignedConfig) -> None:
        path = self.cache_path
        if path is None:
            return
        doc = {
            "body": base64.b64encode(signed.body).decode(),
            "signature": signed.signature,
            "key_id": signed.key_id,
            "etag": signed.etag,
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log_once("config-persist", "switchyard: cannot persist config to %s: %s", path, exc)
            tmp.unlink(missing_ok=True)

    def load_cached(self) -> bool:
        """Install the last good config from disk (verified again); ``False`` if none or invalid."""
        path = self.cache_path
        if path is None or not path.exists():
            return False
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            signed = SignedConfig(base64.b64decode(doc["body"]), doc["signature"], doc["key_id"], doc["etag"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log_once("config-cache", "switchyard: ignoring unreadable config cache %s: %s", path, exc)
            return False
        return self.install(signed, persist=False)


def cache_path_for(cache_dir: Path | None, host: str, sdk_key: str) -> Path | None:
    """One cache file per (host, key); the key itself is never written, only a hash of it."""
    if cache_dir is None:
        return None
    digest = hashlib.sha256(f"{host}\n{sdk_key}".encode()).hexdigest()[:16]
    return cache_dir / f"config-{digest}.json"


class ConfigPoller:
    """Polls ``GET /v1/config`` on a daemon thread (see module docstring)."""

    def __init__(
        self,
        store: ConfigStore,
        *,
        host: str,
        sdk_key: str,
        transport: Transport,
        interval: float,
        request_timeout: float,
        max_backoff: float = 300.0,
    ) -> None:
        self.store = store
        self.url = host.rstrip("/") + "/v1/config"
        self.headers = {
            "Authorization": f"Bearer {sdk_key}",
            "Accept": "application/json",
            "User-Agent": f"switchyard-python/{__version__}",
            "X-Switchyard-Capabilities": capabilities(),  # which LEARNED_MODEL types this SDK runs
        }
        self.transport = transport
        self.interval = interval
        self.request_timeout = request_timeout
        self.max_backoff = max_backoff
        self._failures = 0
        self._init_state()
        after_fork_in_child(self, ConfigPoller._after_fork)

    def _init_state(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._polled = threading.Condition(threading.Lock())
        self._requested = 0
        self._served = 0
        self._thread: threading.Thread | None = None

    def _after_fork(self) -> None:
        running = self._thread is not None and not self._stop.is_set()
        self._init_state()
        if running:
            self.start()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="switchyard-config", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def refresh(self, timeout: float | None) -> bool:
        """Poll now; wait up to ``timeout`` for that poll to finish."""
        with self._polled:
            self._requested += 1
            mine = self._requested
        self._wake.set()
        if not timeout:
            return False
        with self._polled:
            return self._polled.wait_for(lambda: self._served >= mine, timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._polled:
                request = self._requested
            try:
                delay = self.poll_once()
            except Exception as exc:
                log_once("config-poller", "switchyard: config poller error %r", exc)
                delay = self.interval
            with self._polled:
                self._served = request
                self._polled.notify_all()
            self._wake.wait(delay)
            self._wake.clear()

    def poll_once(self) -> float:
        """One ``GET /v1/config``; returns the delay before the next poll."""
        headers = dict(self.headers)
        if self.store.etag:
            headers["If-None-Match"] = self.store.etag
        try:
            response = self.transport.send(Request("GET", self.url, headers, b"", self.request_timeout))
        except TransportError as exc:
            log_once("config-network", "switchyard: cannot reach %s (%s); keeping last config", self.url, exc)
            return self._backoff(None)
        status = response.status
        if status == 304:
            return self._ok()
        if status == 200:
            self.store.install(
                SignedConfig(
                    response.body,
                    response.header("x-switchyard-signature"),
                    response.header("x-switchyard-key-id"),
                    response.header("etag"),
                ),
                persist=True,
            )
            return self._ok()
        if status in (408, 429) or status >= 500:
            return self._backoff(retry_after_seconds(response))
        unauthorized = status in (401, 403)
        level = logging.ERROR if unauthorized else logging.WARNING
        log_once(f"config-{status}", "switchyard: GET %s answered %s", self.url, status, level=level)
        return self._backoff(None, permanent=unauthorized)

    def _ok(self) -> float:
        self._failures = 0
        return self.interval * random.uniform(0.9, 1.1)  # noqa: S311 - jitter

    def _backoff(self, retry_after: float | None, *, permanent: bool = False) -> float:
        self._failures += 1
        if permanent:
            return self.max_backoff * random.uniform(0.9, 1.1)  # noqa: S311 - jitter
        delay = min(self.max_backoff, self.interval * 2 ** min(self._failures, 10)) * random.uniform(0.5, 1.0)  # noqa: S311
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_backoff))
        return float(delay)
