"""What the Start page and the empty dashboards tell a project to run: the exact `pip install`
line for the SDK this server serves (apps.core.sdk_dist), and the init line with the project's
key prefixes, this host and the keys that sign its routing config."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.urls import reverse

from apps.accounts.models import Project
from apps.accounts.selectors import api_keys_for_project
from apps.core import sdk_dist
from apps.policies.domain.signing import public_keys


@dataclass(frozen=True)
class InstallSnippet:
    host: str  # this server, as the browser reached it
    pip: str  # the exact line: the wheel's URL here, or the repository's sdk/ when none was built
    offline_pip: str  # the same from this server alone (no package index); "" when none was built
    built: bool
    ingest_key: str  # a key prefix (keys are shown once), or a placeholder
    sdk_key: str
    public_keys: dict[str, str]
    has_ingest_key: bool

    @property
    def public_keys_literal(self) -> str:
        """The keys as the Python dict `config_public_keys=` takes."""
        return json.dumps(self.public_keys)

    @property
    def key_prefix(self) -> str:
        return self.ingest_key if self.has_ingest_key else ""


def install_snippet(*, project: Project, host: str) -> InstallSnippet:
    keys = api_keys_for_project(project=project).filter(revoked_at__isnull=True).order_by("-created_at")
    ingest = next((k for k in keys if k.kind == "ingest"), None)
    sdk = next((k for k in keys if k.kind == "sdk"), None)
    wheel = sdk_dist.sdk_wheel()
    index = host + reverse("sdk-index")
    return InstallSnippet(
        host=host,
        pip=f"pip install {index}{wheel.name}" if wheel else "pip install ./sdk",
        offline_pip=f"pip install --no-index --find-links {index} {sdk_dist.PACKAGE}" if wheel else "",
        built=wheel is not None,
        ingest_key=ingest.display_prefix if ingest else "sy_ingest_…",
        sdk_key=sdk.display_prefix if sdk else "sy_sdk_…",
        public_keys=public_keys(),
        has_ingest_key=ingest is not None,
    )
