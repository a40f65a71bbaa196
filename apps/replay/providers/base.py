"""One interface over every provider: a provider-neutral chat request in, a completion out.

`ChatRequest` is what the app sent, parsed from whatever wire format it used (translate.py);
each adapter renders it in its own provider's format, sends it, and parses the reply into a
`Completion` carrying the text, tool calls and the usage exactly as the provider reported it
(priced later by apps.pricing). Failures are `ProviderError`s that say whether to retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.pricing.cost import Usage

DEFAULT_MAX_TOKENS = 1024


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)  # JSON Schema


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text


@dataclass(frozen=True)
class Message:
    role: str  # user | assistant | tool
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""  # for role "tool": the call answered
    name: str = ""  # for role "tool": the tool's name (Gemini needs it)


@dataclass(frozen=True)
class ChatRequest:
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None  # auto | none | required | <tool name>
    json_mode: bool = False
    json_schema: dict[str, Any] | None = None
    max_tokens: int = 0  # 0: the app set none (a replay always sets one; renderers default it)
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    source_format: str = "openai"  # the wire format the app used
    # Never sent: the app's own answer, which only the `sim` provider reads (to simulate).
    reference: str = ""
    purpose: str = "candidate"  # candidate | judge
    # Never sent: the app's own call in tokens (its whole prompt; everything it generated), as
    # recorded, which only the `sim` provider reads (to answer at a believable length).
    reference_usage: Usage | None = None

    def all_text(self) -> str:
        """Everything that becomes prompt tokens (for the worst-case bound)."""
        parts = [self.system]
        for m in self.messages:
            parts.append(m.text)
            parts.extend(f"{c.name}{c.arguments}" for c in m.tool_calls)
        for t in self.tools:
            parts.append(f"{t.name}{t.description}{t.parameters}")
        if self.json_schema:
            parts.append(str(self.json_schema))
        return "\n".join(parts)

    def prompt_text(self) -> str:
        """The user messages joined by newlines (what a learned router scores)."""
        return "\n".join(m.text for m in self.messages if m.role == "user" and m.text)


@dataclass(frozen=True)
class Completion:
    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage | None  # None: the provider reported no usage
    latency_ms: int
    finish_reason: str = ""
    refused: bool = False  # the provider flagged a refusal or blocked the answer
    model: str = ""  # as the provider answered

    def answer(self) -> str:
        """The answer as evaluators compare it: the text, or the tool calls as JSON."""
        return answer_text(self.text, self.tool_calls)


def answer_text(text: str, tool_calls: tuple[ToolCall, ...] | list[ToolCall]) -> str:
    if not tool_calls:
        return text
    import json

    calls = []
    for call in tool_calls:
        try:
            args: Any = json.loads(call.arguments) if call.arguments else {}
        except ValueError:
            args = call.arguments
        calls.append({"name": call.name, "arguments": args})
    rendered = json.dumps(calls if len(calls) > 1 else calls[0], sort_keys=True, ensure_ascii=False)
    return f"{text}\n{rendered}" if text.strip() else rendered


RETRYABLE_KINDS = frozenset({"rate_limited", "timeout", "server", "connection", "malformed"})
FATAL_KINDS = frozenset({"auth", "not_found"})


class Unsupported(ValueError):
    """A captured request that cannot be replayed as it was (images, audio, unknown shape)."""


class ProviderError(Exception):
    """A provider call that failed.

    kind: rate_limited | timeout | server | connection | malformed (worth retrying),
          auth | not_found (the job cannot go on), bad_request (this request only).
    `maybe_billed`: the request may have been processed (a timeout after it was sent), so its
    worst-case cost stays counted.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after: float | None = None,
        maybe_billed: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.maybe_billed = maybe_billed

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    @property
    def fatal(self) -> bool:
        return self.kind in FATAL_KINDS

    def __str__(self) -> str:
        return self.message


class Adapter:
    """A provider reached through one wire format. One instance per job and event loop."""

    api = ""
    simulated = False
    usage_format = ""
    # Whether the provider reports reasoning tokens beside (not inside) the output tokens, so
    # the worst case must allow for them on top of max_tokens.
    reasoning_outside_max = False

    async def complete(self, request: ChatRequest, *, model: str) -> Completion:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None
