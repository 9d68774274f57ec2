"""Two stages joined by a bounded queue: the model's side and the Kafka/Elasticsearch side.

While one micro-batch is indexed and published, the next is already being scored; when
indexing is slow (Elasticsearch down, a long bulk), at most `depth` scored batches wait and
then the scoring stage stops taking input, so Kafka's consumer pauses instead of memory
growing. The second stage runs one item at a time, in order: offsets are acked in the
order they were read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import TypeVar

In = TypeVar("In")
Mid = TypeVar("Mid")


async def two_stages(
    items: AsyncIterable[In],
    first: Callable[[In], Awaitable[Mid]],
    second: Callable[[Mid], Awaitable[None]],
    depth: int,
) -> None:
    """`second(await first(item))` for every item, the two overlapping across items. Returns
    once every item went through both; an error in `second` is raised here."""
    if depth < 1:
        raise ValueError("depth must be at least 1 (0 would make the queue unbounded)")
    ready: asyncio.Queue[Mid] = asyncio.Queue(maxsize=depth)

    async def drain() -> None:
        while True:
            item = await ready.get()
            try:
                await second(item)
            finally:
                ready.task_done()

    worker = asyncio.create_task(drain())
    try:
        async for item in items:
            await _unless_failed(ready.put(await first(item)), worker)
        await _unless_failed(ready.join(), worker)
    finally:
        worker.cancel()


async def _unless_failed(step: Awaitable[None], worker: asyncio.Task[None]) -> None:
    """Await `step`, unless the second stage fails first: then raise its error, rather than
    wait forever on a queue nobody empties."""
    waiting = asyncio.ensure_future(step)
    await asyncio.wait({waiting, worker}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        worker.result()
