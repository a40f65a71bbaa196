"""examples/routed_app.py, run as a user would against a live server: its calls are routed by
the approved policy and land in the call explorer's table with their arm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.policies.domain import signing
from apps.policies.services.approve import ApprovalEdits, recommendation_approve
from apps.policies.services.recommend import recommendation_refresh
from apps.warehouse.client import ProjectScope
from tests.policies.factories import price_catalogue, synthetic_evidence
from tests.tenancy import make_tenant

SCRIPT = Path(settings.BASE_DIR) / "examples" / "routed_app.py"


def test_the_example_app_is_routed_by_the_approved_policy(
    live_server: Any, transactional_db: None, tmp_path: Path
) -> None:
    price_catalogue()
    tenant = make_tenant("example")
    evidence = synthetic_evidence(project_id=tenant.project.pk, endpoint="draft-email")
    rec = recommendation_refresh(project=tenant.project, evidence=evidence)
    recommendation_approve(recommendation=rec, actor=tenant.user, edits=ApprovalEdits(rollout_percent=100))
    (tmp_path / "demo-keys.json").write_text(json.dumps({"ingest": tenant.ingest_key, "sdk": tenant.sdk_key}))
    (tmp_path / "demo-config-public-keys.txt").write_text(signing.public_keys_env())
    env = {**os.environ, "VAR_DIR": str(tmp_path)}
    env.pop("OPENAI_BASE_URL", None)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--host", live_server.url, "--calls", "4", "--endpoint", "draft-email:gpt-4o",
         "--endpoint", "classify-ticket:gpt-4o-mini"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "draft-email      asked for gpt-4o        answered by gpt-4o-mini ×4" in done.stdout, done.stdout
    assert "classify-ticket  asked for gpt-4o-mini   answered by gpt-4o-mini ×4" in done.stdout, done.stdout
    rows = (
        ProjectScope(tenant.project.pk)
        .query(
            "SELECT endpoint, routing_arm, routing_reason, model, count() AS n FROM llm_calls FINAL "
            "WHERE project_id = {project_id:UInt64} GROUP BY endpoint, routing_arm, routing_reason, model ORDER BY endpoint",
            feature="test",
        )
        .rows
    )
    assert rows == [
        ("classify-ticket", "", "", "gpt-4o-mini", 4),
        ("draft-email", "candidate", "override", "gpt-4o-mini", 4),
    ]
