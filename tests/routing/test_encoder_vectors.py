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


def test_the_encoder_computes_in_float32_and_an_int8_export_is_stale() -> None:
    """Integer kernels are picked by instruction set, so an int8 graph embeds a prompt differently on
    different CPUs (0.043 apart, AVX2 against AVX-512/AMX): the export has no quantized operator, and
    an artefact exported before (no `precision`) is exported again rather than used."""
    import onnx

    artefact = encoder.ensure()
    assert artefact.manifest["precision"] == "float32"
    graph = onnx.load(str(artefact.folder / "model.onnx")).graph
    assert {t.data_type for t in graph.initializer} <= {onnx.TensorProto.FLOAT, onnx.TensorProto.INT64}
    quantized = {"MatMulInteger", "DynamicQuantizeLinear", "QuantizeLinear", "DequantizeLinear"}
    assert not {node.op_type for node in graph.node} & quantized
    int8_era = {k: v for k, v in artefact.manifest.items() if k != "precision"}
    assert not encoder._fresh(encoder.Artefact(artefact.folder, int8_era))
    assert encoder._fresh(artefact)
