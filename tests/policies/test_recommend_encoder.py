"""The recommender and encoder routers: proposed only once the project's SDKs report they run them,
approved into a config the SDK compiles, and shown with their gain over random routing.

The estimate here is a real one (linear and encoder routers trained on the evidence) whose options
are then set by hand to figures where the encoder router clears the bar and beats the linear one
with confidence, so what is tested is the wiring: capabilities in, proposal, approval, config, page.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.urls import reverse

from apps.policies.selectors import config_current
from apps.policies.services.approve import recommendation_approve
from apps.policies.services.recommend import recommendation_refresh
from apps.policies.services.sdk_clients import sdk_client_seen, sdk_clients_forget_cache
from apps.routing import encoder
from apps.routing.encoder_pool import EncoderPool
from apps.routing.estimate import estimate
from apps.routing.evidence import EndpointEvidence
from apps.routing.options import ENCODER, HASHED, KindComparison
from apps.routing.pool import RouterPool
from tests.policies.factories import MINI, synthetic_evidence
from tests.tenancy import Tenant

pytestmark = pytest.mark.skipif(not encoder.available(), reason="needs the encoder extra")


def _evidence(project_id: int) -> EndpointEvidence:
    spec = {MINI: {"quality": lambda i: 1.0 if i % 2 or i % 4 == 2 else 0.0}}  # "summarise" prompts fail half the time
    evidence = synthetic_evidence(project_id=project_id, n=300, monthly_calls=100_000, candidates=spec)
    est = estimate(evidence, pool=RouterPool([evidence]), encoder_pool=EncoderPool([evidence]))
    picked = {}
    for o in est.options:  # one option of each kind, made to clear a 95 % bar with room to spare
        if o.strategy == "learned" and o.router not in picked:
            picked[o.router] = dataclasses.replace(
                o, retention=1.0, retention_low=0.97, screen_retention_low=0.97,
                savings_per_call_low_nano=4000.0, screen_savings_low_nano=4000.0,
                screen_savings_nano=5000.0 if o.router == HASHED else 6000.0,
                gain_over_random_nano=900.0, gain_over_random_low_nano=300.0, gain_over_random_high_nano=1500.0,
                screen_gain_over_random_low_nano=200.0,
            )  # fmt: skip
    assert set(picked) == {HASHED, ENCODER}
    kinds = {MINI: KindComparison(difference_nano=400.0, low_nano=50.0, high_nano=750.0, shares=9)}
    made = dataclasses.replace(est, options=list(picked.values()), kinds=kinds)
    return dataclasses.replace(evidence, estimate=made.as_json())


@pytest.mark.django_db
def test_the_encoder_router_once_every_sdk_runs_it(tenant: Tenant, catalogue: dict[str, object]) -> None:
    project = tenant.project
    sdk_clients_forget_cache()
    evidence = _evidence(project.pk)
    before = recommendation_refresh(project=project, evidence=evidence)
    assert before.proposal["router"] == HASHED and "switchyard-sdk[encoder]" in before.summary
    sdk_client_seen(project_id=project.pk, agent="switchyard-python/0.1.0",
                    capabilities="hashed_linear/1, hashed_linear/2, encoder_linear/1, encoder_linear/2")  # fmt: skip
    after = recommendation_refresh(project=project, evidence=evidence)
    assert after.pk != before.pk and after.proposal["router"] == ENCODER
    assert "encoder router" in after.summary and "more than routing at random" in after.summary
    model = after.proposal["learned"]
    assert model["type"] == "encoder_linear" and model["fallback"]["type"] == "hashed_linear"

    page = tenant.web().get(reverse("policies:recommendation", args=[project.pk, after.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and 'id="gain-over-random"' in text
    assert "Encoder router's gain over random / month" in text
    assert "$0.0900" in text and "99% CI $0.0300–$0.1500" in text  # 900 (300–1500) nano a call × 100,000 calls

    recommendation_approve(recommendation=after, actor=tenant.user)
    snapshot = config_current(project_id=project.pk, fresh=True)
    assert snapshot is not None
    from switchyard._config import parse_config
    from switchyard._encoder import EncoderModel

    compiled = parse_config(bytes(snapshot.body))
    learned = compiled.policies["support-reply"].learned
    assert isinstance(learned, EncoderModel) and learned.spec.sha256 == encoder.ensure().sha256
    body = json.loads(bytes(snapshot.body))
    assert body["policies"][0]["learned"]["encoder"]["files"]["model.onnx"]["url"].startswith("/v1/encoders/")
