"""Reference costs from LiteLLM's own arithmetic, for tests/pricing/test_litellm.py.

LiteLLM is never a Switchyard dependency. Run this under a Python that has it:

    python3 -m venv /tmp/litellm && /tmp/litellm/bin/pip install 'litellm==1.110.2'
    /tmp/litellm/bin/python tools/litellm_reference.py tests/pricing/data

It writes the wheel's own price file (litellm_prices.json.gz) and, for every chat, responses and
completion model priced per token, what `litellm.cost_per_token` charges for a few usages
(litellm_costs.json.gz): a plain call, a prompt above each long-context step, and each service tier
the model lists. The test imports the price file and costs the same usages with Switchyard's engine.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
from importlib.metadata import version
from pathlib import Path

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the wheel's own file, never the network

import litellm

MODES = {"chat", "responses", "completion"}
STEP = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")
TIERS = {"flex": "flex", "priority": "priority"}


def usages(entry: dict) -> list[tuple[int, int, str | None]]:
    out: list[tuple[int, int, str | None]] = [(1200, 300, None)]
    for key in entry:
        if m := STEP.match(key):
            out.append((int(m.group(1)) * 1000 + 1000, 300, None))
    for suffix, tier in TIERS.items():
        if entry.get(f"input_cost_per_token_{suffix}") is not None:
            out.append((1200, 300, tier))
    return out


def main(out_dir: Path) -> None:
    source = Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    text = source.read_text()
    prices = json.loads(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    with gzip.open(out_dir / "litellm_prices.json.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(text)
    records: list[dict[str, object]] = []
    failed: list[str] = []
    off_peak: list[str] = []
    tier_ignored: list[str] = []
    long_ignored: list[str] = []
    elsewhere: list[str] = []
    for key, entry in prices.items():
        if key == "sample_spec" or not isinstance(entry, dict) or entry.get("mode") not in MODES:
            continue
        if entry.get("input_cost_per_token") is None or entry.get("output_cost_per_token") is None:
            continue
        if "tiered_pricing" in entry:
            continue
        if "off_peak_pricing" in entry:  # LiteLLM prices these by the hour it runs: not comparable
            off_peak.append(key)
            continue
        standard: dict[tuple[int, int], float] = {}
        for prompt, completion, tier in usages(entry):
            try:
                cost = litellm.cost_per_token(
                    model=key,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    custom_llm_provider=entry.get("litellm_provider"),
                    service_tier=tier,
                )
            except Exception as exc:  # LiteLLM refuses some of its own entries
                failed.append(f"{key}: {type(exc).__name__}")
                continue
            usd = cost[0] + cost[1]
            base = prompt * entry["input_cost_per_token"] + completion * entry["output_cost_per_token"]
            if tier is None and prompt > 1200 and abs(usd - base) <= 1e-12 * max(base, 1e-9):
                long_ignored.append(f"{key}: {prompt} prompt tokens")  # its above-N price not applied
                continue
            if tier is None and prompt == 1200 and abs(usd - base) > 1e-12 * max(base, 1e-9):
                elsewhere.append(key)  # LiteLLM priced this key by another of its entries
                continue
            if tier is None:
                standard[(prompt, completion)] = usd
            elif usd == standard.get((prompt, completion)):
                tier_ignored.append(f"{key}: {tier}")  # LiteLLM does not apply its file's tier here
                continue
            records.append(
                {
                    "key": key,
                    "litellm_provider": entry.get("litellm_provider"),
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "service_tier": tier or "standard",
                    "usd": repr(usd),
                }
            )
    meta = {
        "litellm": version("litellm"),
        "refused": failed,
        "off_peak": off_peak,
        "tier_ignored": tier_ignored,
        "long_ignored": long_ignored,
        "priced_by_another_entry": elsewhere,
    }
    with gzip.open(out_dir / "litellm_costs.json.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(json.dumps({"meta": meta, "costs": records}, indent=0) + "\n")
    print(
        f"{len(records)} reference costs; LiteLLM refused {len(failed)}, priced {len(off_peak)} by the hour "
        f"(off-peak windows), ignored its own tier price in {len(tier_ignored)} "
        f"and its own long-context price in {len(long_ignored)}; {len(elsewhere)} keys priced by another entry",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/pricing/data"))
