"""Hourly series for anomaly monitors, from the hour rollups (llm_calls_1h, llm_spend_customers_1h)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from apps.spend.models import EACH, ScopeKind
from apps.spend.seasonal import Point
from apps.warehouse.client import ProjectScope, allowed_identifier, load_sql

BASELINE_WINDOW = timedelta(days=29)  # four weeks and the hours around them
MAX_KEYS = 200  # a monitor on each endpoint / model / customer follows the busiest this many
# The expression that names a key: allow-listed, the only thing ever put into the SQL text.
DIMS = {"project": "''", "endpoint": "endpoint", "model": "model"}
_TABLES = {"endpoint": ("endpoint", "llm_calls_1h"), "model": ("model", "llm_calls_1h"),
           "customer": ("customer", "llm_spend_customers_1h")}  # fmt: skip

Series = dict[str, dict[datetime, Point]]


def _sql(name: str, dim: str, table: str = "") -> str:
    return load_sql(__file__, name).replace("__DIM__", dim).replace("__TABLE__", table)


def monitor_series(*, project_id: int, scope_kind: str, scope_value: str, until: datetime) -> Series:
    """key → hour → Point over the baseline window ending at `until` (an hour start, UTC)."""
    allowed_identifier(scope_kind, [k.value for k in ScopeKind if k != ScopeKind.USER])
    scope = ProjectScope(project_id)
    since = until - BASELINE_WINDOW
    params: dict[str, object] = {
        "since": since.replace(tzinfo=None),
        "until": until.replace(tzinfo=None),
        "value": "" if scope_value == EACH else scope_value,
        "keys": [],
    }
    if scope_value == EACH and scope_kind in _TABLES:
        dim, table = _TABLES[scope_kind]
        params["keys"] = [
            r[0]
            for r in scope.query(
                _sql("anomaly_top_keys", dim, table),
                {"since": params["since"], "limit": MAX_KEYS},
                feature="spend.anomalies",
            ).rows
        ]
        if not params["keys"]:
            return {}
    if scope_kind == ScopeKind.CUSTOMER:
        sql = load_sql(__file__, "anomaly_customers")
    else:
        sql = _sql("anomaly_dims", DIMS[scope_kind])
        if scope_kind == ScopeKind.PROJECT:
            params["value"] = ""
    out: Series = defaultdict(dict)
    for key, bucket, calls, errors, cost, tokens in scope.query(sql, params, feature="spend.anomalies").rows:
        hour = bucket.replace(tzinfo=UTC) if bucket.tzinfo is None else bucket
        out[key][hour] = Point(calls, errors, cost, tokens)
    return dict(out)
