"""Captured payloads in each app format → one request; answers back out; rendering across formats."""

from __future__ import annotations

import pytest

from apps.replay.providers.anthropic import render_anthropic
from apps.replay.providers.gemini import render_gemini
from apps.replay.providers.openai_compat import render_openai
from apps.replay.providers.translate import Unsupported, detect_format, parse_answer, parse_request

SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}


def test_openai_chat_request_with_tools_and_schema() -> None:
    req = parse_request(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "developer", "content": "Classify."},
                {"role": "user", "content": [{"type": "text", "text": "Is this spam?"}]},
            ],
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "lookup"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}},
            "max_completion_tokens": 50,
            "stop": "END",
        }
    )
    assert req.system == "Classify." and req.prompt_text() == "Is this spam?"
    assert req.tools[0].name == "lookup" and req.tool_choice == "lookup"
    assert req.json_mode and req.json_schema == SCHEMA and req.max_tokens == 50 and req.stop == ("END",)
    assert req.source_format == "openai"


def test_anthropic_request() -> None:
    payload = {
        "model": "claude-haiku-4-5",
        "system": [{"type": "text", "text": "Be kind."}],
        "max_tokens": 300,
        "messages": [
            {"role": "user", "content": "Hi"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"x": 1}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "42"}]},
        ],
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any"},
    }
    assert detect_format(payload) == "anthropic"
    req = parse_request(payload)
    assert req.system == "Be kind." and req.max_tokens == 300 and req.tool_choice == "required"
    assert [m.role for m in req.messages] == ["user", "assistant", "tool"]
    assert req.messages[1].tool_calls[0].arguments == '{"x": 1}' and req.messages[2].tool_call_id == "t"


def test_gemini_request() -> None:
    req = parse_request(
        {
            "systemInstruction": {"parts": [{"text": "Short."}]},
            "contents": [{"role": "user", "parts": [{"text": "2+2?"}]}],
            "generationConfig": {
                "maxOutputTokens": 10,
                "responseMimeType": "application/json",
                "temperature": 0,
            },
        }
    )
    assert req.system == "Short." and req.prompt_text() == "2+2?" and req.json_mode and req.max_tokens == 10
    assert req.temperature == 0.0 and req.source_format == "gemini"


@pytest.mark.parametrize(
    ("contents", "turns"),
    [
        ("2+2?", ["user"]),
        ({"text": "2+2?"}, ["user"]),
        (["2+", {"text": "2?"}], ["user"]),
        (
            [
                {"role": "user", "parts": [{"text": "Hi"}]},
                {"role": "model", "parts": [{"text": "Hello", "thought": False}]},
                {"role": "user", "parts": [{"text": "2+2?"}]},
            ],
            ["user", "assistant", "user"],
        ),
    ],
)
def test_google_genai_client_arguments(contents: object, turns: list[str]) -> None:
    """What the SDK captures from `client.models.generate_content(model=, contents=, config=)`."""
    tool = {
        "function_declarations": [{"name": "add", "description": "Adds", "parameters": {"type": "OBJECT"}}]
    }
    req = parse_request(
        {
            "model": "gemini-2.5-flash",
            "contents": contents,
            "config": {
                "system_instruction": "Short.",
                "max_output_tokens": 64,
                "temperature": 0.2,
                "top_p": 0.9,
                "stop_sequences": ["END"],
                "response_mime_type": "application/json",
                "tools": [tool],
            },
        }
    )
    assert [m.role for m in req.messages] == turns and req.prompt_text().endswith("2+2?")
    assert (req.system, req.max_tokens, req.temperature, req.top_p, req.stop) == (
        "Short.",
        64,
        0.2,
        0.9,
        ("END",),
    )
    assert req.json_mode and req.tools[0].name == "add" and req.source_format == "gemini"


def test_google_genai_response_dump_with_a_function_call() -> None:
    dump = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "thinking", "thought": True},
                        {"function_call": {"name": "add", "args": {"a": 1}}},
                    ],
                    "role": "model",
                },
                "finish_reason": "STOP",
            }
        ],
        "model_version": "gemini-2.5-flash-001",
        "usage_metadata": {"prompt_token_count": 3},
    }
    assert parse_answer(dump) == parse_answer(
        {"candidates": [{"content": {"parts": [{"functionCall": {"name": "add", "args": {"a": 1}}}]}}]}
    )
    assert "add" in parse_answer(dump) and "thinking" not in parse_answer(dump)


def test_responses_api_request() -> None:
    req = parse_request(
        {"model": "gpt-4.1", "instructions": "Terse.", "input": "Name a colour", "max_output_tokens": 20}
    )
    assert req.system == "Terse." and req.prompt_text() == "Name a colour" and req.max_tokens == 20


def test_unset_max_tokens_is_zero_so_the_replay_chooses() -> None:
    assert parse_request({"messages": [{"role": "user", "content": "hi"}]}).max_tokens == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
        {"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "x"}}]}]},
        {"messages": [{"role": "system", "content": "only a system prompt"}]},
        {"prompt": "legacy completions"},
    ],
)
def test_content_that_cannot_be_replayed_is_unsupported(payload: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(Unsupported):
        parse_request(payload)


def test_answers_in_every_shape() -> None:
    assert parse_answer({"choices": [{"message": {"content": "A"}}]}) == "A"
    assert parse_answer({"type": "message", "content": [{"type": "text", "text": "B"}]}) == "B"
    assert (
        parse_answer(
            {"candidates": [{"content": {"parts": [{"text": "C"}, {"text": "x", "thought": True}]}}]}
        )
        == "C"
    )
    assert (
        parse_answer({"output": [{"type": "message", "content": [{"type": "output_text", "text": "D"}]}]})
        == "D"
    )
    assert parse_answer({"content": "E"}) == "E" and parse_answer("F") == "F"
    calls = {
        "choices": [{"message": {"tool_calls": [{"id": "1", "function": {"name": "f", "arguments": "{}"}}]}}]
    }
    assert parse_answer(calls) == '{"arguments": {}, "name": "f"}'


def test_a_request_renders_into_every_provider_format() -> None:
    req = parse_request(
        {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}], "max_tokens": 9}
    )
    assert render_openai(req, "m")["messages"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Q"},
    ]
    assert render_anthropic(req, "m")["system"] == "S" and render_anthropic(req, "m")["max_tokens"] == 9
    assert render_gemini(req, "m")["contents"] == [{"role": "user", "parts": [{"text": "Q"}]}]
    assert render_openai(req, "o3-mini")["max_completion_tokens"] == 9  # reasoning models
