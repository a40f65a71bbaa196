"""Labelled routing data in the routing-eval v1 format, and what each answer costs.

One JSON object per line: `id`, `endpoint`, `group` (items sharing it are never split apart),
`messages` (the request), `baseline` and `candidates` (`{model: answer}`), each answer being
`{"model"?, "output": str | null, "score": float in [0, 1], "input_tokens"?, "output_tokens"?}`.
`score` is the answer's ground-truth quality. Token counts, where absent, are estimated from the
text (characters / 4); an absent output with no `output_tokens` costs no output tokens.

Prices come from a file in LiteLLM's format (`{model: {"input_cost_per_token",
"output_cost_per_token", …}}`, read as exact decimals) or from the price catalogue
(apps.pricing), in that order; a model with neither cannot be costed and is reported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from apps.core.errors import ApplicationError
from apps.routing.learned import prompt_text

NANO = Decimal(1_000_000_000)


class DatasetError(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, code="invalid_dataset")


@dataclass(frozen=True)
class Answer:
    model: str
    output: str | None
    score: float
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Item:
    id: str
    endpoint: str
    group: str
    messages: tuple[dict[str, Any], ...]
    prompt: str  # the user messages' text, as a learned router reads it
    baseline: Answer
    candidates: dict[str, Answer]


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _answer(raw: Any, model: str, prompt_tokens: int, where: str) -> Answer:
    if not isinstance(raw, Mapping):
        raise DatasetError(f"{where}: must be an object")
    score = raw.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise DatasetError(f"{where}.score: must be a number in [0, 1]")
    output = raw.get("output")
    if output is not None and not isinstance(output, str):
        raise DatasetError(f"{where}.output: must be a string or null")
    given_in, given_out = raw.get("input_tokens"), raw.get("output_tokens")
    for name, value in (("input_tokens", given_in), ("output_tokens", given_out)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise DatasetError(f"{where}.{name}: must be a whole number ≥ 0")
    return Answer(
        model=str(raw.get("model") or model),
        output=output,
        score=float(score),
        input_tokens=int(given_in) if given_in is not None else prompt_tokens,
        output_tokens=int(given_out) if given_out is not None else (_tokens(output) if output else 0),
    )


def _item(raw: Any, line: int) -> Item:
    where = f"line {line}"
    if not isinstance(raw, Mapping):
        raise DatasetError(f"{where}: each line must be a JSON object")
    messages = raw.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
        raise DatasetError(f"{where}.messages: must be a list of messages")
    text = "".join(str(m.get("content") or "") for m in messages)
    prompt_tokens = _tokens(text)
    baseline = raw.get("baseline")
    if not isinstance(baseline, Mapping) or not baseline.get("model"):
        raise DatasetError(f"{where}.baseline: must be an object with a model")
    candidates = raw.get("candidates")
    if not isinstance(candidates, Mapping) or not candidates:
        raise DatasetError(f"{where}.candidates: must name at least one candidate")
    item_id = str(raw.get("id") or f"line-{line}")
    return Item(
        id=item_id,
        endpoint=str(raw.get("endpoint") or "default"),
        group=str(raw.get("group") or item_id),
        messages=tuple(dict(m) for m in messages),
        prompt=prompt_text(messages),
        baseline=_answer(baseline, str(baseline["model"]), prompt_tokens, f"{where}.baseline"),
        candidates={
            str(m): _answer(a, str(m), prompt_tokens, f"{where}.candidates.{m}")
            for m, a in candidates.items()
        },
    )


def read_items(path: Path) -> list[Item]:
    """Every item of a routing-eval v1 file; DatasetError naming the line of the first bad one."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    items: list[Item] = []
    with path.open(encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except ValueError as exc:
                raise DatasetError(f"line {line}: not JSON ({exc})") from exc
            items.append(_item(raw, line))
    if not items:
        raise DatasetError(f"{path}: no items")
    return items


def models_of(items: list[Item]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item.baseline.model)
        for model in item.candidates:
            seen.setdefault(model)
    return list(seen)


@dataclass(frozen=True)
class TokenPrice:
    input: Decimal  # USD per token
    output: Decimal

    def nano(self, input_tokens: int, output_tokens: int) -> int:
        usd = self.input * input_tokens + self.output * output_tokens
        return int((usd * NANO).to_integral_value(rounding=ROUND_HALF_EVEN))


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise DatasetError(f"{where}: must be a number")
    try:
        out = Decimal(str(value))
    except InvalidOperation as exc:
        raise DatasetError(f"{where}: must be a number") from exc
    if not out.is_finite() or out < 0:
        raise DatasetError(f"{where}: must be a number ≥ 0")
    return out


def read_litellm_prices(path: Path) -> dict[str, TokenPrice]:
    """Per-token prices from a file in LiteLLM's format, keyed by model name (and `provider/model`)."""
    try:
        root = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot read prices ({exc})") from exc
    if not isinstance(root, dict):
        raise DatasetError(f"{path}: must hold a JSON object keyed by model")
    out: dict[str, TokenPrice] = {}
    for key, entry in root.items():
        if key == "sample_spec" or not isinstance(entry, dict) or "input_cost_per_token" not in entry:
            continue
        price = TokenPrice(
            _decimal(entry.get("input_cost_per_token"), f"{key}.input_cost_per_token"),
            _decimal(entry.get("output_cost_per_token", 0), f"{key}.output_cost_per_token"),
        )
        out[key] = price
        out.setdefault(key.split("/", 1)[-1], price)
    return out


Pricer = Callable[[str, int, int], int | None]


def file_pricer(prices: Mapping[str, TokenPrice]) -> Pricer:
    def price(model: str, input_tokens: int, output_tokens: int) -> int | None:
        found = prices.get(model) or prices.get(model.split("/", 1)[-1])
        return found.nano(input_tokens, output_tokens) if found else None

    return price


def catalogue_pricer() -> Pricer:
    """The price catalogue's list prices today (needs the database: `manage.py migrate` and prices)."""
    from apps.pricing.cost import Usage
    from apps.pricing.selectors import price_book_load

    book = price_book_load(organization_id=None)
    now = datetime.now(UTC)

    def price(model: str, input_tokens: int, output_tokens: int) -> int | None:
        usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        found = book.cost(provider="", model=model, ts=now, usage=usage)
        return found.nano_usd if found else None

    return price


def by_endpoint(items: list[Item]) -> Iterator[tuple[str, list[Item]]]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.endpoint, []).append(item)
    yield from sorted(groups.items())
