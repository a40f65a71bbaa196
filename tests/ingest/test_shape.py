"""A call's shape read at ingest: prompt-prefix hashes, max_tokens, streaming and how the answer ended."""

from __future__ import annotations

import json
import time

import pytest

from apps.ingest.models import IngestSettings
from apps.ingest.selectors import ingest_config_forget
from apps.ingest.shape import CHUNK, HEAD_POINTS, MAX_POINTS, point_offset, prefix_points, read_shape
from tests.ingest.events import event, post_batch, stored_call
from tests.tenancy import Tenant

SYSTEM = "You answer questions about Acme Cloud from the help centre. " * 40  # ≈ 2.4 kB, stable


def _chat(question: str, **extra: object) -> bytes:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    return json.dumps({"model": "gpt-4o-mini", "messages": messages, **extra}).encode()


def _ends(points: list[int]) -> list[int]:
    return [point_offset(p) for p in points]


def test_prompts_that_begin_alike_share_their_leading_points_and_part_where_they_differ() -> None:
    a = read_shape(_chat("How do I reset my password?"), b"")
    b = read_shape(_chat("Can I add a second admin to the workspace?"), b"")
    system_bytes = len(json.dumps({"role": "system", "content": SYSTEM}))
    # Two points inside the system message (every CHUNK bytes), then its end, all shared; then the
    # questions differ, and so does every point after.
    assert _ends(a.prefix_points)[:3] == [CHUNK, 2 * CHUNK, system_bytes]
    assert a.prefix_points[:3] == b.prefix_points[:3]
    assert a.prefix_points[3:] and not set(a.prefix_points[3:]) & set(b.prefix_points[3:])
    assert a.prompt_bytes == _ends(a.prefix_points)[-1] and b.prompt_bytes > a.prompt_bytes
    assert read_shape(_chat("How do I reset my password?"), b"") == a  # the same prompt, the same points


def test_each_provider_shape_gives_its_prefix_limit_stream_and_finish_reason() -> None:
    anthropic = json.dumps(
        {"model": "claude-sonnet-4-5", "tools": [{"name": "lookup"}], "system": "Be brief.",
         "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1024, "stream": True}
    ).encode()  # fmt: skip
    shape = read_shape(anthropic, json.dumps({"stop_reason": "max_tokens"}).encode())
    assert (shape.max_tokens, shape.streamed, shape.finish_reason, len(shape.prefix_points)) == (
        1024,
        1,
        "length",
        3,
    )
    responses = json.dumps(
        {"model": "gpt-5", "instructions": "Be brief.", "input": [{"role": "user", "content": "hi"}],
         "max_output_tokens": 300}
    ).encode()  # fmt: skip
    done = json.dumps(
        {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    ).encode()
    shape = read_shape(responses, done)
    assert (shape.max_tokens, shape.streamed, shape.finish_reason, len(shape.prefix_points)) == (
        300,
        0,
        "length",
        2,
    )
    gemini = json.dumps(
        {"model": "gemini-2.5-flash", "contents": "Summarise this.",
         "config": {"system_instruction": "You summarise.", "max_output_tokens": 64}}
    ).encode()  # fmt: skip
    shape = read_shape(gemini, json.dumps({"candidates": [{"finish_reason": "MAX_TOKENS"}]}).encode())
    assert (shape.max_tokens, shape.finish_reason, len(shape.prefix_points)) == (64, "length", 2)
    openai = _chat("hi", max_completion_tokens=50)
    shape = read_shape(openai, json.dumps({"choices": [{"finish_reason": "tool_calls"}]}).encode())
    assert (shape.max_tokens, shape.finish_reason) == (50, "tool_calls")


def test_the_events_own_fields_win_and_bad_payloads_give_no_shape() -> None:
    shape = read_shape(_chat("hi", max_tokens=10), b"", max_tokens=99, stream=False, finish_reason="end_turn")
    assert (shape.max_tokens, shape.streamed, shape.finish_reason) == (99, 0, "stop")
    assert read_shape(b"", b"", has_ttft=True).streamed == 1  # only streams report a first token
    for junk in (b'"just text"', b"[1, 2]", b'{"messages": 7}', b"{not json"):
        assert read_shape(junk, junk).prefix_points == []


def test_a_long_prompt_keeps_its_first_and_last_points() -> None:
    pieces = [b"x" * 300] * 200  # 200 messages: 200 ends and the CHUNK points between them
    length, points = prefix_points(pieces)
    ends = _ends(points)
    assert length == 60_000 and len(points) == MAX_POINTS
    assert ends[:3] == [300, 600, 900] and ends[-1] == 60_000
    assert ends == sorted(ends) and ends[HEAD_POINTS] - ends[HEAD_POINTS - 1] > CHUNK  # head, gap, tail


@pytest.mark.django_db
def test_ingest_stores_the_shape_even_when_payloads_are_not_kept(tenant: Tenant) -> None:
    IngestSettings.objects.update_or_create(project=tenant.project, defaults={"capture_mode": "none"})
    ingest_config_forget(tenant.project.pk)
    request = json.loads(_chat("Where is my order?", max_tokens=4096))
    cut = event(request=request, response={"choices": [{"finish_reason": "length"}]})
    streamed = event(request=request, ttft_ms=120, max_tokens=800, finish_reason="stop")
    bare = event(request=None, response=None)
    response = post_batch(tenant.api("ingest"), [cut, streamed, bare])
    assert response.json()["accepted"] == 3, response.content
    row = stored_call(tenant.project.pk, cut["event_id"])
    assert row["request"] == "" and row["payload_captured"] == 0  # nothing stored …
    assert len(row["prefix_points"]) >= 3  # … but the prefix is known
    assert (row["max_tokens"], row["streamed"], row["finish_reason"]) == (4096, 0, "length")
    other = stored_call(tenant.project.pk, streamed["event_id"])
    assert other["prefix_points"] == row["prefix_points"]  # the same prompt
    assert (other["max_tokens"], other["streamed"], other["finish_reason"]) == (800, 1, "stop")
    none = stored_call(tenant.project.pk, bare["event_id"])
    assert (none["prompt_bytes"], none["prefix_points"], none["streamed"], none["finish_reason"]) == (
        0,
        [],
        -1,
        "",
    )


@pytest.mark.django_db
def test_otlp_spans_carry_max_tokens_and_finish_reasons(tenant: Tenant) -> None:
    def attr(key: str, value: dict[str, object]) -> dict[str, object]:
        return {"key": key, "value": value}

    span = {
        "traceId": "5b8efff798038103d269b633813fc60d",
        "spanId": "eee19b7ec3c1b175",
        "name": "chat",
        "startTimeUnixNano": str(time.time_ns() - 1_000_000_000),
        "endTimeUnixNano": str(time.time_ns()),
        "attributes": [
            attr("gen_ai.request.model", {"stringValue": "gpt-4o-mini"}),
            attr("gen_ai.request.max_tokens", {"intValue": "256"}),
            attr("gen_ai.response.finish_reasons", {"arrayValue": {"values": [{"stringValue": "length"}]}}),
        ],
    }
    body = json.dumps(
        {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}
    )
    response = tenant.api("ingest").post("/v1/otlp/v1/traces", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    from apps.warehouse.client import ProjectScope

    sql = "SELECT max_tokens, finish_reason FROM llm_calls WHERE project_id = {project_id:UInt64}"
    assert ProjectScope(tenant.project.pk).query(sql, feature="test").rows == [(256, "length")]
