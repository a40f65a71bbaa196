"""The ``encoder_linear`` router: a linear head on a sentence embedding (docs/protocol.md, LEARNED_MODEL).

The encoder (an ONNX graph and its ``tokenizer.json``) is served by the Switchyard server, named by
the SHA-256 the signed config gives. :class:`EncoderLoader` fetches it once with the SDK key on a
background thread, keeps it on disk, checks every file's hash and the artefact's name before it
loads it with onnxruntime and tokenizers (the optional extra ``switchyard-sdk[encoder]``), and never
touches the network on the call path. Until the encoder runs — no extra, not fetched yet, a failed
check — a prompt is decided by the model's ``fallback`` linear router, or stays on the app's own
model, and the event's ``routing.reason`` says ``learned:encoder_unavailable``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import random
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._learned import LearnedModel
from ._log import log_once
from ._transport import Request, Transport

logger = logging.getLogger("switchyard")

UNAVAILABLE = "learned:encoder_unavailable"
EXTRA_MODULES = ("numpy", "onnxruntime", "tokenizers")
REQUIRED_FILES = ("model.onnx", "tokenizer.json")
CAPABILITIES_BASE = ("hashed_linear/1", "hashed_linear/2")
ENCODER_CAPABILITIES = ("encoder_linear/1", "encoder_linear/2")  # with the extra
PREFIX_CHARS = 6  # characters a token, at most, that a long prompt is tokenized up to first (Runtime.encode)


def extra_available() -> bool:
    """Whether ``switchyard-sdk[encoder]`` is installed (numpy, onnxruntime, tokenizers)."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in EXTRA_MODULES)
    except (ImportError, ValueError):
        return False


def capabilities() -> str:
    """What this SDK can run, as sent in ``X-Switchyard-Capabilities`` when it polls."""
    return ",".join((*CAPABILITIES_BASE, *ENCODER_CAPABILITIES) if extra_available() else CAPABILITIES_BASE)


@dataclass(frozen=True, slots=True)
class EncoderFile:
    name: str
    url: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class EncoderSpec:
    """The ``encoder`` object of an ``encoder_linear`` model."""

    name: str
    sha256: str
    files: tuple[EncoderFile, ...]
    dim: int
    max_tokens: int
    pooling: str
    normalize: bool


def artefact_sha256(file_hashes: Mapping[str, str]) -> str:
    """An artefact's name: SHA-256 over ``"<file name>\\n<file sha256>\\n"`` for each file, by name."""
    text = "".join(f"{name}\n{file_hashes[name]}\n" for name in sorted(file_hashes))
    return hashlib.sha256(text.encode()).hexdigest()


class Runtime:
    """A loaded encoder: tokenizer plus onnxruntime session; :meth:`embed` is one prompt's vector."""

    def __init__(self, spec: EncoderSpec, folder: Path, threads: int = 1) -> None:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.np = np
        self.spec = spec
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=spec.max_tokens)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, text: str) -> Any:
        """The tokens of ``text`` up to ``max_tokens``. A long text is tokenized up to its last ASCII
        space within ``PREFIX_CHARS`` characters a token first: when that part alone overflows the
        limit, its tokens are the whole text's (the tokenizer splits words at spaces and never
        looks past one), for a quarter of the time on 2,000 characters; otherwise the whole text."""
        limit = PREFIX_CHARS * self.spec.max_tokens
        if len(text) > limit:
            cut = text.rfind(" ", 0, limit)
            if cut > 0:
                encoded = self.tokenizer.encode(text[:cut])
                if encoded.overflowing:
                    return encoded
        return self.tokenizer.encode(text)

    def embed(self, text: str) -> Any:
        np = self.np
        encoded = self.encode(text)
        feed = {
            "input_ids": np.asarray([encoded.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoded.attention_mask], dtype=np.int64),
            "token_type_ids": np.asarray([encoded.type_ids], dtype=np.int64),
        }
        vector = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0][0]
        vector = np.asarray(vector, dtype=np.float64)
        if self.spec.normalize:
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return vector


_runtimes: dict[str, Runtime] = {}  # by runtime_key: content-addressed, shared by every client


def runtime_key(spec: EncoderSpec) -> str:
    """The artefact's SHA-256 with how it is run (token limit, normalisation)."""
    return f"{spec.sha256}:{spec.max_tokens}:{int(spec.normalize)}"


@dataclass(frozen=True, slots=True)
class EncoderModel:
    """A compiled ``encoder_linear`` model; :meth:`decide` is the whole decision."""

    spec: EncoderSpec
    members: tuple[tuple[tuple[float, ...], float, float], ...]  # (weights, bias, linear_weight)
    threshold: float
    fallback: LearnedModel | None

    @property
    def ready(self) -> bool:
        """Whether the encoder runs in this process (fetched, verified and loaded)."""
        return runtime_key(self.spec) in _runtimes

    def score(self, text: str) -> float | None:
        """The member's score of ``text``, or ``None`` while the encoder cannot run here."""
        runtime = _runtimes.get(runtime_key(self.spec))
        if runtime is None:
            return None
        weights, bias, blend = self.members[zlib.crc32(text.encode()) % len(self.members)]
        vector = runtime.embed(text)
        found = float(vector @ runtime.np.asarray(weights, dtype=runtime.np.float64)) + bias
        if blend and self.fallback is not None:  # version 2: the linear router's score blended in
            found += blend * self.fallback.score(text)
        return found

    def decide(self, text: str) -> tuple[bool, str | None]:
        """(route to the target?, a reason when the encoder did not decide)."""
        try:
            found = self.score(text)
        except Exception as exc:
            log_once(f"encoder-run-{self.spec.sha256}", "switchyard: encoder failed (%r); using the fallback", exc)
            found = None
        if found is not None:
            return found >= self.threshold, None
        routed = self.fallback is not None and self.fallback.routes_to_target(text)
        return routed, UNAVAILABLE

    def routes_to_target(self, text: str) -> bool:
        return self.decide(text)[0]


class EncoderLoader:
    """Fetches, verifies, caches and loads the encoders a config names (one background thread each)."""

    def __init__(
        self, *, host: str, sdk_key: str, transport: Transport, cache_dir: Path | None, timeout: float = 60.0
    ) -> None:
        self.host = host.rstrip("/")
        self.headers = {"Authorization": f"Bearer {sdk_key}"}
        self.transport = transport
        self.cache_dir = (cache_dir or Path(tempfile.gettempdir()) / "switchyard") / "encoders"
        self.timeout = timeout
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._retry_at: dict[str, tuple[float, float]] = {}  # sha → (monotonic time, backoff s)
        self.last_error: str | None = None

    def ensure(self, models: list[EncoderModel], *, wait: bool = False) -> None:
        """Load every encoder these models need that is not loaded yet (in the background)."""
        if not models or not extra_available():
            return
        threads = []
        for spec in {runtime_key(m.spec): m.spec for m in models}.values():
            if runtime_key(spec) in _runtimes:
                continue
            with self._lock:
                retry = self._retry_at.get(spec.sha256)
                if spec.sha256 in self._busy or (retry is not None and time.monotonic() < retry[0]):
                    continue
                self._busy.add(spec.sha256)
            thread = threading.Thread(target=self._load, args=(spec,), name="switchyard-encoder", daemon=True)
            thread.start()
            threads.append(thread)
        if wait:
            for thread in threads:
                thread.join()

    def _load(self, spec: EncoderSpec) -> None:
        try:
            folder = self.cache_dir / spec.sha256
            hashes = {f.name: self._file(folder, f) for f in spec.files}
            if artefact_sha256(hashes) != spec.sha256:
                raise ValueError("the files do not make the artefact the config names")
            _runtimes.setdefault(runtime_key(spec), Runtime(spec, folder))
            with self._lock:
                self._retry_at.pop(spec.sha256, None)
        except Exception as exc:
            self.last_error = f"{spec.name} {spec.sha256[:12]}: {exc}"
            with self._lock:
                backoff = min(3600.0, (self._retry_at.get(spec.sha256, (0.0, 30.0))[1]) * 2)
                self._retry_at[spec.sha256] = (time.monotonic() + backoff * random.uniform(0.9, 1.1), backoff)  # noqa: S311
            log_once(f"encoder-load-{spec.sha256}", "switchyard: encoder not loaded (%s); using the fallback", exc)
        finally:
            with self._lock:
                self._busy.discard(spec.sha256)

    def _file(self, folder: Path, f: EncoderFile) -> str:
        """The file on disk, fetched first if missing or not what the config names; its hash."""
        path = folder / f.name
        if path.is_file() and _sha256_file(path) == f.sha256:
            return f.sha256
        url = f.url if "://" in f.url else self.host + "/" + f.url.lstrip("/")
        response = self.transport.send(Request("GET", url, self.headers, b"", self.timeout))
        if response.status != 200:
            raise ValueError(f"GET {url} answered {response.status}")
        if hashlib.sha256(response.body).hexdigest() != f.sha256:
            raise ValueError(f"{f.name} fetched from {url} does not match its SHA-256")
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{f.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            tmp.write_bytes(response.body)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return f.sha256


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
