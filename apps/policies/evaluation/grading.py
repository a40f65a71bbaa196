"""Who scores the answers the estimator sees: the file's labels, or the product's own evaluator.

- `labels`: each answer's `score` from the file is the evaluator's verdict (a user with labelled
  data of their own), and the baseline's own score is known per item.
- `auto`: the product chooses its evaluator from the shapes of the app's answers on the training
  half (apps.replay.evaluators.registry.infer_evaluator, which says why) and runs it on the
  recorded outputs, candidate against the app's answer, exactly as a replay would. A judge has no
  model to call offline, so it runs on the simulated judge and everything it feeds is marked
  simulated. Where the ground truth is right/wrong, each verdict is compared with it: the
  evaluator says "as good as the app's answer" (≥ half of the reference) or not, the truth says
  whether the two answers scored the same.

Either way the cascade checks run on the recorded candidate outputs (as the SDK would).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from apps.policies.evaluation.dataset import Item
from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict
from apps.replay.evaluators.checks import failed_checks
from apps.replay.evaluators.registry import build_evaluator, infer_evaluator, quality_reference
from apps.replay.providers.base import ChatRequest, Completion
from apps.replay.providers.sim import SimAdapter
from apps.replay.providers.translate import Unsupported, parse_request

MODES = ("labels", "auto")


class Ungradable(Exception):
    """This endpoint cannot be scored this way (e.g. the file records no outputs)."""


def _request(item: Item) -> ChatRequest:
    try:
        return parse_request({"model": item.baseline.model, "messages": list(item.messages)})
    except Unsupported as exc:
        raise Ungradable(f"item {item.id}: {exc}") from exc


@dataclass
class Agreement:
    agree: int = 0
    total: int = 0

    @property
    def share(self) -> float | None:
        return self.agree / self.total if self.total else None


class Grader:
    kind = "labels"
    reference = 1.0
    simulated = False
    why = "the file's scores are the verdicts"

    def __init__(self) -> None:
        self._checks: dict[tuple[str, str], tuple[str, ...]] = {}
        self._requests: dict[str, ChatRequest] = {}

    def prepare(self, endpoint: str, train: list[Item]) -> None:
        """Called with each training half before its evidence is built."""

    def request(self, item: Item) -> ChatRequest:
        found = self._requests.get(item.id)
        if found is None:
            found = self._requests[item.id] = _request(item)
        return found

    def quality(self, item: Item, model: str) -> float | None:
        return item.candidates[model].score

    def baseline_quality(self, item: Item) -> float | None:
        return item.baseline.score

    def agreement(self, items: list[Item]) -> Agreement:
        """How often the verdicts on these items agree with the ground truth (none: labels are it)."""
        return Agreement()

    def checks(self, item: Item, model: str) -> tuple[str, ...]:
        key = (item.id, model)
        found = self._checks.get(key)
        if found is None:
            output = item.candidates[model].output
            found = (
                failed_checks(output, False, self.request(item), baseline=item.baseline.output)
                if output is not None
                else ()
            )
            self._checks[key] = found
        return found


class AutoGrader(Grader):
    """The product's own evaluator, chosen per endpoint from the training half's answers."""

    def __init__(self) -> None:
        super().__init__()
        self.kind = ""
        self.evaluator: Evaluator | None = None
        self._verdicts: dict[tuple[str, str, str], float | None] = {}

    def prepare(self, endpoint: str, train: list[Item]) -> None:
        missing = sum(1 for i in train if i.baseline.output is None)
        if missing:
            raise Ungradable(
                f"{missing} of {len(train)} items record no baseline output: the automatic evaluator needs "
                "the answers (use --evaluator labels)"
            )
        kind, why = infer_evaluator([(self.request(i), i.baseline.output or "") for i in train])
        config: dict[str, Any] = {}
        if kind == "judge":
            model = train[0].baseline.model
            config["judge"] = {"provider": "sim", "model": model, "simulated": True}
        self.evaluator = build_evaluator(kind, config)
        self.kind, self.why = kind, why
        self.reference = quality_reference(kind)
        self.simulated = kind == "judge"

    def baseline_quality(self, item: Item) -> float | None:
        return None  # the evaluator's reference: what the app's own answer scores

    def quality(self, item: Item, model: str) -> float | None:
        key = (item.id, model, self.kind)
        if key not in self._verdicts:
            self._verdicts[key] = self._score(item, model)
        return self._verdicts[key]

    def _score(self, item: Item, model: str) -> float | None:
        assert self.evaluator is not None
        output = item.candidates[model].output
        if output is None:
            return None
        data = EvalInput(request=self.request(item), baseline=item.baseline.output or "", candidate=output)
        verdicts: list[Verdict]
        if self.evaluator.uses_judge:
            verdicts = asyncio.run(self.evaluator.evaluate(data, _sim_judge(item.baseline.model)))
        else:
            verdicts = self.evaluator.score(data)
        return verdicts[0].score if verdicts else None

    def agreement(self, items: list[Item]) -> Agreement:
        out = Agreement()
        for item in items:
            for model, answer in item.candidates.items():
                truth = (item.baseline.score, answer.score)
                score = self._verdicts.get((item.id, model, self.kind))
                if score is None or any(t not in (0.0, 1.0) for t in truth):
                    continue
                out.total += 1
                out.agree += int((score >= 0.5 * self.reference) == (truth[0] == truth[1]))
        return out


def _sim_judge(model: str) -> Any:
    adapter = SimAdapter()

    async def call(request: ChatRequest) -> Completion:
        return await adapter.complete(request, model=model)

    return call


def make_grader(mode: str) -> Grader:
    if mode == "labels":
        return Grader()
    if mode == "auto":
        return AutoGrader()
    raise ValueError(f"evaluator: one of {', '.join(MODES)}")
