"""The server reproduces the shared `encoder_linear` vectors (sdk/testdata/encoder_vectors.json):
the exported encoder's token ids and embeddings, each prompt's member, score and decision, and the
fallback router's decision. Needs the `encoder` extra (`make test` installs it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from apps.routing import encoder, learned
from apps.routing.encoder_pool import EncoderScorer

VECTORS = Path(__file__).resolve().parents[2] / "sdk" / "testdata" / "encoder_vectors.json"
pytestmark = pytest.mark.skipif(not encoder.available(), reason="needs the encoder extra")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(VECTORS.read_text())


def test_the_exported_encoder_embeds_as_the_vectors_say(doc: dict[str, Any]) -> None:
    artefact = encoder.ensure()
    spec = artefact.spec()
    assert {k: spec[k] for k in ("name", "dim", "max_tokens", "pooling", "normalize")} == {
        k: doc["model"]["encoder"][k] for k in ("name", "dim", "max_tokens", "pooling", "normalize")
    }
    texts = [c["text"] for c in doc["cases"]]
    runtime = encoder.Runtime(artefact, threads=1)
    assert [runtime.tokenizer.encode(t).ids for t in texts] == [c["token_ids"] for c in doc["cases"]]
    got = encoder.embed(texts, artefact)
    want = np.asarray([c["embedding"] for c in doc["cases"]])
    assert np.abs(got - want).max() <= doc["embedding_tolerance"]
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_scores_and_decisions_match(doc: dict[str, Any]) -> None:
    model = {**doc["model"], "encoder": encoder.ensure().spec()}
    scorer = EncoderScorer(model)
    fallback = learned.Scorer(doc["model"]["fallback"])
    for case in doc["cases"]:
        text = case["text"]
        assert learned.member_index(text, len(model["members"])) == case["member"]
        assert scorer.score(text) == pytest.approx(case["score"], abs=doc["score_tolerance"])
        assert scorer.routes_to_target(text) is case["route_to_target"]
        assert fallback.routes_to_target(text) is case["without_encoder"]["route_to_target"]


def test_the_weights_fit_seven_bits_and_a_full_range_export_is_stale() -> None:
    """AVX2's uint8 × int8 kernel adds pairs of products in 16 bits and saturates with full-range
    weights, so such a graph embeds a prompt differently on different CPUs (0.043 apart, AVX2 against
    AVX-512/AMX): every quantized weight is within 7 bits, and an artefact exported before (no
    `precision`) is exported again rather than used."""
    import onnx
    from onnx import numpy_helper

    artefact = encoder.ensure()
    assert artefact.manifest["precision"] == encoder.PRECISION
    graph = onnx.load(str(artefact.folder / "model.onnx")).graph
    weights = [numpy_helper.to_array(t) for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert sum(w.size for w in weights) > 10_000_000  # the transformer's matrices, quantized
    assert max(int(np.abs(w.astype(np.int32)).max()) for w in weights) <= 64  # 2 × 255 × 64 < 2¹⁵
    full_range = {k: v for k, v in artefact.manifest.items() if k != "precision"}
    assert not encoder._fresh(encoder.Artefact(artefact.folder, full_range))
    assert encoder._fresh(artefact)
