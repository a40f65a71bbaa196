"""An example app routed by Switchyard: the real SDK, a wrapped OpenAI client, the demo's endpoints.

Run it against `make demo` (in another terminal, after approving a recommendation under
Routing):

    .venv/bin/python examples/routed_app.py              # 20 calls per endpoint
    .venv/bin/python examples/routed_app.py --calls 50 --endpoint draft-email:gpt-4o

It reads the demo keys from var/demo-keys.json and the config signing key the SDK must trust from
var/demo-config-public-keys.txt (or SWITCHYARD_CONFIG_PUBLIC_KEYS). The app asks for its own
models; the SDK applies the approved policy locally and the answers show which model replied.
Without OPENAI_BASE_URL the "provider" is a SIMULATED OpenAI-compatible server started here (no
network, no cost, canned answers); every provider a policy may route to is served by it too.
Then open the call explorer: routed calls show their arm (candidate, fallback, baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import switchyard
from openai import OpenAI

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("VAR_DIR", ROOT / "var"))
# The demo's endpoints that call OpenAI models, with the model the app itself asks for.
ENDPOINTS = {
    "draft-email": "gpt-4o",
    "classify-ticket": "gpt-4o-mini",
    "extract-invoice": "gpt-4.1-mini",
    "sql-generation": "gpt-4.1",
}
PROVIDERS = ("openai", "anthropic", "google", "groq", "together", "mistral", "deepseek", "sim")
PROMPTS = [
    "Draft a short, friendly reply: the customer's parcel #{n} is delayed by two days.",
    "Classify this ticket: 'I was charged twice for order {n}'.",
    "Extract the total and the due date from invoice INV-{n}: total EUR 1,240.00, due 2026-12-01.",
    "Write SQL: monthly revenue per country for 2025 from orders(id, country, total, created_at), id > {n}.",
]


class _Simulated(BaseHTTPRequestHandler):
    """A simulated OpenAI Chat Completions server: it answers as whichever model was asked."""

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        model = body.get("model", "unknown")
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        text = f"[simulated answer from {model}] Done: {prompt[:60]}"
        payload = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 40 + len(prompt) // 4, "completion_tokens": 30 + len(text) // 4,
                      "total_tokens": 70 + (len(prompt) + len(text)) // 4},
        }  # fmt: skip
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _simulated_provider() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Simulated)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def _settings() -> tuple[dict[str, str], str]:
    keys_file = VAR / "demo-keys.json"
    if not keys_file.exists():
        raise SystemExit("var/demo-keys.json not found: run `make demo` (or manage.py demo_setup) first")
    keys = json.loads(keys_file.read_text())
    public = os.environ.get("SWITCHYARD_CONFIG_PUBLIC_KEYS", "")
    public_file = VAR / "demo-config-public-keys.txt"
    if not public and public_file.exists():
        public = public_file.read_text().strip()
    if not public:
        raise SystemExit(
            "No config public key: run `manage.py demo_recommend` or set SWITCHYARD_CONFIG_PUBLIC_KEYS"
        )
    return keys, public


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("SWITCHYARD_HOST", "http://127.0.0.1:8000"))
    parser.add_argument("--calls", type=int, default=20, help="calls per endpoint")
    parser.add_argument("--endpoint", action="append", default=[], help="name:model (repeatable)")
    args = parser.parse_args()
    keys, public = _settings()
    endpoints = dict(e.split(":", 1) for e in args.endpoint) if args.endpoint else ENDPOINTS

    base_url = os.environ.get("OPENAI_BASE_URL") or _simulated_provider()
    api_key = os.environ.get("OPENAI_API_KEY", "sk-simulated")
    switchyard.init(
        api_key=keys["ingest"],
        sdk_key=keys["sdk"],
        host=args.host,
        config_public_keys=dict(item.split(":", 1) for item in public.split(",")),
        config_cache_dir=False,
    )
    if not switchyard.wait_for_config(5.0):
        print("No verified config from Switchyard yet: calls go to the app's own models.")
    client = switchyard.wrap(OpenAI(base_url=base_url, api_key=api_key, max_retries=0))
    for provider in PROVIDERS:  # so policies may route to any provider (all simulated here)
        switchyard.register_client(provider, OpenAI(base_url=base_url, api_key=api_key, max_retries=0))

    print(f"config version {switchyard.stats().config_version}; provider: "
          f"{'SIMULATED' if 'OPENAI_BASE_URL' not in os.environ else base_url}")  # fmt: skip
    for index, (endpoint, model) in enumerate(endpoints.items()):
        answered: Counter[str] = Counter()
        for n in range(args.calls):
            reply = client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": PROMPTS[index % len(PROMPTS)].format(n=n)}],
                switchyard={"endpoint": endpoint, "conversation_id": f"example-{endpoint}-{n}"},
            )
            answered[reply.model] += 1
        shown = ", ".join(f"{m} ×{c}" for m, c in answered.most_common())
        print(f"  {endpoint:16s} asked for {model:13s} answered by {shown}")
    switchyard.flush(10.0)
    print("Sent. Open the call explorer (Calls) to see each call's routing arm and reason.")
    switchyard.shutdown()


if __name__ == "__main__":
    main()
