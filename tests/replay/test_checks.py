"""The cascade checks replay records per answer, as the SDK's cascade runs them.

A refusal is a whole answer that declines and does not go on to answer (not an apology before an
answer); invalid JSON is only reported where answers are meant to be JSON. The refusal check is
measured on the real answers of ../shared/data/routing-eval/v1/alpaca_eval.jsonl, read by hand
(tests/replay/refusal_labels.py), and must agree with the SDK's copy and the shared vectors.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from switchyard._cascade import failing_check

from apps.replay.engine.runner import replay_job_run
from apps.replay.evaluators.checks import failed_checks
from apps.replay.models import JobStatus
from apps.replay.providers.base import ChatRequest, Message
from apps.replay.selectors import endpoint_evidence
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from tests.replay.factories import call, connect, ingest
from tests.replay.fakes import FakeProvider
from tests.replay.refusal_labels import LABELS
from tests.tenancy import Tenant

ROOT = Path(__file__).resolve().parents[2]
VECTORS: list[dict[str, Any]] = json.loads((ROOT / "sdk" / "testdata" / "refusal_vectors.json").read_text())[
    "cases"
]
ALPACA = ROOT.parent / "shared" / "data" / "routing-eval" / "v1" / "alpaca_eval.jsonl"
PROSE = ChatRequest(system="", messages=(Message("user", "How do I comfort a friend?"),))
JSON_MODE = ChatRequest(system="", messages=(Message("user", "Extract the order id"),), json_mode=True)
MAX_FALSE_POSITIVE_RATE = 0.05  # measured: 0 of 62 flagged (the old check: 50 of 106)
MIN_REFUSALS_CAUGHT = 60  # measured: 62 of the 78 refusals found by reading (the old check: 56)


def refused(text: str) -> bool:
    return "refusal" in failed_checks(text, False, PROSE)


@lru_cache(maxsize=1)
def alpaca_answers() -> tuple[tuple[str, str, float], ...]:
    """(key, answer, its judge score) for every recorded answer."""
    out = []
    with ALPACA.open() as f:
        for line in f:
            row = json.loads(line)
            answers = {"baseline": row["baseline"], **row["candidates"]}
            out += [(f"{row['id']}:{m}", a["output"], a["score"]) for m, a in answers.items() if a["output"]]
    return tuple(out)


def _case_id(case: dict[str, Any]) -> str:
    return ("refusal: " if case["refusal"] else "answer: ") + case["text"][:50]


@pytest.mark.parametrize("case", VECTORS, ids=_case_id)
def test_refusal_check_matches_the_shared_vectors(case: dict[str, Any]) -> None:
    assert refused(case["text"]) is case["refusal"]


def test_an_apology_that_goes_on_to_answer_is_not_a_refusal() -> None:
    assert (
        failed_checks("I apologize for any confusion, here is the corrected list:\n- eggs\n- milk", False)
        == ()
    )
    assert failed_checks("I'm sorry to hear that. Here are some tips: rest, fluids and sleep.", False) == ()
    assert failed_checks("I'm sorry, but I can't help with that.", False) == ("refusal",)
    assert failed_checks("Sure, here it is.", True) == ("refusal",)  # the provider flagged it


def test_refusal_check_on_real_answers_has_few_false_positives() -> None:
    answers = alpaca_answers()
    assert len(answers) == 5635
    flagged = {key for key, text, _ in answers if refused(text)}
    assert not flagged - LABELS.keys(), "flagged answers nobody has read: add them to refusal_labels.py"
    wrong = sorted(k for k in flagged if LABELS[k] != "refusal")
    assert len(wrong) <= MAX_FALSE_POSITIVE_RATE * len(flagged), wrong
    refusals = {k for k, v in LABELS.items() if v == "refusal"}
    assert len(flagged & refusals) >= MIN_REFUSALS_CAUGHT
    # Whole refusals of every kind are still caught, and the judge liked none of the answers
    # flagged that are not refusals (a score of 0.5 or more means as good as the app's answer).
    for key in (
        "ae-260:gpt-3.5-turbo-1106",
        "ae-296:claude-2.1",
        "ae-294:Qwen-14B-Chat",
        "ae-343:claude-2.1",
    ):
        assert key in flagged, key
    liked = {k for k, _, score in answers if score >= 0.5 and k in flagged and LABELS[k] != "refusal"}
    assert not liked


def test_server_and_sdk_checks_agree_on_every_real_answer() -> None:
    for _, text, _ in alpaca_answers():
        assert refused(text) is (failing_check(("refusal",), text, False) == "refusal"), text[:200]


def test_invalid_json_only_where_answers_are_meant_to_be_json() -> None:
    prose = "Paris is the capital of France."
    assert failed_checks(prose, False, PROSE) == ()
    assert failed_checks(prose, False, PROSE, baseline="Lyon is in France.") == ()
    assert failed_checks(prose, False, JSON_MODE) == ("invalid_json",)
    assert failed_checks(prose, False, PROSE, baseline='{"capital": "Paris"}') == ("invalid_json",)
    assert failed_checks('```json\n{"capital": "Paris"}\n```', False, JSON_MODE) == ()
    assert failed_checks("", False, PROSE) == ("empty",)
    assert failed_checks(None, False, JSON_MODE) == ()  # a tool call passes every check


@pytest.mark.django_db
def test_a_replay_tags_invalid_json_only_where_the_app_answered_json(tenant: Tenant, catalogue: Any) -> None:
    now = datetime.now(UTC)
    events = [
        call(
            f"Ticket {i}: where is my order?",
            '{"label": "shipping"}',
            endpoint="extract",
            ts=now - timedelta(hours=i + 1),
        )
        for i in range(3)
    ]
    events += [call(f"Ticket {i}: where is my order?", "It ships tomorrow.", endpoint="reply",
                    ts=now - timedelta(hours=i + 1)) for i in range(3)]  # fmt: skip
    ingest(tenant, events)
    with FakeProvider("openai", responder=lambda p, m, b: "shipping") as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        for endpoint in ("extract", "reply"):
            spec = ReplaySpec(endpoint=endpoint, candidates=(CandidateSpec("openai", "gpt-4o-mini"),),
                              evaluator="similarity", sample_size=3, spend_cap_nano=NANO)  # fmt: skip
            job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
            assert job is not None and job.status == JobStatus.DONE
    extract = endpoint_evidence(project_id=tenant.project.pk, endpoint="extract")
    reply = endpoint_evidence(project_id=tenant.project.pk, endpoint="reply")
    assert extract is not None and reply is not None
    assert [c.failed_checks for s in extract.samples for c in s.candidates.values()] == [
        ("invalid_json",)
    ] * 3
    assert [c.failed_checks for s in reply.samples for c in s.candidates.values()] == [()] * 3
