"""Records from the producers Kafka users run, in every codec, through a real worker.

librdkafka (confluent-kafka) and aiokafka (`argus produce`) write record batches of format
v2 with many records each, compressed with each codec Kafka has, with headers; the worker
indexes every record once. The Java client writes the same format v2 batches as librdkafka
but cannot be had on these machines (no Maven registry), so it has no test of its own.
A batch the worker cannot decode is dead-lettered, record by record, and the worker goes on.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.consumer import fetcher
from aiokafka.record.memory_records import MemoryRecords
from confluent_kafka import Producer

from indexer.client import make_client
from streams.contracts.schemas import DeadLetter
from streams.contracts.topics import DLQ_TOPIC, INPUT_TOPICS
from streams.demo import DeadLetterCounter, count_indexed
from streams.faust_shims import CODECS
from streams.produce import Produced, produce_lines, record_key
from streams.stack import free_port
from tests.integration.test_pipeline import news, read_topic

pytestmark = pytest.mark.integration

NEWS = INPUT_TOPICS["news"]
PER_CODEC = 40  # over 4 partitions: about ten records a batch
HEADERS = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]


def confluent_produce(bootstrap: str, rows: list[dict], codec: str) -> list[Produced]:
    """As a librdkafka application does: keyed by record id, the Java client's partitioner,
    batches filled for `linger.ms`, headers on every record."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "compression.type": codec,
            "linger.ms": 200,
            "batch.num.messages": 1000,
            "partitioner": "murmur2_random",
            "acks": "all",
        }
    )
    produced: list[Produced] = []
    errors: list[Any] = []

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            errors.append(err)
        else:
            key = msg.key().decode()
            produced.append(Produced(msg.topic(), msg.partition(), msg.offset(), key))

    for row in rows:
        line = json.dumps(row).encode()
        key = record_key(line)
        assert key
        producer.produce(
            NEWS,
            line,
            key=key.encode(),
            headers=[*HEADERS, ("codec", codec.encode()), ("empty", None)],
            on_delivery=delivered,
        )
    assert producer.flush(30) == 0, "not every record was acknowledged"
    assert not errors, errors
    return produced


async def batch_codecs(bootstrap: str, seconds: float = 4.0) -> Counter[tuple[str, bool]]:
    """(codec, more than one record) of every record batch of argus.news, as fetched."""
    seen: Counter[tuple[str, bool]] = Counter()
    memory_records = fetcher.MemoryRecords

    def noting(data: bytes) -> Any:
        batches = MemoryRecords(data)
        while batches.has_next():
            b = batches.next_batch()
            seen[CODECS[b.compression_type], b.next_offset - b.base_offset > 1] += 1
        return memory_records(data)

    fetcher.MemoryRecords = noting  # type: ignore[assignment,misc]
    consumer = AIOKafkaConsumer(
        NEWS, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    try:
        await consumer.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=300)
    finally:
        await consumer.stop()
        fetcher.MemoryRecords = memory_records  # type: ignore[misc]
    return seen


def wait_indexed(
    settings: Any, endpoints: Any, produced: list[Produced], worker: Any, seconds: float
) -> int:
    deadline = time.monotonic() + seconds
    while (n := asyncio.run(count_indexed(settings, endpoints, produced))) < len(produced):
        assert worker.poll() is None, "the worker died"
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return n


def test_every_producer_and_codec_is_consumed(stack, start_worker) -> None:
    settings, endpoints = stack
    bootstrap = endpoints.kafka_bootstrap
    worker = start_worker()
    started = time.monotonic()
    produced: list[Produced] = []
    for n, codec in enumerate(CODECS.values()):
        rows = [news(1000 * (n + 1) + i) for i in range(PER_CODEC)]
        produced += confluent_produce(bootstrap, rows, codec)
    for n, codec in enumerate(("gzip", "snappy", "lz4", "zstd")):
        # `argus produce`, as the project's own producer writes
        lines = [json.dumps(news(10_000 + 1000 * n + i)).encode() for i in range(PER_CODEC)]
        produced += asyncio.run(
            produce_lines(
                bootstrap, "news", lines, progress=False, kafka_options={"compression_type": codec}
            )
        )
    total = PER_CODEC * 9
    assert len({p.record_id for p in produced}) == len(produced) == total

    # tansu keeps each batch as sent: every codec arrives compressed, many records a batch
    batches = asyncio.run(batch_codecs(bootstrap))
    assert {codec for (codec, several), _ in batches.items() if several} == set(CODECS.values())

    assert wait_indexed(settings, endpoints, produced, worker, 180) == total

    async def documents() -> int:
        es = make_client(settings, endpoints)
        try:
            await es.indices.refresh(index="argus-events-news")
            return int((await es.count(index="argus-events-news"))["count"])
        finally:
            await es.close()

    assert asyncio.run(documents()) == total  # each record once, nothing else
    letters = asyncio.run(read_topic(bootstrap, DLQ_TOPIC, seconds=2))
    assert letters == []
    print(f"{total} records in 9 producer/codec pairs indexed in {time.monotonic() - started:.1f}s")


HIDE_CRAMJAM = (
    'raise ImportError("cramjam is hidden from this worker by tests/integration/test_codecs.py")\n'
)


def test_a_batch_the_worker_cannot_decode_is_dead_lettered_and_the_worker_goes_on(
    stack, start_worker, tmp_path: Path
) -> None:
    """The failure as it was seen: cramjam missing, so aiokafka has no snappy, lz4 or zstd,
    and a zstd batch stopped the worker. Now its records are dead letters with the reason
    and the batch's bytes, and the records after it are indexed."""
    settings, endpoints = stack
    bootstrap = endpoints.kafka_bootstrap
    hidden = tmp_path / "no-cramjam"
    hidden.mkdir()
    (hidden / "cramjam.py").write_text(HIDE_CRAMJAM)
    path = os.pathsep.join(p for p in (str(hidden), os.environ.get("PYTHONPATH")) if p)
    port = free_port()
    worker = start_worker(PYTHONPATH=path, ARGUS_METRICS_PORT=str(port))

    zstd = confluent_produce(bootstrap, [news(100 + i) for i in range(24)], "zstd")
    later = confluent_produce(bootstrap, [news(200 + i) for i in range(24)], "gzip")

    async def dead_lettered() -> int:
        async with DeadLetterCounter(bootstrap, zstd) as dead:
            deadline = time.monotonic() + 120
            while (n := await dead.poll()) < len(zstd) and time.monotonic() < deadline:
                assert worker.poll() is None, "an undecodable batch must never stop the worker"
                await asyncio.sleep(0.5)
            return n

    assert asyncio.run(dead_lettered()) == len(zstd)
    assert wait_indexed(settings, endpoints, later, worker, 60) == len(later)
    assert asyncio.run(count_indexed(settings, endpoints, zstd)) == 0

    wanted = {(p.topic, p.partition, p.offset) for p in zstd}
    letters = [
        d
        for d in map(DeadLetter.model_validate_json, asyncio.run(read_topic(bootstrap, DLQ_TOPIC)))
        if (d.source_topic, d.partition, d.offset) in wanted
    ]
    assert {(d.source_topic, d.partition, d.offset) for d in letters} == wanted
    for d in letters:
        assert d.stage == "validation"
        assert "compressed with codec zstd could not be decoded" in d.reason, d.reason
        assert "Libraries for zstd compression codec not found" in d.reason, d.reason
    # The first letter of each batch holds the batch as fetched: what it held can be had back.
    firsts = {(d.partition, d.offset): d for d in letters if d.value_bytes}
    recovered = []
    for (_, offset), d in sorted(firsts.items()):
        batch = MemoryRecords(base64.b64decode(d.value_b64)).next_batch()
        assert batch.base_offset == offset
        recovered += [json.loads(r.value)["id"] for r in batch]
    assert sorted(recovered) == sorted(p.record_id for p in zstd)

    log = (settings.state_dir / "worker-0.log").read_text()
    assert "dead-lettering offsets" in log and "argus.news" in log
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        metrics = r.read().decode()
    batches = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('argus_undecodable_batches_total{topic="argus.news"}')
    ]
    assert batches and batches[0] >= len(firsts), metrics  # more if a batch was read again
