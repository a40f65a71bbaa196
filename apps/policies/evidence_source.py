"""Where replay evidence comes from: `apps.replay.selectors` (the contract in apps/replay/evidence.py).

Looked up at call time, so the recommender works with whatever the replay app exposes:
`endpoint_evidence(project_id=…, endpoint=…) -> EndpointEvidence | None` (required) and
`endpoints_with_evidence(project_id=…) -> list[str]` (optional; otherwise the endpoints that had
calls in the last 35 days are asked one by one).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from apps.replay.evidence import EndpointEvidence
from apps.warehouse.client import ProjectScope

_RECENT_ENDPOINTS = """
SELECT DISTINCT endpoint FROM llm_calls_1h
WHERE project_id = {project_id:UInt64} AND bucket >= now('UTC') - toIntervalDay(35)
ORDER BY endpoint
"""


def _replay() -> ModuleType | None:
    try:
        return importlib.import_module("apps.replay.selectors")
    except ModuleNotFoundError:
        return None


def available() -> bool:
    module = _replay()
    return module is not None and hasattr(module, "endpoint_evidence")


def endpoint_evidence(*, project_id: int, endpoint: str) -> EndpointEvidence | None:
    module = _replay()
    if module is None or not hasattr(module, "endpoint_evidence"):
        return None
    found = module.endpoint_evidence(project_id=project_id, endpoint=endpoint)
    return found if isinstance(found, EndpointEvidence) else None


def endpoints_with_evidence(*, project_id: int) -> list[str]:
    module = _replay()
    if module is None:
        return []
    if hasattr(module, "endpoints_with_evidence"):
        return sorted(module.endpoints_with_evidence(project_id=project_id))
    rows = ProjectScope(project_id).query(_RECENT_ENDPOINTS, feature="policies-endpoints").rows
    return [
        str(r[0]) for r in rows if endpoint_evidence(project_id=project_id, endpoint=str(r[0])) is not None
    ]
