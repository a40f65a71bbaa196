"""What a call's request and response say beyond its usage, read once at ingest.

apps.opportunities needs to know, for every call that carries its payloads (whether or not the
project stores them), four things no usage block reports:

- **the prompt's prefix**, as the provider caches it: tools, then the system prompt, then each
  message in order, read as one stream of their raw JSON bytes. At every piece's end, and at every
  multiple of `CHUNK` bytes inside a long piece (≈ 256 tokens), one *point* is kept: the byte
  offset in the high 32 bits and the CRC-32 of the stream up to there in the low 32
  (`prefix_points`; `prompt_bytes` is the whole stream's length). Two calls whose prompts begin
  alike share their leading points, so repeated prefixes are found by comparing 8-byte numbers
  (the same length and the same CRC: a false match is a 1-in-4-billion event per pair): the prompt
  itself is never stored a second time and never needs to be stored at all. CRC-32 runs in C and
  continues from where it stopped, so the stream is read once;
- `max_tokens` (`max_tokens`, `max_completion_tokens`, `max_output_tokens`, Gemini's
  `max_output_tokens` / `maxOutputTokens` in its config), 0 when absent;
- `streamed`: 1 when the request asked to stream (or the event has a time to first token), 0 when
  a request was seen that did not, -1 unknown;
- `finish_reason`, normalised across providers: `stop`, `length` (cut at the output limit:
  OpenAI's `length`, Anthropic's `max_tokens`, Gemini's `MAX_TOKENS`, the Responses API's
  `incomplete` for `max_output_tokens`), `tool_calls`, `content_filter`, or the provider's own word.

The event's own `max_tokens`, `stream` and `finish_reason` fields win over what the payloads say
(docs/protocol.md). Everything here fails soft: a payload that is not the shape expected gives no
shape, never a rejected event.
"""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple

import msgspec

CHUNK = 1024  # bytes of prompt JSON between hash points inside a long piece (≈ 256 tokens)
MAX_POINTS = 64  # hash points kept per call: the first HEAD_POINTS and the last ones
HEAD_POINTS = 16


_NONE = msgspec.Raw(b"")  # msgspec.Raw cannot be Optional: an absent field is empty


class _Config(msgspec.Struct, forbid_unknown_fields=False):
    tools: msgspec.Raw = _NONE
    system_instruction: msgspec.Raw = _NONE
    systemInstruction: msgspec.Raw = _NONE  # the provider's own camelCase names
    max_output_tokens: Any = None
    maxOutputTokens: Any = None


class _Request(msgspec.Struct, forbid_unknown_fields=False):
    tools: msgspec.Raw = _NONE
    system: msgspec.Raw = _NONE  # Anthropic
    instructions: msgspec.Raw = _NONE  # OpenAI Responses
    system_instruction: msgspec.Raw = _NONE  # Gemini
    systemInstruction: msgspec.Raw = _NONE  # the provider's own camelCase names
    messages: list[msgspec.Raw] | None = None  # Chat Completions, Anthropic
    input: msgspec.Raw = _NONE  # Responses: a string or a list of items
    contents: msgspec.Raw = _NONE  # Gemini: a string or a list of contents
    config: _Config | None = None  # google-genai
    generationConfig: _Config | None = None
    max_tokens: Any = None
    max_completion_tokens: Any = None
    max_output_tokens: Any = None
    stream: Any = None


class _Choice(msgspec.Struct, forbid_unknown_fields=False):
    finish_reason: Any = None


class _Candidate(msgspec.Struct, forbid_unknown_fields=False):
    finish_reason: Any = None
    finishReason: Any = None


class _Incomplete(msgspec.Struct, forbid_unknown_fields=False):
    reason: Any = None


class _Response(msgspec.Struct, forbid_unknown_fields=False):
    choices: list[_Choice] | None = None  # Chat Completions
    stop_reason: Any = None  # Anthropic (and the SDK's summary of its streams)
    finish_reason: Any = None  # the SDK's summary of OpenAI and Gemini streams
    candidates: list[_Candidate] | None = None  # Gemini
    status: Any = None  # Responses
    incomplete_details: _Incomplete | None = None


_request_decoder = msgspec.json.Decoder(_Request)
_response_decoder = msgspec.json.Decoder(_Response)
_list_decoder = msgspec.json.Decoder(list[msgspec.Raw])

FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "completed": "stop",
    "pause_turn": "stop",
    "length": "length",
    "max_tokens": "length",
    "max_output_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "malformed_function_call": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "safety": "content_filter",
    "recitation": "content_filter",
    "prohibited_content": "content_filter",
    "blocklist": "content_filter",
    "spii": "content_filter",
}


class Shape(NamedTuple):
    prompt_bytes: int = 0
    prefix_points: list[int] = []
    max_tokens: int = 0
    streamed: int = -1
    finish_reason: str = ""


NO_SHAPE = Shape()


def point_offset(point: int) -> int:
    return point >> 32


def finish_reason_normalised(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    low = value.strip().lower()
    return FINISH_REASONS.get(low) or low[:32]


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, min(int(value), 2_000_000_000))


def _pieces(req: _Request) -> list[msgspec.Raw]:
    """The prompt's parts in the order providers cache them: tools, system, then each message."""
    out: list[msgspec.Raw] = []
    config = req.config or req.generationConfig
    tools = req.tools or (config.tools if config else None)
    if tools:
        out.append(tools)
    system = req.system or req.instructions or req.system_instruction or req.systemInstruction
    if not system and config is not None:
        system = config.system_instruction or config.systemInstruction
    if system:
        out.append(system)
    if req.messages:
        out.extend(req.messages)
    for raw in (req.input, req.contents):
        if raw:
            if memoryview(raw)[:1] == b"[":
                out.extend(_list_decoder.decode(raw))
            else:
                out.append(raw)
    return out


def prefix_points(pieces: list[msgspec.Raw] | list[bytes]) -> tuple[int, list[int]]:
    """(stream length, points) at each piece's end and each multiple of CHUNK inside a piece."""
    crc, pos = 0, 0
    points: list[int] = []
    crc32 = zlib.crc32
    for piece in pieces:
        view = memoryview(piece)
        n = len(view)
        cut = (pos // CHUNK + 1) * CHUNK - pos  # the next multiple of CHUNK, inside this piece
        start = 0
        while cut < n:
            crc = crc32(view[start:cut], crc)
            points.append((pos + cut) << 32 | crc)
            start, cut = cut, cut + CHUNK
        crc = crc32(view[start:], crc) if start else crc32(view, crc)
        pos += n
        if n:
            points.append(pos << 32 | crc)
    if len(points) > MAX_POINTS:
        points = points[:HEAD_POINTS] + points[HEAD_POINTS - MAX_POINTS :]
    return pos, points


def _response_finish(data: bytes | msgspec.Raw) -> str:
    resp = _response_decoder.decode(data)
    if resp.choices:
        return finish_reason_normalised(resp.choices[0].finish_reason)
    if resp.candidates:
        first = resp.candidates[0]
        return finish_reason_normalised(first.finish_reason or first.finishReason)
    if resp.stop_reason is not None:
        return finish_reason_normalised(resp.stop_reason)
    if resp.finish_reason is not None:
        return finish_reason_normalised(resp.finish_reason)
    if resp.status == "incomplete" and resp.incomplete_details is not None:
        return finish_reason_normalised(resp.incomplete_details.reason)
    return finish_reason_normalised(resp.status)


def read_shape(
    request: bytes | msgspec.Raw,
    response: bytes | msgspec.Raw,
    *,
    max_tokens: int | None = None,
    stream: bool | None = None,
    finish_reason: str = "",
    has_ttft: bool = False,
) -> Shape:
    """The call's shape from its raw request and response JSON (b"" when absent) and the event's own
    fields (which win)."""
    prompt_bytes, points = 0, NO_SHAPE.prefix_points
    asked_max, asked_stream = 0, -1
    if request and memoryview(request) != b"null":
        try:
            req = _request_decoder.decode(request)
            prompt_bytes, points = prefix_points(_pieces(req))
            config = req.config or req.generationConfig
            asked_max = _count(
                req.max_tokens
                or req.max_completion_tokens
                or req.max_output_tokens
                or (config.max_output_tokens or config.maxOutputTokens if config else None)
            )
            asked_stream = 1 if req.stream is True else 0
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            pass
    reason = finish_reason_normalised(finish_reason)
    if not reason and response and memoryview(response) != b"null":
        try:
            reason = _response_finish(response)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            reason = ""
    if stream is not None:
        asked_stream = int(stream)
    elif has_ttft:
        asked_stream = 1
    return Shape(
        prompt_bytes, points, max_tokens if max_tokens is not None else asked_max, asked_stream, reason
    )
