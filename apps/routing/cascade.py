"""The checks a cascade runs in the SDK on the cheaper model's answer before keeping it: an empty
answer, a refusal, and invalid JSON where answers are meant to be JSON (docs/protocol.md)."""

from __future__ import annotations

import json

from apps.routing.evidence import EndpointEvidence

SDK_CHECKS = ("empty", "refusal", "invalid_json")
DEFAULT_CHECKS = ("empty", "refusal")


def cascade_checks(evidence: EndpointEvidence) -> tuple[str, ...]:
    """Checks the SDK can run. Invalid JSON only where answers are meant to be JSON: the evaluator
    compares JSON, or most candidate answers are JSON. (Replay tags `invalid_json` only where JSON
    was meant, so the tags cannot tell a prose endpoint from a JSON one; the answers can.)"""
    answers = [c for s in evidence.samples for c in s.candidates.values() if c.ok]
    json_answers = sum(_is_json(c.output) for c in answers)
    wants_json = evidence.evaluator == "json" or (bool(answers) and json_answers > len(answers) / 2)
    return tuple(c for c in SDK_CHECKS if c in DEFAULT_CHECKS or (c == "invalid_json" and wants_json))


def _is_json(text: str) -> bool:
    stripped = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True
