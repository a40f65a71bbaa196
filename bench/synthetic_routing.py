"""Labelled routing data with a known truth, in routing-eval v1, for checking the estimates' promises.

The shared evaluation sets are two; the estimator must hold on sets it never saw. These sets are
drawn from stated generative models, so what a policy *should* keep is known, and their shapes
differ from the shared sets on purpose:

- `maths`: one endpoint of worked answers (chain of thought ending in "#### 18", "The answer is
  18", "\\boxed{18}"), right or wrong; a latent difficulty shows in the prompt's wording and length
  and makes the cheap model fail far more than the baseline.
- `chat`: two-turn conversations (turn 2 contains turn 1, one `group` per conversation) with
  graded judge-style scores in [0, 1]; the cheap model keeps ~90 % on average, less on hard topics.
- `choice`: multiple-choice endpoints whose cheap model sits below, near and above a 95 % bar,
  answers written as letters in several styles; `near_bar`: eight such endpoints between 93 % and
  99 %, where a lucky estimate is most tempting.

`python bench/synthetic_routing.py DIR` writes `maths.jsonl`, `chat.jsonl`, `choice.jsonl`,
`near_bar.jsonl` and a
`prices.json` (LiteLLM format) into DIR. Nothing here is tuned to a result: the parameters are the
plain stories above, fixed once.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

BASELINE = "big-model"
CHEAP = "small-model"
PRICES = {
    BASELINE: {"input_cost_per_token": 5e-06, "output_cost_per_token": 1.5e-05, "mode": "chat"},
    CHEAP: {"input_cost_per_token": 2.5e-07, "output_cost_per_token": 1e-06, "mode": "chat"},
}
TOPICS = ["apples", "trains", "tickets", "coins", "marbles", "pages", "bottles", "shirts", "eggs", "books"]
HARD_WORDS = ["percent", "ratio", "remaining", "twice", "each week", "discount", "average", "per hour"]


def _worked(answer: int, style: int, steps: int) -> str:
    lines = [f"Step {i + 1}: we work out part {i + 1} of the problem." for i in range(steps)]
    ending = [f"#### {answer}", f"The answer is {answer}.", f"So the result is \\boxed{{{answer}}}."][
        style % 3
    ]
    return "\n".join([*lines, ending])


def maths(rng: np.random.Generator, n: int = 1300) -> Iterator[dict[str, Any]]:
    for i in range(n):
        difficulty = float(rng.beta(2, 3))
        hard = [w for w in HARD_WORDS if rng.random() < difficulty * 0.8]
        topic = TOPICS[int(rng.integers(len(TOPICS)))]
        steps = 1 + int(difficulty * 6)
        sentences = " ".join(f"Then something happens to the {topic} ({j})." for j in range(steps))
        prompt = (
            f"Sam has {int(rng.integers(2, 90))} {topic}. {sentences} {' '.join(hard)} How many {topic} now?"
        )
        truth = int(rng.integers(2, 500))
        base_right = rng.random() < 0.97 - 0.12 * difficulty
        cheap_right = rng.random() < 0.95 - 0.75 * difficulty
        wrong = truth + int(rng.integers(1, 40))
        style = int(rng.integers(3))
        yield {
            "id": f"maths-{i:05d}",
            "endpoint": "maths",
            "group": f"maths-{i:05d}",
            "messages": [{"role": "user", "content": prompt}],
            "baseline": {
                "model": BASELINE,
                "output": _worked(truth if base_right else wrong, style, steps + 1),
                "score": 1.0 if base_right else 0.0,
            },
            "candidates": {
                CHEAP: {
                    "output": _worked(truth if cheap_right else wrong + 1, style + 1, steps),
                    "score": 1.0 if cheap_right else 0.0,
                }
            },
        }


def chat(rng: np.random.Generator, conversations: int = 80) -> Iterator[dict[str, Any]]:
    for c in range(conversations):
        topic = TOPICS[int(rng.integers(len(TOPICS)))]
        hardness = float(rng.random())
        first = f"Tell me about {topic}" + (" and their history in detail" if hardness > 0.6 else "")
        second = "Now compare that with something else" + (", with sources" if hardness > 0.6 else "")
        history: list[dict[str, str]] = []
        for turn, question in enumerate((first, second)):
            messages = [*history, {"role": "user", "content": question}]
            base = float(np.clip(rng.normal(0.9, 0.06), 0.1, 1.0))
            cheap = float(np.clip(base - abs(rng.normal(0.02 + 0.15 * hardness, 0.08)), 0.0, 1.0))
            answer = f"Here is what I know about {topic}. " * (3 + int(6 * hardness))
            yield {
                "id": f"chat-{c:03d}-{turn}",
                "endpoint": "chat",
                "group": f"chat-{c:03d}",
                "messages": messages,
                "baseline": {"model": BASELINE, "output": answer, "score": round(base, 4)},
                "candidates": {CHEAP: {"output": answer[: len(answer) * 2 // 3], "score": round(cheap, 4)}},
            }
            history = [*messages, {"role": "assistant", "content": answer}]


CHOICE_ENDPOINTS = {"below": 0.80, "near": 0.955, "above": 0.99, "mixed": 0.90}  # cheap ÷ baseline accuracy
# Many endpoints on either side of a 95 % bar, where a lucky estimate is most tempting.
NEAR_BAR_ENDPOINTS = {
    f"near-{ratio:.3f}": ratio for ratio in (0.93, 0.94, 0.95, 0.955, 0.96, 0.97, 0.98, 0.99)
}


def choice(
    rng: np.random.Generator, per_endpoint: int = 300, endpoints: dict[str, float] | None = None
) -> Iterator[dict[str, Any]]:
    letters = "ABCD"
    for endpoint, ratio in (endpoints or CHOICE_ENDPOINTS).items():
        for i in range(per_endpoint):
            easy = rng.random() < 0.5
            options = [f"{letters[k]}. option {k} about {TOPICS[(i + k) % len(TOPICS)]}" for k in range(4)]
            kind = "a simple fact" if easy else "a tricky multi-part case"
            prompt = f"Question {i} on {kind}:\n" + "\n".join(options) + "\nAnswer:"
            truth = int(rng.integers(4))
            p_base = 0.9
            # the cheap model's accuracy keeps `ratio` of the baseline's on average; easy items fare better
            p_cheap = min(1.0, p_base * ratio * (1.08 if easy else 0.92))
            base_right, cheap_right = rng.random() < p_base, rng.random() < p_cheap

            def pick(right: bool, truth: int = truth) -> str:
                return letters[truth] if right else letters[(truth + 1 + int(rng.integers(3))) % 4]

            styles = ["{}", "({})", "The answer is {}.", "Answer: {}", "**{}**"]
            yield {
                "id": f"{endpoint}-{i:04d}",
                "endpoint": endpoint,
                "group": f"{endpoint}-{i:04d}",
                "messages": [{"role": "user", "content": prompt}],
                "baseline": {
                    "model": BASELINE,
                    "output": styles[int(rng.integers(5))].format(pick(base_right)),
                    "score": 1.0 if base_right else 0.0,
                },
                "candidates": {
                    CHEAP: {
                        "output": styles[int(rng.integers(5))].format(pick(cheap_right)),
                        "score": 1.0 if cheap_right else 0.0,
                    }
                },
            }


def near_bar(rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    return choice(rng, per_endpoint=600, endpoints=NEAR_BAR_ENDPOINTS)


SETS = {"maths": maths, "chat": chat, "choice": choice, "near_bar": near_bar}


def write(directory: Path, seed: int = 20261206) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "prices.json").write_text(json.dumps(PRICES, indent=1))
    out = {}
    for offset, (name, make) in enumerate(SETS.items()):
        rng = np.random.default_rng(seed + offset)
        path = directory / f"{name}.jsonl"
        with path.open("w") as f:
            for item in make(rng):
                f.write(json.dumps(item) + "\n")
        out[name] = path
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/synthetic-routing")
    for name, path in write(target).items():
        print(
            name,
            path,
            sum(1 for _ in path.open()),
            "items",
            f"(log10 size {math.log10(path.stat().st_size):.1f})",
        )
