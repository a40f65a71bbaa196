"""Local HTTP servers speaking each provider's wire format, with scriptable failures.

`FakeProvider(wire)` serves OpenAI-compatible Chat Completions, Anthropic Messages or Gemini
`generateContent` on 127.0.0.1 from its own thread and event loop. A `responder(prompt, model,
body)` decides the answer text (default: "answer from <model>"); usage is reported as the real
provider would, with 4 characters per token. `script` queues behaviours for the next requests:
"429:<retry-after>", "500", "401", "404", "400", "timeout" (never answers), "malformed" (200 with
a broken body), "no-usage", or "ok". `delay` makes every answer wait (the benchmark's 100 ms).
`realistic=True` answers with the full bodies real providers send (tests/fakes/provider_bodies.py:
created timestamps, long ids, fingerprints, usage details), and the OpenAI wire then also serves
the Responses API (`POST /v1/responses`).

Run as a module to serve in its own process (bench/replay.py):
    python -m tests.replay.fakes --wire openai --port 0 --delay 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from tests.fakes.provider_bodies import BODIES

Responder = Callable[[str, str, dict[str, Any]], str]
UsageFor = Callable[[str, str, dict[str, Any]], tuple[int, int]]


def tokens(text: str) -> int:
    return max(1, math.ceil(len(text.encode("utf-8")) / 4))


def prompt_of(wire: str, body: dict[str, Any]) -> str:
    """The user text of a request, as the replay's translate.prompt_text reads it."""
    if wire == "responses":
        items = body.get("input")
        if isinstance(items, str):
            return items
        return "\n".join(
            i["content"]
            if isinstance(i.get("content"), str)
            else "".join(p.get("text", "") for p in i["content"])
            for i in items or []
            if i.get("role") == "user"
        )
    if wire == "gemini":
        return "\n".join(
            "".join(p.get("text", "") for p in c.get("parts", []))
            for c in body.get("contents", [])
            if c.get("role") == "user" and any("text" in p for p in c.get("parts", []))
        )
    out = []
    for m in body.get("messages", []):
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            text = "".join(b.get("text", "") for b in content if b.get("type") == "text")
            if text:
                out.append(text)
    return "\n".join(out)


def _default(prompt: str, model: str, body: dict[str, Any]) -> str:
    return f"answer from {model}"


class FakeProvider:
    def __init__(
        self,
        wire: str,
        *,
        responder: Responder | None = None,
        usage_for: UsageFor | None = None,
        delay: float = 0.0,
        port: int = 0,
        realistic: bool = False,
    ):
        assert wire in ("openai", "anthropic", "gemini")
        self.wire = wire
        self.realistic = realistic
        self.responder = responder or _default
        self.usage_for = usage_for  # (prompt, answer, body) → (prompt tokens, answer tokens)
        self.delay = delay
        self.script: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fake-{wire}", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def base_url(self) -> str:
        suffix = {"openai": "/v1", "anthropic": "/v1", "gemini": "/v1beta"}[self.wire]
        return f"http://127.0.0.1:{self.port}{suffix}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self._port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._shutdown())
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def models_called(self) -> list[str]:
        with self._lock:
            return [r["model"] for r in self.requests]

    # --- HTTP ---------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
                }
                body = json.loads(await reader.readexactly(int(headers.get("content-length", "0"))) or b"{}")
                status, extra, payload = await self._handle(path, headers, body)
                if status == 0:  # "timeout": never answer
                    await asyncio.sleep(3600)
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                head_out = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                head_out += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
                writer.write(head_out.encode() + b"\r\n" + data)
                await writer.drain()
        finally:
            writer.close()

    async def _handle(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        model = body.get("model") or path.split("/models/")[-1].split(":")[0]
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body, "model": model})
            step = self.script.popleft() if self.script else "ok"
        if step.startswith("429"):
            after = step.split(":", 1)[1] if ":" in step else "0"
            return (
                429,
                {"Retry-After": after},
                {"error": {"message": "rate limited", "type": "rate_limit_error"}},
            )
        if step in ("500", "401", "404", "400"):
            return int(step), {}, {"error": {"message": f"fake {step}"}}
        if step == "timeout":
            return 0, {}, None
        if step == "malformed":
            return 200, {}, b'{"choices": [ {"message": '
        if self.delay:
            await asyncio.sleep(self.delay)
        wire = "responses" if path.endswith("/responses") else self.wire
        prompt = prompt_of(wire, body)
        text = self.responder(prompt, model, body)
        usage = step != "no-usage"
        return 200, {}, self._reply(wire, model, prompt, body, text, usage)

    def _reply(
        self, wire: str, model: str, prompt: str, body: dict[str, Any], text: str, usage: bool
    ) -> dict[str, Any]:
        if self.usage_for is not None:
            p, c = self.usage_for(prompt, text, body)
        else:
            p, c = tokens(json.dumps(body.get("messages") or body.get("contents") or prompt)), tokens(text)
        if self.realistic:
            shape = {"openai": "openai_chat", "responses": "openai_responses"}.get(wire, wire)
            out = BODIES[shape](model, text, p, c)
            if not usage:
                out.pop("usage", None)
                out.pop("usageMetadata", None)
            return out
        if self.wire == "openai":
            out: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
            }
            if usage:
                out["usage"] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
            return out
        if self.wire == "anthropic":
            out = {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
            }
            if usage:
                out["usage"] = {"input_tokens": p, "output_tokens": c}
            return out
        out = {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "modelVersion": model,
        }
        if usage:
            out["usageMetadata"] = {
                "promptTokenCount": p,
                "candidatesTokenCount": c,
                "totalTokenCount": p + c,
            }
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description="a fake LLM provider")
    parser.add_argument("--wire", default="openai")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    with FakeProvider(args.wire, delay=args.delay, port=args.port) as fake:
        print(fake.base_url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
