"""The Faust shims of streams/faust_shims.py that can be checked without a broker."""

from __future__ import annotations

import asyncio
import logging
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from aiokafka.structs import ConsumerRecord, TopicPartition
from faust.events import Event
from faust.transport.consumer import Consumer
from faust.types import TP, Message

from streams import faust_shims
from streams.contracts.settings import ConfigError
from streams.faust_shims import _Rereads, reread_offset_gaps

REPO = Path(__file__).resolve().parents[2]
NEWS_1 = TopicPartition("argus.news", 1)
NEWS_3 = TopicPartition("argus.news", 3)
RE_READ = "re-reading offsets 364..366 of argus.news[1]: Faust skipped them"
GAP = "offsets 364..366 of argus.news[1] were never read; Faust will commit over them as a gap"
FROM_363 = "; from offset 363, the first not committed"


class FakeKafka:
    """The consumer thread and aiokafka consumer under a real Faust consumer.

    Each partition's log is fetched from its position, four records a time; the first fetch
    can leave offsets out, as the race in docs/reliability.md did. `seek` notes the read
    offset Faust holds for the partition at that moment.
    """

    def __init__(self, logs: dict[TP, list[int]], lost: dict[TP, set[int]]) -> None:
        self.logs = logs
        self.position = {tp: offsets[0] for tp, offsets in logs.items()}
        self.lost = lost
        self.seeks: list[tuple[TP, int, int | None]] = []
        self.read_offset: dict[TP, int | None] = {}
        self.stopped = asyncio.Event()

    async def call_thread(self, fun: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return await fun(*args)

    def _ensure_consumer(self) -> FakeKafka:
        return self

    def highwater(self, tp: TP) -> int:
        return self.logs[tp][-1] + 1

    async def getmany(
        self,
        active_partitions: set[TP],
        timeout: float,  # noqa: ASYNC109 - Faust's signature
    ) -> dict[TP, list[Any]]:
        records = {}
        for tp, offsets in self.logs.items():
            lost = self.lost.pop(tp, set())
            ahead = [o for o in offsets if o >= self.position[tp] and o not in lost][:4]
            if ahead:
                records[tp] = [record(tp, offset) for offset in ahead]
                self.position[tp] = ahead[-1] + 1
        if not records:
            self.stopped.set()
        return records

    def assignment(self) -> set[TP]:
        return set(self.logs)

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset, self.read_offset[tp]))
        self.position[tp] = offset


def record(tp: TP, offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b"v",
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
        headers=(),
    )


async def drain(
    kafka: FakeKafka,
    committed: dict[TP, int],
    read: dict[TP, int] | None = None,
    on_message: Callable[[Consumer, Message], bool] = lambda c, m: False,
) -> tuple[Consumer, dict[TP, list[int]]]:
    """Faust's own fetch loop (`Consumer._drain_messages`) over `kafka`; what it delivered.

    The consumer starts as Faust's `perform_seek` leaves it: the read offsets at the
    committed ones, unless `read` says otherwise. A message is acked when delivered unless
    `on_message` takes it.
    """
    reread_offset_gaps()
    reread_offset_gaps()  # idempotent: one seek per hole, not one per call
    app = faust.App("argus-test", broker="kafka://localhost:1", web_enabled=False)
    app.topics.acks_enabled_for = lambda topic: True  # type: ignore[method-assign]
    consumer = app.consumer
    consumer._thread = kafka  # type: ignore[assignment]
    consumer._set_active_tps(set(kafka.logs))
    kafka.read_offset = consumer._read_offset  # type: ignore[assignment]
    consumer._committed_offset.update(committed)
    consumer._read_offset.update({**committed, **(read or {})})
    delivered: dict[TP, list[int]] = {tp: [] for tp in kafka.logs}

    async def callback(message: Message) -> None:
        delivered[message.tp].append(message.offset)
        if not on_message(consumer, message):
            consumer.ack(message)

    consumer.callback = callback  # type: ignore[method-assign]
    await consumer._drain_messages(SimpleNamespace(_stopped=kafka.stopped))  # type: ignore[arg-type]
    return consumer, delivered


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "streams.faust_shims" and r.levelno >= logging.WARNING
    ]


async def test_a_hole_is_read_again_once_the_message_after_it_is_marked_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kafka = FakeKafka(
        {NEWS_1: list(range(364, 373)), NEWS_3: list(range(100, 110))},
        lost={NEWS_1: {364, 365, 366}},  # the first fetch: 367, 368, 369, 370
    )
    with caplog.at_level(logging.INFO, logger="streams.faust_shims"):
        consumer, delivered = await drain(
            kafka, committed={NEWS_1: 364, NEWS_3: 100}, read={NEWS_1: 363}
        )
    # sought back after Faust marked 367 read, so the re-read is not dropped as read
    assert kafka.seeks == [(NEWS_1, 364, 367)]
    # 368 to 370 were fetched before the seek and are left for the re-read
    assert delivered[NEWS_1] == [367, *range(364, 373)]
    assert delivered[NEWS_3] == list(range(100, 110))
    assert warnings(caplog) == [RE_READ]
    assert not consumer._gap[NEWS_1]
    assert consumer._new_offset(NEWS_1) == 373


async def test_a_hole_is_read_again_from_the_committed_offset_if_earlier(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # After a seek to the committed offset (363) Faust takes 363 as read: 367 then shows
    # the hole as 364..366, though 363 was never delivered either.
    kafka = FakeKafka({NEWS_1: list(range(363, 373))}, lost={NEWS_1: {363, 364, 365, 366}})
    with caplog.at_level(logging.INFO, logger="streams.faust_shims"):
        consumer, delivered = await drain(kafka, committed={NEWS_1: 363})
    assert kafka.seeks == [(NEWS_1, 363, 367)]
    assert delivered[NEWS_1] == [367, *range(363, 373)]
    assert warnings(caplog) == [RE_READ + FROM_363]
    assert not consumer._gap[NEWS_1]
    assert consumer._new_offset(NEWS_1) == 373


async def test_the_same_hole_after_a_re_read_is_committed_over_as_faust_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kafka = FakeKafka({NEWS_1: [363, *range(367, 373)]}, lost={})  # compacted: never there
    with caplog.at_level(logging.INFO, logger="streams.faust_shims"):
        consumer, delivered = await drain(kafka, committed={NEWS_1: 363})
    assert kafka.seeks == [(NEWS_1, 363, 367)]  # once, then the fallback
    assert delivered[NEWS_1] == [363, 367, 363, *range(367, 373)]
    assert warnings(caplog) == [RE_READ + FROM_363, GAP]
    assert consumer._gap[NEWS_1]  # Faust's own bookkeeping
    assert consumer._new_offset(NEWS_1) > 367  # committed over


async def test_offsets_without_a_hole_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    kafka = FakeKafka({NEWS_1: list(range(363, 373))}, lost={})
    with caplog.at_level(logging.INFO, logger="streams.faust_shims"):
        consumer, delivered = await drain(kafka, committed={NEWS_1: 363})
    assert kafka.seeks == []
    assert delivered[NEWS_1] == list(range(363, 373))
    assert not [r for r in caplog.records if r.name == "streams.faust_shims"]
    assert consumer._new_offset(NEWS_1) == 373


async def test_a_rebalance_before_the_seek_leaves_the_hole_to_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def rebalance_at_367(consumer: Consumer, message: Message) -> bool:
        if message.offset == 367:
            consumer.app.on_rebalance_start()  # as aiokafka's listener calls it
        return False

    kafka = FakeKafka({NEWS_1: list(range(363, 373))}, lost={NEWS_1: {364, 365, 366}})
    with caplog.at_level(logging.INFO, logger="streams.faust_shims"):
        consumer, delivered = await drain(kafka, {NEWS_1: 363}, on_message=rebalance_at_367)
    # no seek over a position the rebalance resets (to the committed offset, before the hole)
    assert kafka.seeks == []
    assert delivered[NEWS_1] == [363, *range(367, 373)]
    assert warnings(caplog) == []
    assert not consumer._gap[NEWS_1]
    assert consumer._new_offset(NEWS_1) == 364  # nothing is committed past the hole


async def test_records_dropped_from_a_stream_buffer_are_read_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: set[int] = set()
    buffers: list[Any] = []  # flow control keeps its queues in a WeakSet

    def buffer_until_367(consumer: Consumer, message: Message) -> bool:
        """363..366 wait in a stream buffer; at 367 Faust resumes the flow, clearing it."""
        app = consumer.app
        if message.offset in seen:
            return False
        seen.add(message.offset)
        if message.offset == 367:
            app.flow_control.resume()
        elif message.offset < 367:
            if not buffers:
                buffers.append(app.FlowControlQueue(maxsize=10, clear_on_resume=True))
            buffers[0].put_nowait(Event(app, b"k", b"v", None, message))
            return True
        return False

    kafka = FakeKafka({NEWS_1: list(range(363, 373))}, lost={})
    with caplog.at_level(logging.INFO, logger="streams.faust_shims"):
        consumer, delivered = await drain(kafka, {NEWS_1: 363}, on_message=buffer_until_367)
    assert kafka.seeks == [(NEWS_1, 363, 367)]
    assert delivered[NEWS_1] == [*range(363, 368), *range(363, 373)]
    assert warnings(caplog) == [
        "re-reading offsets 363..366 of argus.news[1]: Faust dropped them from a stream buffer"
    ]
    assert consumer._new_offset(NEWS_1) == 373


async def test_records_dropped_while_the_flow_is_stopped_are_left_to_faust() -> None:
    reread_offset_gaps()
    app = faust.App("argus-test", broker="kafka://localhost:1", web_enabled=False)
    app.topics.acks_enabled_for = lambda topic: True  # type: ignore[method-assign]
    app.consumer.stop_flow()  # a rebalance: Faust seeks to the committed offsets itself
    queue = app.FlowControlQueue(maxsize=10, clear_on_resume=True)
    message = app.consumer._to_message(NEWS_1, record(NEWS_1, 363))
    queue.put_nowait(Event(app, b"k", b"v", None, message))
    app.flow_control.clear()
    assert queue.empty()
    assert not _Rereads.of(app.consumer).pending


def test_the_installed_versions_are_the_tested_ones() -> None:
    assert faust_shims.untested_versions() == []
    faust_shims.check_versions()


def test_an_untested_version_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(faust_shims.TESTED, "aiokafka", "0.99")
    with pytest.raises(ConfigError) as err:
        faust_shims.check_versions()
    assert str(err.value).startswith("untested versions installed: aiokafka 0.14")
    assert "ARGUS_ALLOW_UNTESTED_VERSIONS=true" in str(err.value)
    faust_shims.check_versions(allow_untested=True)  # the documented override: a warning


def test_the_pins_match_the_tested_versions() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for name, minor in faust_shims.TESTED.items():
        (pin,) = [d for d in deps if d.split("[")[0].split("=")[0].split("~")[0] == name]
        assert f"~={minor}." in pin, pin


# --- skip_undecodable_batches: a batch the consumer cannot decode is dead-lettered -------

import zlib  # noqa: E402

import aiokafka.codec  # noqa: E402
from aiokafka.consumer import fetcher  # noqa: E402
from aiokafka.errors import CorruptRecordException  # noqa: E402
from aiokafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402
from aiokafka.record.legacy_records import LegacyRecordBatchBuilder  # noqa: E402
from aiokafka.record.memory_records import MemoryRecords  # noqa: E402
from aiokafka.record.util import calc_crc32c  # noqa: E402

from streams.metrics import Metrics  # noqa: E402
from streams.validation import UNDECODABLE_HEADER, Invalid, validate_record  # noqa: E402

NEWS_0 = TopicPartition("argus.news", 0)
NONE, GZIP, SNAPPY, LZ4, ZSTD = range(5)
CRC_AT, ATTRIBUTES_AT = 17, 21  # v2: base offset, length, leader epoch, magic, then the CRC


def batch(base: int, n: int, codec: int) -> bytes:
    """A v2 record batch as a producer sends it and a broker returns it: keys, headers."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for i in range(n):
        value = f'{{"n": {base + i}, "text": "{"the same words " * 8}"}}'.encode()
        builder.append(
            i,
            timestamp=1_790_000_000_000 + i,
            key=b"k%d" % i,
            value=value,
            headers=[("h", b"%d" % i)],
        )
    data = bytearray(builder.build())
    data[:8] = base.to_bytes(8, "big")  # the broker's offset (not covered by the CRC)
    return bytes(data)


def with_crc(data: bytearray) -> bytes:
    data[CRC_AT:ATTRIBUTES_AT] = calc_crc32c(bytes(data[ATTRIBUTES_AT:])).to_bytes(4, "big")
    return bytes(data)


def fetched(data: bytes, check_crcs: bool = True) -> list[ConsumerRecord]:
    """The records aiokafka's fetcher makes of a fetch response's bytes for one partition."""
    faust_shims.skip_undecodable_batches()
    faust_shims.skip_undecodable_batches()  # idempotent
    records = fetcher.MemoryRecords(data)  # as Fetcher._proc_fetch_request builds them
    assert records.has_next()
    return list(fetcher.PartitionRecords(NEWS_0, records, [], 0, None, None, check_crcs, 0))


def as_produced(data: bytes) -> list[tuple[Any, ...]]:
    """Every record of `data` as aiokafka itself decodes it, without the shim."""
    out, records = [], MemoryRecords(data)
    while records.has_next():
        for r in records.next_batch():
            out.append((r.offset, r.timestamp, r.key, r.value, tuple(r.headers)))
    return out


def reasons(records: list[ConsumerRecord]) -> list[str]:
    return [dict(r.headers)[UNDECODABLE_HEADER].decode() for r in records]


def shim_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [m for m in warnings(caplog) if m.startswith(("dead-lettering", "offsets"))]


def test_good_batches_of_every_codec_are_read_as_aiokafka_reads_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = b"".join(
        batch(base, 5, codec) for base, codec in zip(range(0, 25, 5), range(5), strict=True)
    )
    with caplog.at_level(logging.WARNING, logger="streams.faust_shims"):
        records = fetched(data)
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in records] == as_produced(
        data
    )
    assert [r.offset for r in records] == list(range(25))
    assert not shim_warnings(caplog)


def test_a_batch_whose_codec_is_missing_is_a_placeholder_for_each_offset(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    good_before, snappy, good_after = batch(0, 3, NONE), batch(3, 4, SNAPPY), batch(7, 2, ZSTD)
    data = good_before + snappy + good_after
    expected = as_produced(data)
    counted = faust_shims.undecodable_batches().get("argus.news", 0)
    monkeypatch.setattr(aiokafka.codec, "has_snappy", lambda: False)  # cramjam missing
    with pytest.raises(aiokafka.errors.UnsupportedCodecError):
        list(MemoryRecords(snappy).next_batch())  # what used to stop the worker

    with caplog.at_level(logging.WARNING, logger="streams.faust_shims"):
        records = fetched(data)

    assert [r.offset for r in records] == list(range(9))  # no gap for Faust to commit over
    kept = [r for r in records if r.offset not in range(3, 7)]
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in kept] == [
        e for e in expected if e[0] not in range(3, 7)
    ]
    stand_ins = records[3:7]
    why = (
        "batch of offsets 3..6 compressed with codec snappy could not be decoded: "
        "UnsupportedCodecError: Libraries for snappy compression codec not found"
    )
    assert reasons(stand_ins) == [
        f"{why}; the raw batch ({len(snappy)} bytes) is this record's value",
        *[f"{why}; the raw batch is the value of offset 3"] * 3,
    ]
    assert stand_ins[0].value == snappy  # the bytes as fetched, for whoever can decode them
    assert [r.value for r in stand_ins[1:]] == [b""] * 3
    assert all(r.key is None and r.timestamp == 1_790_000_000_000 for r in stand_ins)
    assert shim_warnings(caplog) == [f"dead-lettering offsets 3..6 of argus.news[0]: {why}"]
    assert faust_shims.undecodable_batches()["argus.news"] == counted + 1
    assert 'argus_undecodable_batches_total{topic="argus.news"}' in Metrics().exposition().decode()
    # validation turns each into a dead letter with the reason
    for r in stand_ins:
        checked = validate_record("news", r.value, r.key, 1 << 20, r.headers)
        assert isinstance(checked, Invalid) and checked.reason.startswith(why)


def test_a_damaged_payload_with_a_valid_crc_is_dead_lettered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    damaged = bytearray(batch(10, 6, GZIP))
    damaged[ATTRIBUTES_AT + 40 :] = b"\x00" * (len(damaged) - ATTRIBUTES_AT - 40)  # not gzip
    damaged = bytearray(with_crc(damaged))
    assert MemoryRecords(bytes(damaged)).next_batch().validate_crc()
    with caplog.at_level(logging.WARNING, logger="streams.faust_shims"):
        records = fetched(bytes(damaged) + batch(16, 2, LZ4))
    assert [r.offset for r in records] == list(range(10, 18))
    assert all(
        reason.startswith("batch of offsets 10..15 compressed with codec gzip could not be decoded")
        for reason in reasons(records[:6])
    )
    assert records[0].value == bytes(damaged)
    assert [UNDECODABLE_HEADER not in dict(r.headers) for r in records[6:]] == [True, True]
    assert len(shim_warnings(caplog)) == 1


def test_a_batch_failing_its_crc_is_fetched_again_then_dead_lettered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flipped = bytearray(batch(3, 4, ZSTD))
    flipped[-3] ^= 0xFF  # damaged after the producer computed the CRC
    data = batch(0, 3, NONE) + bytes(flipped)
    unshimmed = fetcher.PartitionRecords(NEWS_0, MemoryRecords(data), [], 0, None, None, True, 0)
    unshimmed._records = MemoryRecords(data)  # aiokafka's own, as without the shim
    with pytest.raises(CorruptRecordException):
        list(unshimmed._unpack_records())  # what used to stop the worker

    with caplog.at_level(logging.WARNING, logger="streams.faust_shims"):
        # aiokafka's way, without the raise: the fetch ends before the batch, read again
        for _ in (1, 2):
            records = fetched(data)
            assert [r.offset for r in records] == [0, 1, 2]
        records = fetched(data)  # the third fetch in a row: corrupt at the broker
    assert [r.offset for r in records] == list(range(7))
    assert reasons(records[3:])[0] == (
        "batch of offsets 3..6 failed its CRC check in 3 fetches in a row (corrupt at the "
        f"broker); the raw batch ({len(flipped)} bytes) is this record's value"
    )
    assert shim_warnings(caplog) == [
        "offsets 3..6 of argus.news[0] failed their CRC check (fetch 1 of 3); fetching them again",
        "offsets 3..6 of argus.news[0] failed their CRC check (fetch 2 of 3); fetching them again",
        "dead-lettering offsets 3..6 of argus.news[0]: batch of offsets 3..6 failed its CRC "
        "check in 3 fetches in a row (corrupt at the broker)",
    ]
    # A copy damaged on the way is read as it is once a fetch brings it whole.
    records = fetched(data[: -len(flipped)] + batch(3, 4, ZSTD))
    assert UNDECODABLE_HEADER not in dict(records[-1].headers)


def test_a_compressed_v1_message_that_cannot_be_decoded_is_dead_lettered_at_its_offset() -> None:
    builder = LegacyRecordBatchBuilder(magic=1, compression_type=GZIP, batch_size=1 << 20)
    for i in range(3):
        builder.append(i, timestamp=None, key=b"k", value=b"v")
    data = bytearray(builder.build())
    data[:8] = (2).to_bytes(8, "big")  # a broker gives the message its last record's offset
    data[-8:] = b"\x00" * 8  # the gzip trailer: its checksum and size
    data[12:16] = zlib.crc32(bytes(data[16:])).to_bytes(4, "big")  # v0/v1: a CRC-32 after it
    records = fetched(bytes(data))
    # Only the last offset of a v0/v1 compressed message is known: the others are a gap.
    assert [r.offset for r in records] == [2]
    assert reasons(records)[0].startswith(
        "batch of offsets 2..2 compressed with codec gzip could not be decoded: "
    )
    assert records[0].value == bytes(data)


def test_install_skips_undecodable_batches() -> None:
    faust_shims.install()
    assert fetcher.PartitionRecords.__init__.argus_decodes  # type: ignore[attr-defined]
    assert isinstance(fetcher.MemoryRecords(batch(0, 1, NONE)), faust_shims._DecodingRecords)
