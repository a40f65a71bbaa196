"""Publishing: the config document from the current policy versions, the kill switch and the
capture settings, encoded once, signed and stored as a new, higher `config_version`.

`config_publish` runs in one transaction with the project row locked, so versions are strictly
increasing and a change that fails half-way publishes nothing. Callers that change policies call
it inside their own transaction (it then joins it). A change of capture settings (apps.ingest)
republishes through the task `policies.publish_config`; `GET /v1/config` only reads what is stored.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Person, Project
from apps.ingest.selectors import Capture, capture_of, ingest_settings_get
from apps.policies.domain import config_body, signing
from apps.policies.models import PublishedConfig, Strategy
from apps.policies.selectors import config_cache_forget, current_versions, kill_state
from apps.spend.selectors.budgets import exhausted_entries
from apps.spend.selectors.settings import customer_key_of


def config_content(*, project: Project) -> tuple[dict[str, Any], Capture]:
    capture = capture_of(ingest_settings_get(project=project))
    kill = kill_state(organization_id=project.organization_id)
    policies = [
        {**v.spec, "policy_version": v.version}
        for v in current_versions(project_id=project.pk).values()
        if v.strategy != Strategy.NONE
    ]
    doc = config_body.content(
        project=project.slug,
        capture=capture.as_dict(),
        killed_models=kill.models,
        killed_providers=kill.providers,
        policies=policies,
        budgets={
            "customer_key": customer_key_of(project_id=project.pk),
            "exhausted": exhausted_entries(project_id=project.pk, now=timezone.now()),
        },
    )
    return doc, capture


def config_publish(
    *, project_id: int, reason: str, actor: Person | None = None, force: bool = False
) -> PublishedConfig:
    """Publish the project's config now; unchanged content keeps the current version unless `force`."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project_id)
        last = PublishedConfig.objects.filter(project=project).order_by("-config_version").first()
        doc, capture = config_content(project=project)
        digest = config_body.content_hash(doc)
        key_id = signing.key_ring().active.key_id
        if last is not None and not force and last.content_hash == digest and last.key_id == key_id:
            return last
        version = last.config_version + 1 if last is not None else 1
        now = timezone.now()
        body = config_body.encode(config_body.document(doc, config_version=version, published_at=now))
        key_id, signature = signing.sign(body)
        row = PublishedConfig.objects.create(
            project=project,
            config_version=version,
            body=body,
            content_hash=digest,
            etag=config_body.etag(body),
            key_id=key_id,
            signature=signature,
            capture_mode=capture.mode,
            capture_sample_rate=capture.sample_rate,
            reason=reason[:300],
            created_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
            published_at=now,
        )
        config_cache_forget(project_id)
        transaction.on_commit(lambda: config_cache_forget(project_id))
    return row


def config_publish_organization(*, organization_id: int, reason: str, actor: Person | None = None) -> int:
    """Republish every project of an organisation (the kill switch changed). Returns how many."""
    count = 0
    with transaction.atomic():
        for project_id in Project.objects.filter(organization_id=organization_id).values_list(
            "pk", flat=True
        ):
            config_publish(project_id=project_id, reason=reason, actor=actor)
            count += 1
    return count
