"""The group-commit writer on its own: batching, in-batch duplicates, and cross-process claims in Redis."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import msgspec
import pytest
from django.conf import settings

from apps.ingest import schema
from apps.ingest.writer import EncodedRows, GroupCommitWriter, InFlightElsewhere, RedisClaims, claim_name
from tests.ingest.events import raw_row_count

PROJECT = 4242


def _rows(ids: list[uuid.UUID], project: int = PROJECT) -> EncodedRows:
    rows = EncodedRows()
    now = schema.now_ms()
    for event_id in ids:
        line = msgspec.json.encode(
            [
                project,
                "production",
                "w",
                schema.ms_to_text(now),
                event_id,
                "openai",
                "gpt-4o-mini",
                "",
                1,
                1,
                0,
                0,
                0,
                0,
                -1,
                -1,  # output_includes_reasoning
                "standard",  # service_tier
                10,
                None,
                "ok",
                "",
                100,
                None,
                0,
                "",
                0,
                "",
                "",
                "",
                "",
                "",
                "",  # customer_id
                [],
                {},
                0,
                [],
                "",
                "",
                30,
                0,  # max_tokens
                -1,  # streamed
                "",  # finish_reason
                0,  # prompt_bytes
                [],  # prefix_points
            ]
        )
        rows.add(project, event_id, now, line)
    return rows


@pytest.fixture
def claims() -> Iterator[RedisClaims]:
    store = RedisClaims(settings.REDIS_URL, ttl_s=30)
    yield store
    store._redis.delete(*store._redis.keys(f"sy:ingest:{PROJECT}:*") or ["none"])


def test_group_commit_stores_each_event_once_across_requests() -> None:
    writer = GroupCommitWriter(linger_s=0.05)
    ids = [uuid.uuid4() for _ in range(30)]
    futures = [writer.submit(_rows(ids[:20])), writer.submit(_rows(ids[10:]))]
    results = [f.result(timeout=30) for f in futures]
    assert sum(r.stored for r in results) == 30 and sum(r.duplicates for r in results) == 10
    assert raw_row_count(PROJECT) >= 30


def test_a_key_claimed_by_another_process_fails_the_request_with_503_and_stores_nothing(
    claims: RedisClaims,
) -> None:
    project = PROJECT + 1
    ids = [uuid.uuid4() for _ in range(5)]
    other_process = RedisClaims(settings.REDIS_URL, ttl_s=30)
    assert other_process.claim([claim_name((project, ids[2]))]) == [True]
    writer = GroupCommitWriter(claims=claims)
    with pytest.raises(InFlightElsewhere) as err:
        writer.submit(_rows(ids, project)).result(timeout=30)
    assert err.value.status == 503 and raw_row_count(project) == 0
    # Our own claims were released, so once the other process is done the retry goes through.
    other_process.release([claim_name((project, ids[2]))])
    assert writer.submit(_rows(ids, project)).result(timeout=30).stored == 5
    assert raw_row_count(project) == 5
    claims.release([claim_name((project, i)) for i in ids])


def test_two_writers_racing_with_the_same_batch_store_it_once(claims: RedisClaims) -> None:
    project = PROJECT + 2
    ids = [uuid.uuid4() for _ in range(200)]
    writers = [GroupCommitWriter(claims=RedisClaims(settings.REDIS_URL)) for _ in range(2)]
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def send(writer: GroupCommitWriter) -> None:
        barrier.wait()
        try:
            outcomes.append(writer.submit(_rows(ids, project)).result(timeout=30))
        except InFlightElsewhere as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=send, args=(w,)) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert raw_row_count(project) == 200
    stored = sum(getattr(o, "stored", 0) for o in outcomes)
    assert stored == 200
    claims.release([claim_name((project, i)) for i in ids])
