from __future__ import annotations

import json

import pytest

from apps.ingest.redaction import redact


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mail me at jane.doe+x@example.co.uk please", "email"),
        ("card 4111 1111 1111 1111 exp 12/29", "card"),
        ("call +44 20 7946 0958 now", "phone"),
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz123456", "secret"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "bearer"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "secret"),
    ],
)
def test_each_kind_is_redacted_and_recorded(text: str, kind: str) -> None:
    out, found = redact(text)
    assert kind in found and f"[REDACTED:{kind}]" in out


def test_non_luhn_numbers_and_plain_text_are_kept() -> None:
    text = "order 1234 5678 9012 3456 shipped on 2024-05-01, total 42"
    assert redact(text) == (text, set())
    assert redact("nothing sensitive here") == ("nothing sensitive here", set())


def test_redacted_json_stays_valid_json() -> None:
    payload = json.dumps(
        {"messages": [{"role": "user", "content": "I'm bob@example.com, key sk-ant-" + "a" * 30}]}
    )
    out, found = redact(payload)
    assert found == {"email", "secret"}
    assert "bob@example.com" not in out and json.loads(out)["messages"][0]["content"].startswith(
        "I'm [REDACTED:email]"
    )
