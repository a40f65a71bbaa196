"""Which value of a call names its customer (a project setting, resolved at ingest).

- `customer_id` (the default): the event's own `customer_id` field;
- `metadata:<key>`: the value of that metadata key (e.g. `metadata:account`);
- `tag:<prefix>`: the rest of the first tag that starts with `<prefix>:` (e.g. `tag:customer`
  reads `customer:acme` as `acme`).

The event's own `customer_id` always wins when it is set. Pure functions: ingest calls
`resolve` on its hot path, the SDK applies the same rule (docs/protocol.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from apps.core.errors import ApplicationError

DEFAULT = "customer_id"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def validate(value: str) -> str:
    """The normalised setting, or an ApplicationError saying what is wrong."""
    value = (value or "").strip() or DEFAULT
    if value == DEFAULT:
        return value
    source, _, name = value.partition(":")
    if source not in ("metadata", "tag") or not _NAME.match(name):
        raise ApplicationError(
            "The customer key is 'customer_id', 'metadata:<key>' or 'tag:<prefix>' "
            "(letters, digits, '_', '.', '-', at most 64)",
            field="customer_key",
        )
    return f"{source}:{name}"


def resolve(rule: str, *, customer_id: str, metadata: Mapping[str, str], tags: Sequence[str]) -> str:
    """The call's customer under `rule` ('' when it names none)."""
    if customer_id or rule == DEFAULT:
        return customer_id
    source, _, name = rule.partition(":")
    if source == "metadata":
        return metadata.get(name, "")[:256]
    prefix = name + ":"
    for tag in tags:
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return ""
