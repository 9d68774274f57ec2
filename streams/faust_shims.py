"""Corrections to faust-streaming, mode-streaming and aiokafka, in one place.

Each shim replaces a method of a library's internals, so it is only correct for the
versions it was tested with: `install` refuses others (`check_versions`) unless
ARGUS_ALLOW_UNTESTED_VERSIONS is set, and a library upgrade must re-run
tests/unit/test_faust_shims.py and `make reliability`. Upstream threads (faust-streaming
on GitHub): #596 (records lost when a table restore ends), #216/#217 (flow resumed before
the seek to committed offsets); and aiokafka raises a batch's decoding error (a codec's
library missing, a damaged payload) out of the fetch, which stops a Faust worker
(`skip_undecodable_batches`). A fix released upstream lets the matching shim go.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from faust.types import TP, EventT, Message

from streams.contracts.settings import ConfigError
from streams.validation import UNDECODABLE_HEADER

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
    skip_undecodable_batches()


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


# The codec ids of a record batch's attributes (the same in formats v0 to v2).
CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
CRC_FETCHES = 3  # fetches in a row of a batch whose CRC fails before it is given up
MAX_PLACEHOLDERS = 1_000_000  # more offsets than this in one batch: its header is garbage

_undecodable: Counter[str] = Counter()  # topic -> batches dead-lettered, since the start
_undecodable_lock = threading.Lock()  # counted on the consumer thread, read by /metrics
_crc_failures: dict[tuple[Any, int], int] = {}  # (tp, first offset) -> fetches that failed


def undecodable_batches() -> dict[str, int]:
    """Record batches this process could not decode and dead-lettered, by topic."""
    with _undecodable_lock:
        return dict(_undecodable)


def skip_undecodable_batches() -> None:
    """Dead-letter a record batch the consumer cannot decode, instead of dying on it.

    aiokafka decompresses a batch while its records are iterated, inside the fetch
    (`PartitionRecords._unpack_records`), so an error there (`UnsupportedCodecError` when a
    codec's library is missing, a gzip, snappy, lz4 or zstd error on a damaged payload, a
    malformed record) is raised out of `getmany`. Faust's fetch loop
    (`Consumer._drain_messages`) lets it through and the worker stops, and stops again on the
    same batch after a restart. Each batch of a fetch is now decoded before aiokafka reads
    it; one that cannot be is replaced by a placeholder record for each offset it holds (so
    Faust sees no gap in the offsets and commits past them once the agents ack them), each
    with the header `argus-undecodable` saying why, the first one with the batch's raw bytes
    as its value, the others empty. Validation makes them dead letters with that reason
    (streams/validation.py); the batch is logged once at WARNING (topic, partition, offsets)
    and counted in `argus_undecodable_batches_total`.

    A batch whose CRC does not match is not given up at once. aiokafka raises
    `CorruptRecordException` and leaves the position before the batch, so that the next
    fetch reads it again (a copy damaged on the way), but the raise stops a Faust worker all
    the same. The fetch now ends before such a batch instead, so it is fetched again without
    the raise; one that fails CRC_FETCHES fetches in a row is corrupt at the broker, and is
    dead-lettered as above. Control batches (transaction markers), format v0/v1 offsets
    inside a compressed message (only its last offset is known: the others are a gap, which
    `reread_offset_gaps` reads once more and then lets Faust commit over, with a warning)
    and a fetch whose framing is broken are left to aiokafka.

    Corrects: aiokafka `PartitionRecords` as its `Fetcher` builds it for Faust's
    `AIOKafkaConsumerThread`. Batches may be Cython classes, which cannot be patched, so the
    Python-level fetcher is: its `MemoryRecords` name, so that the raw bytes are kept, and
    `PartitionRecords.__init__`.
    """
    from aiokafka.consumer import fetcher

    if getattr(fetcher.PartitionRecords.__init__, "argus_decodes", False):
        return
    memory_records = fetcher.MemoryRecords
    init_as_aiokafka = fetcher.PartitionRecords.__init__

    def keeping_bytes(data: bytes) -> _DecodingRecords:
        return _DecodingRecords(memory_records(data), data)

    def __init__(
        self: Any,
        tp: TP,
        records: Any,
        aborted_transactions: Any,
        fetch_offset: int,
        key_deserializer: Any,
        value_deserializer: Any,
        check_crcs: bool,
        isolation_level: Any,
    ) -> None:
        if not isinstance(records, _DecodingRecords):
            records = _DecodingRecords(records, None)
        records.bind(tp, check_crcs)
        init_as_aiokafka(
            self,
            tp,
            records,
            aborted_transactions,
            fetch_offset,
            key_deserializer,
            value_deserializer,
            check_crcs,
            isolation_level,
        )

    __init__.argus_decodes = True  # type: ignore[attr-defined]
    fetcher.MemoryRecords = keeping_bytes  # type: ignore[assignment,misc]
    fetcher.PartitionRecords.__init__ = __init__  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class _Placeholder:
    """A record of a batch that could not be decoded, as aiokafka's fetcher reads one."""

    offset: int
    timestamp: int | None
    timestamp_type: int | None
    value: bytes
    headers: list[tuple[str, bytes]]
    key: None = None
    checksum: None = None


@dataclass
class _Batch:
    """A batch as aiokafka's `_unpack_records` reads it, with its records already decoded
    (or placeholders for them); the rest is the original batch's."""

    batch: Any
    records: list[Any] | Iterator[_Placeholder] = field(default_factory=list)

    def validate_crc(self) -> bool:
        return True  # checked before decoding (or given up)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.records)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.batch, name)


class _DecodingRecords:
    """aiokafka's `MemoryRecords` of one fetched partition, each batch decoded ahead."""

    def __init__(self, records: Any, data: bytes | None) -> None:
        self._records = records
        self._data = memoryview(data) if data is not None else None  # None: not kept
        self._pos = 0  # where in them the next batch starts
        self._tp: TP | None = None
        self._check_crcs = False
        self._ahead: Any = None
        self._stopped = False  # before a batch to fetch again

    def bind(self, tp: TP, check_crcs: bool) -> None:
        self._tp, self._check_crcs = tp, check_crcs

    def size_in_bytes(self) -> int:
        return int(self._records.size_in_bytes())

    def has_next(self) -> bool:
        if self._tp is None:  # the fetcher, asking if the response holds a batch at all
            return bool(self._records.has_next())
        if self._ahead is None and not self._stopped:
            self._ahead = self._read_ahead(self._tp)
        return self._ahead is not None

    def next_batch(self) -> Any:
        if not self.has_next():
            return None
        batch, self._ahead = self._ahead, None
        return batch

    def _next_raw(self) -> memoryview | None:
        """The bytes of the batch that `self._records.next_batch()` returns next (a view:
        copied only if the batch cannot be decoded)."""
        if self._data is None:
            return None
        start = self._pos
        (length,) = struct.unpack_from(">i", self._data, start + 8)  # after the base offset
        self._pos = start + 12 + length
        return self._data[start : self._pos]

    def _read_ahead(self, tp: TP) -> Any:
        if not self._records.has_next():
            return None
        raw = self._next_raw()
        batch = self._records.next_batch()
        if batch is None:
            return None
        last = batch.next_offset - 1
        first = getattr(batch, "base_offset", last)  # v0/v1: the last offset only
        if self._check_crcs and not batch.validate_crc():
            failed = _crc_failures[tp, first] = _crc_failures.get((tp, first), 0) + 1
            if failed < CRC_FETCHES:
                log.warning(
                    "offsets %d..%d of %s[%d] failed their CRC check (fetch %d of %d); "
                    "fetching them again",
                    first,
                    last,
                    tp.topic,
                    tp.partition,
                    failed,
                    CRC_FETCHES,
                    extra={"topic": tp.topic, "partition": tp.partition, "offset": first},
                )
                self._stopped = True
                return None
            del _crc_failures[tp, first]
            why = f"failed its CRC check in {CRC_FETCHES} fetches in a row (corrupt at the broker)"
            return self._stand_in(tp, batch, raw, first, last, why)
        if _crc_failures:
            _crc_failures.pop((tp, first), None)
        if batch.is_control_batch:
            return batch  # aiokafka reads its marker and skips it
        try:
            return _Batch(batch, list(batch))
        except Exception as e:  # noqa: BLE001 - whatever the codec raises
            why = f"compressed with codec {_codec(batch, raw)} could not be decoded: "
            return self._stand_in(tp, batch, raw, first, last, why + _describe(e))

    def _stand_in(
        self, tp: TP, batch: Any, raw: memoryview | None, first: int, last: int, why: str
    ) -> _Batch:
        if not 0 <= last - first < MAX_PLACEHOLDERS:
            last = first  # the header is garbage: the offsets after the first are a gap
        reason = f"batch of offsets {first}..{last} {why}"
        log.warning(
            "dead-lettering offsets %d..%d of %s[%d]: %s",
            first,
            last,
            tp.topic,
            tp.partition,
            reason,
            extra={"topic": tp.topic, "partition": tp.partition, "offset": first},
        )
        with _undecodable_lock:
            _undecodable[tp.topic] += 1
        return _Batch(batch, _placeholders(batch, raw, first, last, reason))


def _placeholders(
    batch: Any, raw: memoryview | None, first: int, last: int, reason: str
) -> Iterator[_Placeholder]:
    timestamp_type = getattr(batch, "timestamp_type", None)
    timestamp = getattr(batch, "max_timestamp" if timestamp_type else "first_timestamp", None)
    timestamp = timestamp if timestamp is not None and timestamp >= 0 else None
    value = bytes(raw) if raw is not None else b""
    if raw is None:
        with_bytes = "; its raw bytes were not kept"
    else:
        with_bytes = f"; the raw batch ({len(value)} bytes) is this record's value"
    for offset in range(first, last + 1):
        why = reason + (
            with_bytes if offset == first else f"; the raw batch is the value of offset {first}"
        )
        yield _Placeholder(
            offset,
            timestamp,
            timestamp_type,
            value if offset == first else b"",
            [(UNDECODABLE_HEADER, why.encode())],
        )


def _codec(batch: Any, raw: memoryview | None) -> str:
    codec = getattr(batch, "compression_type", None)
    if codec is None and raw is not None and len(raw) > 17:
        codec = raw[17] & 0x07  # v0/v1: offset, size, crc, magic, then the attributes
    return CODECS.get(codec, f"id {codec}") if codec is not None else "unknown"


def _describe(error: Exception) -> str:
    text = str(error)
    name = type(error).__name__
    return text if text.startswith(name) else f"{name}: {text}" if text else name
