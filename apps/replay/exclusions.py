"""Why an endpoint's calls are left out of a replay, each reason with a link to example calls.

The reasons are those of queries/sample_profile.sql (plus `other_model`, the endpoint's own calls
answered by another model than the baseline, and `unsupported`, sampled calls whose content a
replay cannot send). `EXPLORER_CLAUSES` are the same rules as call-explorer filters
(`/projects/<id>/calls/?endpoint=…&replay_exclusion=<reason>&baseline=<provider>/<model>`): an
allow-list of clauses whose values are bound, added by apps.dashboard.calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from apps.replay.selectors import EXCLUSION_LABELS

# Written out whole: fixed clauses in which only bound parameters vary. Each but `other_model`
# keeps to the baseline's own calls, then applies sample_profile.sql's rules in its order.
EXPLORER_CLAUSES: dict[str, str] = {
    "other_model": """AND routing_arm NOT IN ('candidate', 'fallback')
  AND NOT (provider = {baseline_provider:String} AND model = {baseline_model:String})""",
    "baseline_error": """AND routing_arm NOT IN ('candidate', 'fallback')
  AND provider = {baseline_provider:String} AND model = {baseline_model:String}
  AND status != 'ok'""",
    "no_payload": """AND routing_arm NOT IN ('candidate', 'fallback')
  AND provider = {baseline_provider:String} AND model = {baseline_model:String}
  AND status = 'ok' AND (payload_captured = 0 OR request = '' OR response = '')""",
    "redacted": """AND routing_arm NOT IN ('candidate', 'fallback')
  AND provider = {baseline_provider:String} AND model = {baseline_model:String}
  AND status = 'ok' AND payload_captured = 1 AND request != '' AND response != ''
  AND (position(response, '[REDACTED:') > 0 OR position(request, '[REDACTED:card]') > 0)""",
    "no_feedback": """AND routing_arm NOT IN ('candidate', 'fallback')
  AND provider = {baseline_provider:String} AND model = {baseline_model:String}
  AND status = 'ok' AND payload_captured = 1 AND request != '' AND response != ''
  AND position(response, '[REDACTED:') = 0 AND position(request, '[REDACTED:card]') = 0
  AND event_id NOT IN (SELECT event_id FROM llm_feedback WHERE project_id = {project_id:UInt64})""",
}


@dataclass(frozen=True)
class Exclusion:
    reason: str
    calls: int
    label: str
    url: str  # the call explorer filtered to this reason, or an example call; "" when none


def _minute(value: datetime, *, up: bool) -> str:
    floor = value.replace(second=0, microsecond=0)
    if up and floor != value:
        floor += timedelta(minutes=1)
    return floor.strftime("%Y-%m-%dT%H:%M")


def exclusion_url(
    *,
    project_id: int,
    endpoint: str,
    baseline: str,
    reason: str,
    since: datetime | None,
    until: datetime | None,
) -> str:
    """The call explorer showing the window's calls left out for `reason` ("" when it has no filter);
    the last 30 days when the window is not known."""
    if reason not in EXPLORER_CLAUSES:
        return ""
    query = {"endpoint": endpoint, "replay_exclusion": reason, "baseline": baseline, "range": "30d"}
    if since is not None and until is not None:
        query |= {
            "range": "custom",
            "tz": "UTC",
            "from": _minute(since.astimezone(UTC), up=False),
            "to": _minute(until.astimezone(UTC), up=True),
        }
    return f"{reverse('dashboard:calls', args=[project_id])}?{urlencode(query)}"


def exclusions(
    *,
    project_id: int,
    endpoint: str,
    baseline: str,
    excluded: dict[str, int],
    since: datetime | None,
    until: datetime | None,
    examples: dict[str, str] | None = None,
) -> list[Exclusion]:
    """Each reason with its count, label and link, most calls first."""
    out = []
    for reason, calls in sorted(excluded.items(), key=lambda item: (-item[1], item[0])):
        if not calls:
            continue
        url = exclusion_url(
            project_id=project_id,
            endpoint=endpoint,
            baseline=baseline,
            reason=reason,
            since=since,
            until=until,
        )
        example = (examples or {}).get(reason)
        if not url and example:
            url = reverse("dashboard:call", args=[project_id, example])
        out.append(Exclusion(reason, calls, EXCLUSION_LABELS.get(reason, reason.replace("_", " ")), url))
    return out


def refusal_exclusions(*, project_id: int, detail: Any) -> list[Exclusion]:
    """The exclusions a `nothing_to_replay` refusal carries in its `detail` ([] for other refusals)."""
    if not isinstance(detail, dict) or "excluded" not in detail:
        return []
    return exclusions(
        project_id=project_id,
        endpoint=detail["endpoint"],
        baseline=detail["baseline"],
        excluded=detail["excluded"],
        since=detail["since"],
        until=detail["until"],
        examples=detail.get("examples"),
    )
