"""Prior art all workers share and a restart keeps: novelty against earlier filings, by date."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from indexer.client import make_client
from streams.demo import count_indexed, stop_worker
from streams.produce import produce_lines
from tests.integration.test_pipeline import patent

pytestmark = pytest.mark.integration

CLAIM = "a drone frame that folds its four arms under the camera gimbal"


def filing(i: int, filed: str) -> dict:
    return patent(i) | {"title": "folding drone", "claims": [CLAIM], "filing_date": filed}


def test_a_restarted_worker_finds_the_prior_art_an_earlier_one_indexed(stack, start_worker) -> None:
    settings, endpoints = stack

    def index(rows: list[dict], worker) -> dict[str, dict]:  # noqa: ANN001 - a process
        lines = [json.dumps(r).encode() for r in rows]
        produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "patents", lines, False))
        deadline = time.monotonic() + 60
        while asyncio.run(count_indexed(settings, endpoints, produced)) < len(rows):
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.3)

        async def read() -> dict[str, dict]:
            es = make_client(settings, endpoints)
            try:
                ids = [f"patents:{r['publication_number']}" for r in rows]
                found = await es.search(index="argus-events-*", query={"ids": {"values": ids}})
                return {h["_source"]["record_id"]: h["_source"] for h in found["hits"]["hits"]}
            finally:
                await es.close()

        return asyncio.run(read())

    first = start_worker()
    (original,) = index([filing(1, "2024-01-10")], first).values()
    assert original["scores"]["novelty"] == 1.0 and original["scores"]["prior_art"] == []
    stop_worker(first)

    second = start_worker()  # a new process: nothing in memory
    docs = index([filing(2, "2025-06-01"), filing(3, "2023-03-01")], second)
    copy, older = docs["US-2026-0000002-A1"], docs["US-2026-0000003-A1"]
    assert copy["scores"]["novelty"] < 0.05
    # The first worker's filing, and one of its own batch that was filed earlier still.
    assert {p["record_id"] for p in copy["scores"]["prior_art"]} == {
        "US-2026-0000001-A1",
        "US-2026-0000003-A1",
    }
    # Filed before both: neither is its prior art, though it arrived after them.
    assert older["scores"]["novelty"] == 1.0 and older["scores"]["prior_art"] == []
