"""Create (or find) the demo organisation, user, project and keys. Safe to run again."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Membership, Organization, Project, Role
from apps.accounts.services import api_key_create, organization_create, project_create
from apps.demo.login import DEMO_EMAIL, DEMO_PASSWORD, keys_file
from apps.pricing.catalogue import seed_prices_load

KEYS_FILE = keys_file()


class Command(BaseCommand):
    help = "Create the demo organisation, user, project and keys (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=DEMO_EMAIL, defaults={"email": DEMO_EMAIL})
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        org = Organization.objects.filter(memberships__user=user, slug__startswith="demo").first()
        if org is None:
            org = organization_create(name="Demo Co", owner=user)
        Membership.objects.update_or_create(organization=org, user=user, defaults={"role": Role.OWNER})
        project = Project.objects.filter(organization=org, slug="demo-app").first()
        if project is None:
            project = project_create(organization=org, name="Demo app", actor=user)
        stored: dict[str, str] = json.loads(KEYS_FILE.read_text()) if KEYS_FILE.exists() else {}
        keys: dict[str, str] = {}
        for kind in ("ingest", "sdk"):
            plaintext = stored.get(kind, "")
            key_id = plaintext.split("_")[2] if plaintext.count("_") >= 3 else ""
            if not project.api_keys.filter(kind=kind, key_id=key_id, revoked_at__isnull=True).exists():
                _, plaintext = api_key_create(project=project, kind=kind, actor=user, name=f"demo {kind}")
            keys[kind] = plaintext
        KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
        KEYS_FILE.write_text(json.dumps(keys, indent=2))
        KEYS_FILE.chmod(0o600)
        prices = seed_prices_load()  # the shipped price catalogue; loading it again changes nothing
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Log in:      {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"  Ingest key:  {keys['ingest']}")
        self.stdout.write(f"  SDK key:     {keys['sdk']}")
        self.stdout.write(f"  Prices:      {prices.summary()}")
