"""Scoring and writing overlap through a bounded queue (streams/stages.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from streams.stages import two_stages


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def test_every_item_goes_through_both_stages_in_order_and_they_overlap() -> None:
    log: list[str] = []

    async def first(i: int) -> int:
        log.append(f"score {i}")
        await asyncio.sleep(0.01)
        return i * 10

    async def second(x: int) -> None:
        log.append(f"write {x}")
        await asyncio.sleep(0.03)
        log.append(f"written {x}")

    await two_stages(numbers(4), first, second, depth=2)
    assert [e for e in log if e.startswith("written")] == [f"written {i * 10}" for i in range(4)]
    # The second batch is scored while the first one is being written.
    assert log.index("score 1") < log.index("written 0")


@pytest.mark.parametrize("depth", [1, 3])
async def test_a_stuck_writer_stops_the_scoring_after_depth_batches(depth: int) -> None:
    scored: list[int] = []
    release = asyncio.Event()

    async def first(i: int) -> int:
        scored.append(i)
        return i

    async def second(x: int) -> None:
        await release.wait()

    run = asyncio.create_task(two_stages(numbers(20), first, second, depth))
    await asyncio.sleep(0.05)
    # One being written, `depth` waiting, one scored and waiting to be queued.
    assert len(scored) == depth + 2
    release.set()
    await asyncio.wait_for(run, 1)
    assert scored == list(range(20))


async def test_a_failing_writer_is_raised_not_waited_for() -> None:
    async def first(i: int) -> int:
        return i

    async def second(x: int) -> None:
        if x == 1:
            raise RuntimeError("defect")

    with pytest.raises(RuntimeError, match="defect"):
        await asyncio.wait_for(two_stages(numbers(10), first, second, depth=1), 1)


async def test_depth_zero_is_refused() -> None:
    async def first(i: int) -> int:
        return i

    async def second(x: int) -> None:
        pass

    with pytest.raises(ValueError, match="at least 1"):
        await two_stages(numbers(1), first, second, depth=0)
