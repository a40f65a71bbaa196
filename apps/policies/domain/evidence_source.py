"""Where replay evidence comes from: `apps.replay.selectors`, through the contract in
apps/routing/evidence.py (the recommender reads nothing else from replay)."""

from __future__ import annotations

from apps.replay import selectors as replay
from apps.routing.evidence import EndpointEvidence


def endpoint_evidence(*, project_id: int, endpoint: str) -> EndpointEvidence | None:
    """The newest finished replay of the endpoint, or None."""
    return replay.endpoint_evidence(project_id=project_id, endpoint=endpoint)


def endpoints_with_evidence(*, project_id: int) -> list[str]:
    return replay.endpoints_with_evidence(project_id=project_id)
