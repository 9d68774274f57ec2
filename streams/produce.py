"""`argus produce`: JSONL lines -> Kafka records, key = the record's id.

Lines are sent as they are, byte for byte (malformed ones too: that is how the
dead-letter path is exercised); only the key is read from the JSON when it parses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from streams.contracts.schemas import SCHEMAS, Source
from streams.contracts.topics import INPUT_TOPICS
from streams.progress import Progress

ID_FIELDS = ("id", "publication_number")


@dataclass(frozen=True, slots=True)
class Produced:
    topic: str
    partition: int
    offset: int
    record_id: str | None


def record_key(line: bytes) -> str | None:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    for f in ID_FIELDS:
        if isinstance(data.get(f), str) and data[f].strip():
            return data[f].strip()
    return None


def read_lines(paths: Iterable[Path]) -> list[bytes]:
    lines: list[bytes] = []
    for p in paths:
        lines.extend(ln for ln in p.read_bytes().splitlines() if ln.strip())
    return lines


async def produce_lines(
    bootstrap: str,
    source: Source,
    lines: list[bytes],
    progress: bool = True,
    kafka_options: dict[str, Any] | None = None,
) -> list[Produced]:
    """`kafka_options`: TLS/SASL keyword arguments (`streams.kafka_security.aiokafka_kwargs`)."""
    assert source in SCHEMAS
    topic = INPUT_TOPICS[source]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, **(kafka_options or {})
    )
    await producer.start()
    out: list[Produced] = []
    try:
        futures = []
        for line in lines:
            key = record_key(line)
            fut = await producer.send(topic, line, key=key.encode() if key else None)
            futures.append((fut, key))
        shown = Progress()
        for n, (fut, key) in enumerate(futures, 1):
            md = await fut
            out.append(Produced(md.topic, md.partition, md.offset, key))
            if progress:
                shown.update(f"{topic}: {n}/{len(futures)} acknowledged", final=n == len(futures))
    finally:
        await producer.stop()
    return out
