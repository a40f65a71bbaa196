"""The API reference works offline: /api/docs/ loads Redoc from this server, never a CDN."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client


def test_the_api_docs_load_everything_from_this_server() -> None:
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    text = page.content.decode()
    sources = re.findall(r'<script[^>]+src="([^"]+)"', text)
    assert sources, text
    for source in sources + re.findall(r'<link[^>]+href="([^"]+)"', text):
        static = "/" + settings.STATIC_URL.strip("/") + "/"
        assert source.startswith(static), f"{source} is not served by Switchyard"
        assert finders.find(source.removeprefix(static)), f"{source} is not a static file here"
    assert "/api/schema/" in text
