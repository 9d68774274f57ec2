"""Corrections to faust-streaming, mode-streaming and aiokafka, in one place.

Each shim replaces a method of a library's internals, so it is only correct for the
versions it was tested with: `install` refuses others (`check_versions`) unless
ARGUS_ALLOW_UNTESTED_VERSIONS is set, and a library upgrade must re-run
tests/unit/test_faust_shims.py and `make reliability`. Upstream threads (faust-streaming
on GitHub): #596 (records lost when a table restore ends), #216/#217 (flow resumed before
the seek to committed offsets). A fix released upstream lets the matching shim go.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from faust.types import TP, EventT, Message

from streams.settings import ConfigError

log = logging.getLogger(__name__)

# The minor versions the shims were written and tested against (pyproject.toml pins them).
TESTED = {"faust-streaming": "0.15", "mode-streaming": "0.7", "aiokafka": "0.14"}


def untested_versions() -> list[str]:
    """`name version` of each patched library whose installed minor version is not TESTED."""
    found = []
    for name, minor in TESTED.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "missing"
        if installed != minor and not installed.startswith(minor + "."):
            found.append(f"{name} {installed}")
    return found


def check_versions(allow_untested: bool = False) -> None:
    untested = untested_versions()
    if not untested:
        return
    tested = ", ".join(f"{n} {m}.x" for n, m in TESTED.items())
    message = (
        f"untested versions installed: {', '.join(untested)}; Argus patches these libraries "
        f"and was tested with {tested}"
    )
    if not allow_untested:
        raise ConfigError(f"{message} (ARGUS_ALLOW_UNTESTED_VERSIONS=true runs anyway)")
    log.warning("%s; running anyway (ARGUS_ALLOW_UNTESTED_VERSIONS)", message)


def install(allow_untested: bool = False) -> None:
    """Check the versions, then apply every shim (idempotent)."""
    check_versions(allow_untested)
    seek_uncommitted_to_earliest()
    reread_offset_gaps()


def seek_uncommitted_to_earliest() -> None:
    """Workaround for a Faust 0.15 / aiokafka bug that loses records around a rebalance.

    While a rebalance or a table restore pauses the flow, Faust drops records it has
    fetched and seeks back to the committed offsets. aiokafka's `seek_to_committed` leaves
    alone a partition with no commit (or a commit at 0), so the position stays past the
    dropped records and they are never read. Argus reads from the earliest offset when
    nothing is committed (consumer_auto_offset_reset), so seeking there is the same rule.

    Corrects: aiokafka `AIOKafkaConsumer.seek_to_committed` as Faust's
    `AIOKafkaConsumerThread.seek_to_committed` calls it (upstream: faust-streaming #216 and
    PR #217 fixed the same loss for apps without tables; #221 is its out-of-order cousin).
    """
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    async def seek_to_committed(self: AIOKafkaConsumerThread) -> Mapping[Any, int]:
        consumer = self._ensure_consumer()
        committed = await self.call_thread(consumer.seek_to_committed)
        uncommitted = [tp for tp, offset in committed.items() if not offset]
        if uncommitted:
            await self.call_thread(consumer.seek_to_beginning, *uncommitted)
        return committed

    AIOKafkaConsumerThread.seek_to_committed = seek_to_committed  # type: ignore[method-assign]


def reread_offset_gaps() -> None:
    """Read again the records Faust would skip, instead of committing over them.

    Faust loses records in two ways as a table restore ends (docs/reliability.md has the
    first): it takes a jump in the offsets it reads as a gap (as a compacted topic or
    transaction markers make) and commits over it; and it drops records queued for the
    agents (`flow_control.resume()` clears the stream buffers) when the partition has been
    fetched past them, so that they are never read again and no commit passes them.
    On topics with acks the consumer now seeks back and reads them again: from the first
    one, or from the partition's committed offset if that is earlier (Faust misses a hole
    that begins at the offset it has just sought to). Records read twice are harmless
    (deterministic document ids, alert dedup). If the same hole shows again after the
    re-read it is real, and Faust commits over it as before, with a warning naming the
    range, so a worker can never loop on it.

    The seek waits until Faust has marked read the message that revealed the hole (it does
    so after handing the message on, before asking `getmany` for the next one): sought any
    earlier, that mark would put the read offset past the hole again and Faust would drop
    the re-read records as already read. The rest of the batch fetched for that partition
    before the seek is discarded, for the same reason; the re-read brings it again.

    Corrects: Faust's `Consumer._add_gap` and `Consumer.getmany`, and mode's
    `FlowControlEvent.clear` (upstream: faust-streaming #596, open since 2023-12).
    """
    from faust.transport.consumer import Consumer
    from mode.utils.queues import FlowControlEvent

    if getattr(Consumer._add_gap, "argus_rereads", False):
        return
    add_gap_as_faust = Consumer._add_gap
    getmany_as_faust = Consumer.getmany
    clear_as_mode = FlowControlEvent.clear

    async def add_gap(self: Consumer, tp: TP, offset_from: int, offset_to: int) -> None:
        rereads = _Rereads.of(self)
        if rereads.done.get(tp) != (offset_from, offset_to):
            # Not a gap (yet): no commit passes the hole while it is not one.
            rereads.note(self, tp, offset_from, offset_to, hole=True)
            return
        log.warning(
            "offsets %d..%d of %s[%d] were never read; Faust will commit over them as a gap",
            offset_from,
            offset_to - 1,
            tp.topic,
            tp.partition,
            extra={"topic": tp.topic, "partition": tp.partition, "offset": offset_from},
        )
        await add_gap_as_faust(self, tp, offset_from, offset_to)

    async def getmany(
        self: Consumer,
        timeout: float,  # noqa: ASYNC109 - Faust's signature
    ) -> AsyncIterator[tuple[TP, Message]]:
        rereads = _Rereads.of(self)
        await rereads.seek_back(self)  # noted while no batch was being read
        sought: set[TP] = set()
        async with aclosing(getmany_as_faust(self, timeout)) as batch:
            async for tp, message in batch:
                if rereads.pending:  # noted since the last message, which Faust marked read
                    sought |= await rereads.seek_back(self)
                if tp in sought:
                    continue  # fetched before the seek back
                yield tp, message
        await rereads.seek_back(self)

    def clear(self: FlowControlEvent) -> None:
        queued = [item for queue in self._queues for item in queue._queue]
        clear_as_mode(self)
        for event in queued:
            message = getattr(event, "message", None)
            if not isinstance(event, EventT) or message is None or message.acked:
                continue
            consumer = event.app.consumer
            # With the flow stopped (a rebalance, a shutdown) Faust seeks back to the
            # committed offsets itself before it reads again.
            if consumer.flow_active and event.app.topics.acks_enabled_for(message.topic):
                _Rereads.of(consumer).note(
                    consumer, message.tp, message.offset, message.offset + 1, hole=False
                )

    add_gap.argus_rereads = True  # type: ignore[attr-defined]
    Consumer._add_gap = add_gap  # type: ignore[method-assign]
    Consumer.getmany = getmany  # type: ignore[method-assign,assignment]
    FlowControlEvent.clear = clear  # type: ignore[method-assign]


@dataclass
class _Reread:
    start: int  # first offset to read again
    end: int  # the offset after the last one
    rebalances: int  # app.rebalancing_count when noted
    hole: bool  # a jump Faust would commit over, rather than records it dropped


class _Rereads:
    """What `reread_offset_gaps` keeps for one consumer."""

    def __init__(self) -> None:
        self.pending: dict[TP, _Reread] = {}
        self.done: dict[TP, tuple[int, int]] = {}  # the hole last read again

    @classmethod
    def of(cls, consumer: Any) -> _Rereads:
        state = getattr(consumer, "_argus_rereads", None)
        if state is None:
            state = consumer._argus_rereads = cls()
        return state

    def note(self, consumer: Any, tp: TP, start: int, end: int, *, hole: bool) -> None:
        was = self.pending.get(tp)
        if was is not None:
            start, end, hole = min(start, was.start), max(end, was.end), hole and was.hole
        self.pending[tp] = _Reread(start, end, consumer.app.rebalancing_count, hole)

    async def seek_back(self, consumer: Any) -> set[TP]:
        """Seek each partition with records to read again back to them; those sought."""
        sought: set[TP] = set()
        while self.pending:
            tp, reread = self.pending.popitem()
            what = (reread.start, reread.end - 1, tp.topic, tp.partition)
            where = {"topic": tp.topic, "partition": tp.partition, "offset": reread.start}
            offset = await consumer._thread.call_thread(
                _seek_back, consumer, tp, reread.start, reread.rebalances
            )
            if offset is None:
                log.info(
                    "offsets %d..%d of %s[%d] were skipped; a rebalance seeks back to the "
                    "committed offset, which is before them",
                    *what,
                    extra=where,
                )
                continue
            sought.add(tp)
            if reread.hole:
                self.done[tp] = (reread.start, reread.end)
            log.warning(
                "re-reading offsets %d..%d of %s[%d]: Faust %s%s",
                *what,
                "skipped them" if reread.hole else "dropped them from a stream buffer",
                f"; from offset {offset}, the first not committed" if offset < reread.start else "",
                extra=where,
            )
        return sought


async def _seek_back(consumer: Any, tp: TP, start: int, rebalances: int) -> int | None:
    """Seek `tp` back to `start`, or to its committed offset if earlier; where it sought.

    Bounded by the committed offset (the earliest one when nothing is committed), the seek
    never skips a record not yet committed, even if Faust has moved the partition since.
    None when a rebalance has begun since (it ends with every partition at its committed
    offset) or has reset the partition, or `tp` is gone. Runs on the consumer thread, where
    aiokafka begins a rebalance (Faust counts it in `app.on_rebalance_start`), so none
    begins between the checks and the seek.
    """
    if consumer.app.rebalancing_count != rebalances:
        return None
    committed = consumer._committed_offset.get(tp)
    if committed is None and consumer._read_offset.get(tp) is None:
        return None  # revoked: Faust dropped what it kept of the partition
    kafka = consumer._thread._ensure_consumer()
    if tp not in kafka.assignment():
        return None
    offset = min(start, committed or 0)
    kafka.seek(tp, offset)
    # The last offset read, as Faust keeps it (its own seek keeps the next one): the jump
    # is then measured from there, so a hole that is real shows as the same one again.
    consumer._read_offset[tp] = offset - 1 if offset else None
    return offset
