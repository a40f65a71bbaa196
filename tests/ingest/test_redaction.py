from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ingest.redaction import STRUCTURAL_KEYS, redact, redact_bytes
from tests.fakes.provider_bodies import BODIES, CREATED
from tests.ingest.events import event, post_batch, stored_call
from tests.tenancy import Tenant


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mail me at jane.doe+x@example.co.uk please", "email"),
        ("card 4111 1111 1111 1111 exp 12/29", "card"),
        ("call +44 20 7946 0958 now", "phone"),
        ("call me on +44 20 7946 0958.", "phone"),
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


@pytest.mark.parametrize("shape", sorted(BODIES))
def test_a_real_provider_response_is_kept_byte_for_byte(shape: str) -> None:
    """The reproduction: `"created": 1733456789` was taken for a phone number, breaking the JSON."""
    body = BODIES[shape]("gpt-4o", "Your parcel ships tomorrow.", 1234567, 987654321)
    data = json.dumps(body, separators=(",", ":")).encode()
    out, found = redact_bytes(data)
    assert (out, found) == (data, set())
    assert json.loads(out) == body


def test_numbers_booleans_keys_and_structural_values_are_never_touched() -> None:
    payload = {
        "created": CREATED,
        "order_total": 4111111111111111,  # a Luhn-valid card number, as a number
        "phone": 442079460958,
        "ok": True,
        "nothing": None,
        "ratio": 0.12345678901,
        "jane@example.com": "a key that is an address",
        "id": "chatcmpl-4111111111111111",
        "system_fingerprint": "fp_442079460958",
        "call_id": "call_+442079460958",
        "content": "reach jane@example.com or +44 20 7946 0958",
    }
    out, found = redact(json.dumps(payload))
    stored = json.loads(out)
    assert found == {"email", "phone"}
    assert stored["content"] == "reach [REDACTED:email] or [REDACTED:phone]"
    assert {k: v for k, v in stored.items() if k != "content"} == {
        k: v for k, v in payload.items() if k != "content"
    }
    assert list(stored) == list(payload)


def test_escaped_strings_are_read_as_json_reads_them() -> None:
    payload = {"content": 'caf\u00e9\nmail elodie@example.fr "quoted" \\ done', "n": 123456789012}
    out, found = redact(json.dumps(payload))  # ensure_ascii: é is \u00e9 in the raw text
    assert found == {"email"}
    assert json.loads(out) == {
        "content": 'caf\u00e9\nmail [REDACTED:email] "quoted" \\ done',
        "n": 123456789012,
    }


def test_a_payload_that_is_not_json_is_redacted_as_text() -> None:
    out, found = redact("not json: call +44 20 7946 0958 or bob@example.com {")
    assert out == "not json: call [REDACTED:phone] or [REDACTED:email] {" and found == {"phone", "email"}


def test_structural_keys_are_a_short_named_list() -> None:
    assert {"id", "created", "model", "system_fingerprint", "responseId"} <= STRUCTURAL_KEYS
    assert len(STRUCTURAL_KEYS) <= 20 and "content" not in STRUCTURAL_KEYS and "text" not in STRUCTURAL_KEYS


_SENSITIVE = st.sampled_from(
    [
        "jane.doe@example.com",
        "+44 20 7946 0958",
        "4111 1111 1111 1111",
        "sk-proj-abcdefghijklmnopqrstuvwxyz123456",
        "Bearer abcdefghijklmnop.qrstuvwx",
        "AKIAIOSFODNN7EXAMPLE",
        "1733456789",
    ]
)
_TEXT = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, s, b: f"{a}{s}{b}", st.text(max_size=8), _SENSITIVE, st.text(max_size=8)),
)
_KEY = st.one_of(st.sampled_from(sorted(STRUCTURAL_KEYS)), st.sampled_from(["content", "text"]), _TEXT)
_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        _TEXT,
    ),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(_KEY, children, max_size=5)),
    max_leaves=25,
)


def _shape(value: Any) -> Any:
    """Everything but the string values: numbers, booleans, nulls, keys and nesting."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "<str>" if isinstance(value, str) else value


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@settings(max_examples=300, deadline=None)
@given(value=_JSON, ascii_only=st.booleans())
def test_redacted_json_is_always_valid_json_of_the_same_shape(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    out, found = redact(text)
    stored = json.loads(out)
    assert _shape(stored) == _shape(value)
    changed = [(a, b) for a, b in zip(_strings(value), _strings(stored), strict=True) if a != b]
    assert bool(changed) == bool(found) and all("[REDACTED:" in b for _, b in changed)
    if not found:
        assert out == text


@pytest.mark.django_db(transaction=True)
def test_ingest_stores_a_real_response_as_it_came_and_records_only_what_it_found(tenant: Tenant) -> None:
    response = BODIES["openai_chat"]("gpt-4o-mini", "It ships tomorrow.", 1200, 300)
    clean = event(response=response)
    personal = event(
        request={"messages": [{"role": "user", "content": "I am ann@example.com, call +44 20 7946 0958"}]},
        response=response,
    )
    post_batch(tenant.api("ingest"), [clean, personal])
    row = stored_call(tenant.project.pk, clean["event_id"])
    assert json.loads(row["response"]) == response and list(row["redactions"]) == []
    row = stored_call(tenant.project.pk, personal["event_id"])
    assert json.loads(row["response"]) == response and sorted(row["redactions"]) == ["email", "phone"]
    assert (
        json.loads(row["request"])["messages"][0]["content"] == "I am [REDACTED:email], call [REDACTED:phone]"
    )
