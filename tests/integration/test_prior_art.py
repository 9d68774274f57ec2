"""Prior art all workers share and a restart keeps: novelty against earlier filings, by date."""

from __future__ import annotations

import pytest

from streams.demo import stop_worker
from tests.integration.conftest import scored
from tests.integration.test_pipeline import patent

pytestmark = pytest.mark.integration

CLAIM = "a drone frame that folds its four arms under the camera gimbal"


def filing(i: int, filed: str) -> dict:
    return patent(i) | {"title": "folding drone", "claims": [CLAIM], "filing_date": filed}


def test_a_restarted_worker_finds_the_prior_art_an_earlier_one_indexed(stack, start_worker) -> None:
    def index(rows: list[dict], worker) -> dict[str, dict]:  # noqa: ANN001 - a process
        ids = [f"patents:{r['publication_number']}" for r in rows]
        return {d["record_id"]: d for d in scored(stack, worker, "patents", rows, ids).values()}

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
