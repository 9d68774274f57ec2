"""The bulk writer's error handling, against a scripted stand-in for `AsyncElasticsearch.bulk`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import ApiError

from indexer.bulk_writer import (
    BulkWriter,
    IndexingRefusedError,
    Outcome,
    chunk_positions,
    classify_item,
)


def action(i: int) -> dict[str, Any]:
    return {"_op_type": "create", "_index": "argus-events-news", "_id": f"news:{i}", "_source": {}}


def item(status: int, etype: str = "x") -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    if status >= 300:
        body["error"] = {"type": etype, "reason": "why"}
    return {"create": body}


def api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "h", 1))
    return ApiError("boom", meta, {})


class ScriptedES:
    """Answers each bulk call with the next scripted response (items, or an exception)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[list[str]] = []

    async def bulk(self, operations: bytes) -> dict[str, Any]:
        headers = [json.loads(line) for line in operations.splitlines()[::2]]
        self.calls.append([h["create"]["_id"] for h in headers])
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return {"items": step}


def writer(es: ScriptedES, **kw: Any) -> BulkWriter:
    return BulkWriter(es, initial_backoff=0.001, max_backoff=0.002, **kw)  # type: ignore[arg-type]


def test_classify() -> None:
    assert classify_item(item(201))[0] is Outcome.CREATED
    assert classify_item(item(409, "version_conflict_engine_exception"))[0] is Outcome.DUPLICATE
    assert classify_item(item(429))[0] is Outcome.RETRY
    assert classify_item(item(503))[0] is Outcome.RETRY
    outcome, reason = classify_item(item(400, "mapper_parsing_exception"))
    assert outcome is Outcome.FAILED and "mapper_parsing_exception" in reason


async def test_conflict_counts_as_written() -> None:
    es = ScriptedES([item(201), item(409)])
    res = await writer(es).write([action(0), action(1)])
    assert (res.created, res.duplicates, res.failed) == (1, 1, {})


async def test_only_retriable_items_are_resent() -> None:
    es = ScriptedES([item(201), item(429), item(400)], [item(201)])
    res = await writer(es).write([action(0), action(1), action(2)])
    assert es.calls == [["news:0", "news:1", "news:2"], ["news:1"]]
    assert res.created == 2 and list(res.failed) == [2]


async def test_item_retries_are_capped() -> None:
    es = ScriptedES(*[[item(503)]] * 3)
    res = await writer(es, max_item_retries=2).write([action(0)])
    assert len(es.calls) == 3 and "503" in res.failed[0]


async def test_outage_is_retried_and_setup_rerun() -> None:
    setups: list[int] = []

    async def setup() -> None:
        setups.append(1)

    es = ScriptedES(ConnectionError("down"), api_error(503), [item(201)])
    res = await writer(es, setup=setup).write([action(0)])
    assert res.created == 1 and len(es.calls) == 3
    assert len(setups) == 3  # first use, then after each failed attempt (templates reinstalled)


async def test_auth_failure_is_raised_not_dead_lettered() -> None:
    with pytest.raises(IndexingRefusedError):
        await writer(ScriptedES(api_error(401))).write([action(0)])


async def test_rejected_request_fails_its_items() -> None:
    res = await writer(ScriptedES(api_error(400))).write([action(0), action(1)])
    assert set(res.failed) == {0, 1}


async def test_chunking() -> None:
    es = ScriptedES([item(201)] * 2, [item(201)])
    res = await writer(es, chunk_size=2).write([action(0), action(1), action(2)])
    assert res.created == 3 and [len(c) for c in es.calls] == [2, 1]


def test_chunks_are_capped_by_bytes_too() -> None:
    assert chunk_positions([4, 4, 4, 4, 4], 3, 100) == [[0, 1, 2], [3, 4]]
    assert chunk_positions([4, 4, 9, 4], 10, 10) == [[0, 1], [2], [3]]  # 9 alone: too big to pair


async def test_too_large_request_is_split_not_dead_lettered() -> None:
    # 413 for the four together and for the pair holding the big one, which alone fails too;
    # the other three are written.
    es = ScriptedES(api_error(413), api_error(413), [item(201)], api_error(413), [item(201)] * 2)
    res = await writer(es).write([action(0), action(1), action(2), action(3)])
    assert (
        es.calls
        == [
            ["news:0", "news:1", "news:2", "news:3"],
            ["news:0", "news:1"],
            ["news:0"],
            ["news:1"],
            ["news:2", "news:3"],
        ][: len(es.calls)]
    )
    assert res.created == 3 and list(res.failed) == [1] and "too large" in res.failed[1]
