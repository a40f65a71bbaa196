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
        assert source.startswith("/"), f"{source} is not served by Switchyard"
        static = "/" + settings.STATIC_URL.strip("/") + "/"
        if source.startswith(static):
            assert finders.find(source.removeprefix(static)), f"{source} is not a static file here"
        else:
            served = client.get(source)
            assert served.status_code == 200, source
            assert b"Redoc" in served.content and b"cdn.redoc.ly" not in served.content  # its logo too
    assert "/api/schema/" in text
