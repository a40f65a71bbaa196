"""Security: CSRF on forms, API keys stored hashed, provider keys encrypted at rest, provider URLs
kept off the private network, and the
headers and cookies production actually sends (gunicorn on production settings, not a settings
read-back). The dependency audit is documented in deploy/SECURITY.md."""

from __future__ import annotations

import asyncio
import re
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection
from django.test import Client, override_settings

from apps.core.errors import ApplicationError
from apps.replay import crypto
from apps.replay.providers.http import HttpConnectionError, HttpPool
from apps.replay.services.connections import connection_save
from tests.production_server import production_server
from tests.reliability.conftest import Tally
from tests.replay.fakes import FakeProvider
from tests.tenancy import Tenant


@pytest.mark.reliability("security")
@pytest.mark.django_db
def test_forms_require_csrf(tenant: Tenant, tally: Tally) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant.user)
    for url, data in [
        ("/accounts/projects/", {"name": "x"}),
        ("/accounts/logout/", {}),
        (f"/accounts/projects/{tenant.project.pk}/keys/new/", {"kind": "ingest"}),
    ]:
        tally.attempts += 1
        assert client.post(url, data).status_code == 403, url
    tally.attempts += 1
    login = Client(enforce_csrf_checks=True).post("/accounts/login/", {"email": "a@b.c", "password": "x"})
    assert login.status_code == 403


@pytest.mark.reliability("security")
@pytest.mark.django_db
def test_keys_are_stored_hashed(tenant: Tenant, tally: Tally) -> None:
    from apps.accounts.models import ApiKey

    tally.attempts += 1
    secrets = {tenant.ingest_key.split("_", 3)[3], tenant.sdk_key.split("_", 3)[3]}
    stored = " ".join(f"{k.key_id} {k.secret_hash} {k.name}" for k in ApiKey.objects.all())
    assert not any(secret in stored for secret in secrets)


@pytest.mark.reliability("security")
@pytest.mark.django_db
def test_provider_keys_are_encrypted_at_rest_and_rotate(tenant: Tenant, tally: Tally) -> None:
    secret = "sk-live-" + "Q7" * 20
    with override_settings(PROVIDER_KEYS_ENCRYPTION_KEY="old-secret"):
        saved = connection_save(
            organization=tenant.organization, actor=None, provider="openai", api="openai", api_key=secret
        )
    with connection.cursor() as cursor:  # the row as stored, every column
        cursor.execute("SELECT * FROM replay_providerconnection WHERE id = %s", [saved.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    tally.attempts += 1
    assert secret not in row and secret[8:20] not in row
    assert saved.key_hint == "…" + secret[-4:]
    # A new secret first, the old one kept: old keys still open; without the old one they do not.
    with override_settings(PROVIDER_KEYS_ENCRYPTION_KEY="new-secret,old-secret"):
        tally.attempts += 1
        assert crypto.unseal(saved.key_ciphertext) == secret
    with override_settings(PROVIDER_KEYS_ENCRYPTION_KEY="new-secret"), pytest.raises(ApplicationError):
        tally.attempts += 1
        crypto.unseal(saved.key_ciphertext)


@pytest.mark.reliability("security")
@pytest.mark.django_db
def test_provider_urls_cannot_reach_the_private_network(tenant: Tenant, tally: Tally, settings: Any) -> None:
    """Production's default: refused when saved, and again when connecting (the name may resolve
    elsewhere by then: DNS rebinding)."""
    settings.PROVIDER_ALLOW_PRIVATE_URLS = False
    for url in (
        "http://127.0.0.1:8000/v1",
        "http://10.1.2.3/v1",
        "http://169.254.169.254/latest",
        "http://[::1]/v1",
    ):
        tally.attempts += 1
        with pytest.raises(ApplicationError, match="private and loopback"):
            connection_save(
                organization=tenant.organization, actor=None, provider="vllm", api="openai", base_url=url
            )

    async def send(pool: HttpPool) -> int:
        try:
            return (
                await pool.post("/chat/completions", b"{}", {"content-type": "application/json"}, timeout=10)
            ).status
        finally:
            await pool.aclose()

    with FakeProvider("openai") as fake:
        url = fake.base_url.replace("127.0.0.1", "localhost")
        tally.attempts += 1
        with pytest.raises(HttpConnectionError, match="private or loopback"):
            asyncio.run(send(HttpPool(url, allow_private=False)))
        assert fake.requests == []
        tally.attempts += 1  # the same pool where private addresses are allowed (self-hosted) reaches it
        asyncio.run(send(HttpPool(url, allow_private=True)))
        assert len(fake.requests) == 1


def _cookies(response: requests.Response) -> dict[str, dict[str, str | bool]]:
    """Every Set-Cookie of the response with its attributes, as the browser would read them."""
    out: dict[str, dict[str, str | bool]] = {}
    for header in response.raw.headers.getlist("Set-Cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            out[name] = {"value": morsel.value, **{k: morsel[k] for k in ("secure", "httponly", "samesite")}}
    return out


@pytest.mark.reliability("security")
def test_production_sends_secure_headers_and_cookies(tmp_path: Path, tally: Tally) -> None:
    with production_server(tmp_path) as (base, _):
        tally.attempts += 1  # plain HTTP goes to HTTPS; health checks stay reachable behind the proxy
        plain = requests.get(f"{base}/accounts/signup/", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        assert requests.get(f"{base}/healthz", allow_redirects=False, timeout=10).status_code == 200

        tally.attempts += 1  # over HTTPS (as the proxy forwards it): the security headers
        https = {"X-Forwarded-Proto": "https"}
        page = requests.get(f"{base}/accounts/signup/", headers=https, timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Referrer-Policy"] == "same-origin"
        csrf = _cookies(page)["csrftoken"]
        assert csrf["secure"] is True and str(csrf["samesite"]).lower() == "lax"

        tally.attempts += 1  # signing up sets a session cookie that scripts and plain HTTP never see
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "the sign-up form carries a CSRF token"
        signup = requests.post(
            f"{base}/accounts/signup/",
            headers={
                **https,
                "Cookie": f"csrftoken={csrf['value']}",
                "Referer": f"https://{base.removeprefix('http://')}/accounts/signup/",
            },
            data={
                "csrfmiddlewaretoken": token.group(1),
                "email": "owner@example.com",
                "password": "a-long-enough-password",
                "organization": "Example",
            },
            allow_redirects=False,
            timeout=30,
        )
        assert signup.status_code == 302, signup.text[:500]
        session = _cookies(signup)["sessionid"]
        assert session["secure"] is True and session["httponly"] is True
        assert str(session["samesite"]).lower() == "lax"

        tally.attempts += 1  # the same form without its token is refused
        forged = requests.post(
            f"{base}/accounts/signup/",
            headers={**https, "Referer": f"https://{base.removeprefix('http://')}/accounts/signup/"},
            data={"email": "x@example.com", "password": "a-long-enough-password", "organization": "X"},
            allow_redirects=False,
            timeout=10,
        )
        assert forged.status_code == 403
