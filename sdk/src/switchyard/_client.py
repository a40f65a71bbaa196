"""The :class:`Client` (one per process, made by ``switchyard.init``) and the module-level API."""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
from collections.abc import Mapping
from typing import Any

from ._config import CompiledConfig
from ._consumer import Consumer
from ._encoder import EncoderLoader, EncoderModel
from ._errors import InvalidConfigError
from ._log import log_once
from ._options import Options, resolve_options
from ._poller import ConfigPoller, ConfigStore, cache_path_for
from ._sender import RedactHook, Sender
from ._spool import Spool
from ._stats import Counters, Stats
from ._transport import HTTPTransport, Transport

logger = logging.getLogger("switchyard")


class Client:
    """Telemetry delivery and routing config for one process.

    Made by :func:`switchyard.init`; the wrappers and :func:`switchyard.track` use the current
    one. Methods never raise because of the network or the server.

    Example::

        client = switchyard.init(api_key="sy_ingest_…", sdk_key="sy_sdk_…", host="https://sy.example")
        client.wait_for_config(2.0)
        ...
        client.flush(timeout=5.0)
    """

    def __init__(self, options: Options, transport: Transport | None = None) -> None:
        self.options = options
        self.counters = Counters()
        self.transport: Transport = transport if transport is not None else HTTPTransport()
        self.telemetry_enabled = bool(options.api_key) and not options.disabled
        if not options.api_key and not options.disabled:
            log_once("no-api-key", "switchyard: no api_key (SWITCHYARD_API_KEY); telemetry is off")
        spool = None
        if options.spool_dir is not None and self.telemetry_enabled:
            try:
                spool = Spool(options.spool_dir, options.spool_max_bytes, self.counters)
            except OSError as exc:
                log_once("spool-dir", "switchyard: spool %s unusable (%s); spooling is off", options.spool_dir, exc)
        self.sender = Sender(
            host=options.host,
            api_key=options.api_key or "",
            transport=self.transport,
            counters=self.counters,
            spool=spool,
            max_retries=options.max_retries,
            request_timeout=options.request_timeout,
            max_event_bytes=options.max_event_bytes,
            redact=options.redact,
            redact_secrets=options.redact_secrets,
        )
        self.consumer = Consumer(
            self.sender,
            self.counters,
            max_queue_size=options.max_queue_size,
            flush_at=options.flush_at,
            flush_interval=options.flush_interval,
            max_batch_size=options.max_batch_size,
            max_batch_bytes=options.max_batch_bytes,
        )
        cache = cache_path_for(options.config_cache_dir, options.host, options.sdk_key) if options.sdk_key else None
        self.store = ConfigStore(options.config_public_keys, self.counters, cache)
        self.poller: ConfigPoller | None = None
        self.encoders: EncoderLoader | None = None
        self.routing_enabled = options.enable_routing and not options.disabled
        if options.sdk_key and not options.disabled:
            if not options.config_public_keys:
                log_once("no-public-keys", "switchyard: no config_public_keys; every config will be rejected")
            self.encoders = EncoderLoader(
                host=options.host, sdk_key=options.sdk_key, transport=self.transport, cache_dir=options.config_cache_dir
            )
            self.store.on_install = self._load_encoders
            self.store.load_cached()
            self.poller = ConfigPoller(
                self.store,
                host=options.host,
                sdk_key=options.sdk_key,
                transport=self.transport,
                interval=options.config_poll_interval,
                request_timeout=options.request_timeout,
            )
            self.poller.start()
        if spool is not None and not options.sync_mode and spool.has_pending():
            self.consumer.start()  # send what an earlier run left on disk
        self._capture_allowed = options.capture_payloads
        self._closed = False

    def _load_encoders(self, config: CompiledConfig, *, wait: bool = False) -> None:
        """Fetch and load (in the background) the encoders the config's routers need."""
        if self.encoders is not None and self.routing_enabled:
            models = [p.learned for p in config.policies.values() if isinstance(p.learned, EncoderModel)]
            self.encoders.ensure(models, wait=wait)

    def wait_for_encoders(self, timeout: float | None = None) -> bool:
        """Load now the encoders the config in force names; ``True`` when every one of them runs."""
        config = self.store.current
        if config is None or self.encoders is None:
            return False
        models = [p.learned for p in config.policies.values() if isinstance(p.learned, EncoderModel)]
        worker = threading.Thread(target=self.encoders.ensure, args=(models,), kwargs={"wait": True}, daemon=True)
        worker.start()
        worker.join(timeout)
        return all(m.ready for m in models)

    # -- the call path --------------------------------------------------------------------------

    @property
    def config(self) -> CompiledConfig | None:
        """The verified routing config in force, or ``None``."""
        return self.store.current if self.routing_enabled else None

    def capture_now(self) -> bool:
        """Whether this call's payloads may be captured (config policy; ``capture_payloads``)."""
        if not self._capture_allowed:
            return False
        config = self.store.current
        if config is None:
            return False
        mode = config.capture_mode
        if mode == "always":
            return True
        return mode == "sampled" and random.random() < config.sample_rate  # noqa: S311 - sampling

    def record(self, event: dict[str, Any]) -> None:
        """Hand one finished event to delivery; never blocks (except in ``sync_mode``)."""
        if not self.telemetry_enabled:
            return
        if self.options.sync_mode:
            data = self.sender.encode(event)
            if data is not None:
                self.sender.deliver([data], self.consumer._stop)
            return
        self.consumer.put(event)

    # -- app-facing -----------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Send what is queued; ``True`` if done within ``timeout`` seconds."""
        if self.options.sync_mode or not self.telemetry_enabled:
            return True
        return self.consumer.flush(timeout)

    def shutdown(self, timeout: float | None = None) -> None:
        """Flush (bounded by ``timeout``, default ``shutdown_timeout``), then stop the threads."""
        if self._closed:
            return
        self._closed = True
        if self.poller is not None:
            self.poller.stop()
        if self.telemetry_enabled:
            self.consumer.shutdown(self.options.shutdown_timeout if timeout is None else timeout)

    def stats(self) -> Stats:
        """Counters of sent, dropped (by reason), spooled and retried events."""
        spool = self.sender.spool
        config = self.store.current
        return self.counters.snapshot(
            queued=len(self.consumer),
            spooled_events=spool.pending_events() if spool is not None else 0,
            config_version=config.version if config is not None else None,
        )

    def wait_for_config(self, timeout: float) -> bool:
        """Block until a verified config is in force (from disk or server), up to ``timeout`` s."""
        return self.store.loaded.wait(timeout)

    def refresh_config(self, timeout: float | None = 5.0) -> bool:
        """Poll ``GET /v1/config`` now; with ``timeout``, wait for that poll to finish."""
        if self.poller is None:
            return False
        return self.poller.refresh(timeout)

    @property
    def last_config_error(self) -> InvalidConfigError | None:
        """Why the last config was rejected, if it was."""
        return self.store.last_error


_current: Client | None = None
_lock = threading.Lock()
_atexit_registered = False


def current_client() -> Client | None:
    return _current


def _atexit() -> None:
    client = _current
    if client is not None:
        try:
            client.shutdown()
        except Exception as exc:
            logger.debug("switchyard: shutdown at exit failed: %r", exc)


def init(
    api_key: str | None = None,
    host: str | None = None,
    *,
    sdk_key: str | None = None,
    environment: str | None = None,
    transport: Transport | None = None,
    sync_mode: bool | None = None,
    enable_routing: bool = True,
    capture_payloads: bool = True,
    redact: RedactHook | None = None,
    redact_secrets: bool = True,
    spool_dir: str | os.PathLike[str] | None = None,
    spool_max_bytes: int = 64 * 1024 * 1024,
    config_public_keys: Mapping[str, str] | None = None,
    config_cache_dir: str | os.PathLike[str] | bool | None = None,
    config_poll_interval: float = 30.0,
    max_queue_size: int = 10_000,
    flush_at: int = 100,
    flush_interval: float = 1.0,
    max_batch_size: int = 500,
    max_batch_bytes: int = 1_000_000,
    max_event_bytes: int = 256_000,
    max_retries: int = 4,
    request_timeout: float = 10.0,
    shutdown_timeout: float = 1.0,
) -> Client:
    """Start Switchyard for this process and return its :class:`Client`.

    Arguments override the environment: ``SWITCHYARD_API_KEY`` (``sy_ingest_…``, for telemetry),
    ``SWITCHYARD_SDK_KEY`` (``sy_sdk_…``, for routing config), ``SWITCHYARD_HOST``,
    ``SWITCHYARD_ENVIRONMENT``, ``SWITCHYARD_CONFIG_PUBLIC_KEYS`` (``"key_id:base64,…"``),
    ``SWITCHYARD_SPOOL_DIR``, ``SWITCHYARD_CACHE_DIR``, ``SWITCHYARD_SYNC_MODE=1`` and
    ``SWITCHYARD_DISABLED=1``. Calling it again replaces the previous client (flushed first).

    A wrong key or an unreachable host is logged once and never raised; only an impossible
    option (a negative size, a host that is not a URL) raises :class:`ConfigurationError`.

    Example::

        import switchyard
        from openai import OpenAI

        switchyard.init(api_key="sy_ingest_…", sdk_key="sy_sdk_…", host="https://switchyard.example",
                        config_public_keys={"k1": "base64-of-32-byte-ed25519-key"})
        client = switchyard.wrap(OpenAI())
        with switchyard.endpoint("support-reply"):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    """
    global _current, _atexit_registered
    settings = dict(locals())
    settings.pop("transport")
    options = resolve_options(settings)
    with _lock:
        previous = _current
        _current = None
        if previous is not None:
            previous.shutdown()
        _current = Client(options, transport)
        if not _atexit_registered:
            atexit.register(_atexit)
            _atexit_registered = True
        return _current


def get_client() -> Client | None:
    """The current :class:`Client`, or ``None`` before :func:`init`.

    Example::

        client = switchyard.get_client()
        if client is not None and client.last_config_error:
            log.warning("routing config rejected: %s", client.last_config_error)
    """
    return _current


def shutdown(timeout: float | None = None) -> None:
    """Flush (bounded) and stop the current client; wrapped clients then pass calls through.

    Runs by itself at interpreter exit, bounded by ``shutdown_timeout`` (1 s). Example (a worker
    that stops before its process does)::

        switchyard.shutdown(timeout=2.0)
    """
    global _current
    with _lock:
        client, _current = _current, None
    if client is not None:
        client.shutdown(timeout)


def flush(timeout: float = 5.0) -> bool:
    """Send queued telemetry now; ``True`` if everything was handed over within ``timeout``.

    Example (a serverless handler)::

        def handler(event, context):
            answer = client.responses.create(model="gpt-4o-mini", input=event["q"])
            switchyard.flush(timeout=2.0)
            return answer.output_text
    """
    client = _current
    return client.flush(timeout) if client is not None else True


def stats() -> Stats:
    """Delivery counters of the current client, including dropped events by reason.

    Example::

        print(switchyard.stats().dropped_by_reason)   # {'queue_full': 3}
    """
    client = _current
    return client.stats() if client is not None else Stats()


def wait_for_config(timeout: float = 5.0) -> bool:
    """Block until a verified routing config is in force, up to ``timeout`` seconds.

    Returns ``False`` on timeout (calls then use the app's own models). Example::

        switchyard.init(sdk_key="sy_sdk_…", config_public_keys={...})
        switchyard.wait_for_config(2.0)
    """
    client = _current
    return client.wait_for_config(timeout) if client is not None else False
