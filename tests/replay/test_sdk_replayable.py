"""Real SDK traffic is replayable end to end, for every API shape the SDK wraps.

The app's calls go through the real client library (`openai` Chat Completions and Responses,
`anthropic` Messages, `google-genai` generateContent), wrapped by the real SDK, to a local server
answering with the bodies real providers send (created timestamps, long ids, fingerprints, usage
details). The SDK pulls the project's signed config (capture on), sends its telemetry to the live
ingest endpoint, and the stored calls must then be valid JSON, not flagged as redacted, counted
eligible by sampling, and replayed on a candidate to a scored result by the background worker.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apps.core import background
from apps.policies.domain import signing
from apps.replay import sampling
from apps.replay.models import CandidateResult, JobStatus
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from apps.warehouse.client import ProjectScope
from tests.replay.factories import connect, replay_catalogue
from tests.replay.fakes import FakeProvider
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = ("refund", "exchange", "shipping", "other")
PROMPTS = [f"Ticket {i}: my order #{70000 + i} arrived damaged, customer since 2019" for i in range(8)]
SYSTEM = "Label the ticket: refund, exchange, shipping or other."


def label(prompt: str, model: str, body: dict[str, Any]) -> str:
    return LABELS[int(prompt.split(":")[0].split()[-1]) % 4]


def _openai(base_url: str) -> Any:
    import openai

    return openai.OpenAI(base_url=base_url, api_key="sk-test-app", max_retries=0)


def _anthropic(base_url: str) -> Any:
    import anthropic

    return anthropic.Anthropic(base_url=base_url.removesuffix("/v1"), api_key="sk-ant-test", max_retries=0)


def _genai(base_url: str) -> Any:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url=base_url.removesuffix("/v1beta"), api_version="v1beta")
    return genai.Client(api_key="AIza-test-app", http_options=options)


def _ask_chat(client: Any, prompt: str) -> Any:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
    return client.chat.completions.create(model="gpt-4o", messages=messages, temperature=0)


def _ask_responses(client: Any, prompt: str) -> Any:
    return client.responses.create(model="gpt-4o", instructions=SYSTEM, input=prompt, max_output_tokens=16)


def _ask_anthropic(client: Any, prompt: str) -> Any:
    messages = [{"role": "user", "content": prompt}]
    return client.messages.create(model="claude-haiku-4-5", max_tokens=16, system=SYSTEM, messages=messages)


def _ask_gemini(client: Any, prompt: str) -> Any:
    from google.genai import types

    config = types.GenerateContentConfig(system_instruction=SYSTEM, max_output_tokens=16, temperature=0)
    return client.models.generate_content(model="gemini-2.5-flash", contents=prompt, config=config)


Shape = tuple[str, Callable[[str], Any], Callable[[Any, str], Any], tuple[str, str]]
SHAPES: dict[str, Shape] = {
    "openai_chat": ("openai", _openai, _ask_chat, ("openai", "gpt-4o")),
    "openai_responses": ("openai", _openai, _ask_responses, ("openai", "gpt-4o")),
    "anthropic": ("anthropic", _anthropic, _ask_anthropic, ("anthropic", "claude-haiku-4-5")),
    "gemini": ("gemini", _genai, _ask_gemini, ("google", "gemini-2.5-flash")),
}


@pytest.fixture
def priced(transactional_db: None) -> None:
    replay_catalogue()


def _send_through_the_sdk(
    live_server: Any, tenant: Tenant, tmp_path: Path, shape: str, base_url: str
) -> None:
    import switchyard

    switchyard.init(
        api_key=tenant.ingest_key,
        sdk_key=tenant.sdk_key,
        host=live_server.url,
        config_public_keys=signing.public_keys(),
        config_cache_dir=tmp_path / "sdk-cache",
        spool_dir=tmp_path / "spool",
        flush_interval=0.05,
        request_timeout=10.0,
    )
    try:
        assert switchyard.wait_for_config(20.0), (
            "the SDK needs the config (capture policy) to capture payloads"
        )
        _, make, ask, _ = SHAPES[shape]
        client = switchyard.wrap(make(base_url))
        with switchyard.endpoint(f"triage-{shape}"):
            for prompt in PROMPTS:
                ask(client, prompt)
        assert switchyard.flush(20.0)
    finally:
        switchyard.shutdown(5)


def _stored(project_id: int, endpoint: str) -> list[dict[str, Any]]:
    sql = """SELECT request, response, redactions, payload_captured, provider, model
             FROM llm_calls FINAL WHERE project_id = {project_id:UInt64} AND endpoint = {e:String}"""
    return ProjectScope(project_id).query(sql, {"e": endpoint}, feature="test").dicts()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_real_sdk_call_of_each_shape_is_replayable(
    shape: str, live_server: Any, tenant: Tenant, priced: None, tmp_path: Path
) -> None:
    wire, _, _, (provider, model) = SHAPES[shape]
    endpoint = f"triage-{shape}"
    with (
        FakeProvider(wire, responder=label, realistic=True) as app_provider,
        FakeProvider("openai", responder=label, realistic=True) as candidate,
    ):
        _send_through_the_sdk(live_server, tenant, tmp_path, shape, app_provider.base_url)
        assert len(app_provider.requests) == len(PROMPTS)

        rows = _stored(tenant.project.pk, endpoint)
        assert len(rows) == len(PROMPTS)
        for row in rows:
            response = json.loads(row["response"])  # valid JSON, as the provider sent it
            assert row["payload_captured"] and json.loads(row["request"])
            assert (row["provider"], row["model"]) == (provider, model)
            assert list(row["redactions"]) == [] and "[REDACTED:" not in row["response"]
            assert "REDACTED" not in json.dumps(response)
        pop = sampling.population(project_id=tenant.project.pk, endpoint=endpoint)
        assert (pop.baseline_provider, pop.baseline_model) == (provider, model)
        assert pop.eligible == len(PROMPTS) and pop.excluded == {}

        connect(tenant, "openai", "openai", candidate.base_url)
        spec = ReplaySpec(
            endpoint=endpoint,
            candidates=(CandidateSpec("openai", "gpt-4o-mini"),),
            evaluator="exact",
            sample_size=len(PROMPTS),
            spend_cap_nano=NANO,
        )
        job = replay_job_create(project=tenant.project, actor=tenant.user, spec=spec)
        assert background.drain(60)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.excluded == {}, (job.status, job.error, job.excluded)
    assert job.done_items == len(PROMPTS) and job.error_items == 0
    assert len(candidate.requests) == len(PROMPTS)
    result = CandidateResult.objects.get(job=job)
    assert (result.samples, result.errors) == (len(PROMPTS), 0)
    assert result.retention == pytest.approx(1.0)  # the candidate gives the app's own labels
    assert result.baseline_cost_per_call_nano > result.cost_per_call_nano > 0
