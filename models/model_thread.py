"""The model's own thread: batches that wait for it are scored together, in one call.

Each agent hands the engine one micro-batch at a time; while the model works on one, the
others queue here. The next call takes all of them: fuller forward passes, the way a
text-embeddings-inference server batches concurrent requests. If such a merged call fails,
each batch is scored alone, so that a batch only ever fails for a record of its own (the
agent then splits it to find the record).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

B = TypeVar("B")  # a batch
R = TypeVar("R")  # the result for one item of a batch
T = TypeVar("T")


def new_model_executor() -> ThreadPoolExecutor:
    """The thread to load a model on and run all its work on.

    One thread for all torch work, loading included: once a second thread of the process has
    run a parallel torch operation, each has its own OpenMP thread team, and on 2 CPU cores
    the engine then used 1.8 of them instead of 2.0 (about 8 % fewer events/s, measured in
    docs/benchmarks.md). The exception is on CPU: the forward passes it asks for run on
    single-threaded lanes (models/lanes.py), which have no team.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="argus-model")


@dataclass
class _Request(Generic[B, R]):
    batch: B
    size: int
    done: asyncio.Future[list[R]]


class ModelThread(Generic[B, R]):
    def __init__(
        self,
        score: Callable[[B], list[R]],
        concat: Callable[[list[B]], B],
        size: Callable[[B], int],
        executor: ThreadPoolExecutor,
    ) -> None:
        """`score(batch)`: one result per item, in order; `concat` joins batches; `size` is
        a batch's item count; `executor`: one worker, the thread the model was loaded on
        (see `new_model_executor`)."""
        self._score = score
        self._concat = concat
        self._size = size
        self._executor = executor
        self._waiting: list[_Request[B, R]] = []
        self._lock = threading.Lock()

    async def score(self, batch: B) -> list[R]:
        loop = asyncio.get_running_loop()
        request = _Request(batch, self._size(batch), loop.create_future())
        with self._lock:
            self._waiting.append(request)
        # One call per request; a call finding the queue emptied by an earlier one returns.
        loop.run_in_executor(self._executor, self._score_waiting)
        return await request.done

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn` on the model thread, between scoring calls (to swap what the model reads)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def call(self, fn: Callable[[], T]) -> T:
        """`run`, for callers without an event loop (never from the model thread itself)."""
        return self._executor.submit(fn).result()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _score_waiting(self) -> None:
        with self._lock:
            requests, self._waiting = self._waiting, []
        if not requests:
            return
        try:
            merged = self._score(self._concat([r.batch for r in requests]))
        except Exception as e:  # noqa: BLE001 - each batch gets its own outcome below
            if len(requests) == 1:
                _settle(requests[0], None, e)
                return
            for r in requests:
                try:
                    _settle(r, self._score(r.batch), None)
                except Exception as alone:  # noqa: BLE001 - the caller splits its batch
                    _settle(r, None, alone)
            return
        start = 0
        for r in requests:
            _settle(r, merged[start : start + r.size], None)
            start += r.size


def _settle(request: _Request[B, R], result: list[R] | None, error: Exception | None) -> None:
    """Hand the outcome to the caller's event loop (futures are not thread-safe)."""

    def settle() -> None:
        if request.done.done():  # the caller was cancelled (shutdown)
            return
        if error is not None:
            request.done.set_exception(error)
        else:
            request.done.set_result(result or [])

    request.done.get_loop().call_soon_threadsafe(settle)
