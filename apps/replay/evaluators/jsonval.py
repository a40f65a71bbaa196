"""JSON answers: valid JSON, matching the schema (when one is known), and field agreement.

Quality is 0 for an answer that is not JSON or breaks the schema, else the share of the app's
answer's leaf fields (by path) that the candidate reproduces: strings compared normalised,
numbers within a relative tolerance. The schema is the evaluator's own, or the one the app
asked the model for (`response_format` / `responseSchema`). Schema checks cover the common
subset of JSON Schema: type, required, properties, additionalProperties: false, enum, const,
items, minItems/maxItems, minimum/maximum, minLength/maxLength.
"""

from __future__ import annotations

import json
import math
from typing import Any

from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict
from apps.replay.evaluators.exact import normalise

_MISSING = object()
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


def parse_json(text: str) -> Any:
    """The JSON value of an answer (code fences allowed); raises ValueError when there is none."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").strip()
        if stripped[:4].lower() == "json":
            stripped = stripped[4:]
    return json.loads(stripped)


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    errors: list[str] = []
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    if kinds:
        ok = False
        for k in kinds:
            types = _TYPES.get(k, ())
            if isinstance(value, bool) and k in ("number", "integer"):
                continue
            if isinstance(value, types) or (
                k == "integer" and isinstance(value, float) and value.is_integer()
            ):
                ok = True
        if not ok:
            return [f"{path}: expected {'/'.join(kinds)}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']!r}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                errors.append(f"{path}: '{name}' is required")
        for name, item in value.items():
            if name in props:
                errors.extend(schema_errors(item, props[name], f"{path}.{name}"))
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected field '{name}'")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                errors.extend(schema_errors(item, schema["items"], f"{path}[{i}]"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
    return errors


def leaves(value: Any, path: str = "$") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(leaves(item, f"{path}.{key}"))
        return out or {path: {}}
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out.update(leaves(item, f"{path}[{i}]"))
        return out or {path: []}
    return {path: value}


def _same(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-9)
    if isinstance(a, str) and isinstance(b, str):
        return normalise(a) == normalise(b)
    return bool(a == b)


class JsonAgreement(Evaluator):
    name = "json"
    label = "JSON validity, schema and field agreement"

    def __init__(self, *, schema: dict[str, Any] | None = None, tolerance: float = 1e-6):
        self.schema = schema
        self.tolerance = tolerance

    def score(self, item: EvalInput) -> list[Verdict]:
        try:
            got = parse_json(item.candidate)
        except ValueError as exc:
            return [
                Verdict("json", 0.0, f"not valid JSON ({exc})"),
                Verdict("json_valid", 0.0, "not valid JSON"),
            ]
        verdicts = [Verdict("json_valid", 1.0, "valid JSON")]
        schema = self.schema or item.request.json_schema
        if schema:
            errors = schema_errors(got, schema)
            verdicts.append(
                Verdict(
                    "json_schema",
                    0.0 if errors else 1.0,
                    "; ".join(errors[:3]) if errors else "matches the schema",
                )
            )
            if errors:
                return [Verdict("json", 0.0, f"breaks the schema: {errors[0]}"), *verdicts]
        try:
            want = parse_json(item.baseline)
        except ValueError:
            return [
                Verdict("json", 1.0, "valid JSON (the app's answer is not JSON, so no fields to compare)"),
                *verdicts,
            ]
        expected = leaves(want)
        actual = leaves(got)
        matched = [p for p, v in expected.items() if _same(actual.get(p, _MISSING), v, self.tolerance)]
        share = len(matched) / len(expected)
        wrong = [p for p in expected if p not in matched][:3]
        why = f"{len(matched)} of {len(expected)} fields agree" + (
            f"; differ: {', '.join(wrong)}" if wrong else ""
        )
        return [
            Verdict("json", round(share, 6), why, {"fields": len(expected), "agree": len(matched)}),
            *verdicts,
        ]
