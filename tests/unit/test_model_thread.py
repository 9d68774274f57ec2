"""Batches waiting for the model thread are scored together (models/model_thread.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from models.model_thread import ModelThread, new_model_executor


class FakeModel:
    """Upper-cases texts; records each call's batch; the first call can be held."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def score(self, batch: list[str]) -> list[str]:
        self.calls.append(batch)
        self.entered.set()
        assert self.release.wait(5)
        if any("boom" in t for t in batch):
            raise RuntimeError("CUDA out of memory")
        return [t.upper() for t in batch]


def thread_for(model: FakeModel) -> ModelThread[list[str], str]:
    concat = lambda bs: [t for b in bs for t in b]  # noqa: E731
    return ModelThread(model.score, concat, len, new_model_executor())


async def until(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 5)


async def test_batches_that_wait_are_scored_in_one_call_and_split_back() -> None:
    model = FakeModel()
    mt = thread_for(model)
    first = asyncio.create_task(mt.score(["a"]))
    await until(model.entered)  # the model is busy with the first batch
    rest = [asyncio.create_task(mt.score(b)) for b in (["b", "c"], ["d"])]
    await asyncio.sleep(0.02)
    model.release.set()
    assert await first == ["A"]
    assert [await r for r in rest] == [["B", "C"], ["D"]]
    assert model.calls == [["a"], ["b", "c", "d"]]
    mt.close()


async def test_a_failing_merged_call_fails_only_the_batch_with_the_bad_record() -> None:
    model = FakeModel()
    mt = thread_for(model)
    first = asyncio.create_task(mt.score(["a"]))
    await until(model.entered)
    ok = asyncio.create_task(mt.score(["fine"]))
    bad = asyncio.create_task(mt.score(["boom"]))
    await asyncio.sleep(0.02)
    model.release.set()
    assert await first == ["A"] and await ok == ["FINE"]
    with pytest.raises(RuntimeError, match="out of memory"):
        await bad
    assert model.calls == [["a"], ["fine", "boom"], ["fine"], ["boom"]]
    mt.close()


async def test_run_shares_the_thread_with_scoring() -> None:
    model = FakeModel()
    model.release.set()
    mt = thread_for(model)
    scorer = await mt.run(lambda: threading.current_thread().name)
    assert scorer.startswith("argus-model")
    assert await mt.score(["x"]) == ["X"]
    mt.close()
