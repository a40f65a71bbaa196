"""The llm_calls row contract (apps.warehouse.calls) against the table the migrations made."""

from __future__ import annotations

import json
import uuid

import msgspec

from apps.warehouse import client as warehouse
from apps.warehouse.calls import CALL_COLUMNS, CallRow, decode_flag, encode_call, encode_flag, usage_fields


def _row(**changes: object) -> CallRow:
    fields: dict[str, object] = {name: 0 for name in CALL_COLUMNS}
    fields |= {"ts": "1767225600.123", "event_id": uuid.UUID(int=7), "tags": [], "metadata": {}}
    fields |= {"redactions": [], "prefix_points": [], "request": msgspec.Raw(b'{"a":1}'), "response": ""}
    return CallRow(**(fields | changes))


def test_every_written_column_is_a_column_of_llm_calls() -> None:
    stored = {
        name
        for (name,) in warehouse.system_query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'llm_calls'",
            feature="test",
        ).rows
    }
    assert set(CALL_COLUMNS) <= stored
    assert len(set(CALL_COLUMNS)) == len(CALL_COLUMNS) == 44
    assert {"revision", "received_at", "prev_cost_nano_usd"} <= stored - set(CALL_COLUMNS)  # not ingest's


def test_a_row_encodes_as_one_json_array_in_column_order() -> None:
    line = json.loads(encode_call(_row(endpoint="help", input_includes_cached=encode_flag(None))))
    assert len(line) == len(CALL_COLUMNS)
    assert line[CALL_COLUMNS.index("endpoint")] == "help"
    assert line[CALL_COLUMNS.index("request")] == {"a": 1}  # the captured JSON, not a string of it
    assert line[CALL_COLUMNS.index("input_includes_cached")] == -1


def test_usage_reads_back_as_ingest_wrote_it() -> None:
    assert [encode_flag(v) for v in (None, False, True)] == [-1, 0, 1]
    assert [decode_flag(v) for v in (-1, 0, 1, None)] == [None, False, True, None]
    row = {"input_tokens": 5, "output_tokens": 6, "cached_input_tokens": 1, "cache_write_tokens": 0,
           "cache_write_1h_tokens": 0, "reasoning_tokens": 2, "input_includes_cached": 1}  # fmt: skip
    assert usage_fields(row) == {**row, "input_includes_cached": True}  # unselected columns stay out
    assert usage_fields(row | {"output_includes_reasoning": -1, "service_tier": ""}) == {
        **row, "input_includes_cached": True, "output_includes_reasoning": None, "service_tier": "standard",
    }  # fmt: skip
