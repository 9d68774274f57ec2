"""Builds the Faust app; nothing else. Agents attach in `streams.agents`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import faust

from streams.connections import Endpoints
from streams.kafka_security import faust_credentials
from streams.settings import Settings

log = logging.getLogger(__name__)


def embedded_broker_shim(endpoints: Endpoints) -> dict[str, Any]:
    """Faust settings the embedded tansu broker needs.

    tansu completes a group join only after session_timeout/2, so a short session
    makes a worker ready in ~3.5 s instead of ~30 s. tansu reports a partition's end
    offset as its last batch's base offset + 1, which Faust trusts to recover a table
    from its changelog: batches of one record make that figure exact.
    """
    if not endpoints.embedded:
        return {}
    return {
        "broker_session_timeout": 4.0,
        "broker_heartbeat_interval": 1.0,
        "producer_max_batch_size": 64,
    }


def seek_uncommitted_to_earliest() -> None:
    """Workaround for a Faust 0.15 / aiokafka bug that loses records around a rebalance.

    While a rebalance or a table restore pauses the flow, Faust drops records it has
    fetched and seeks back to the committed offsets. aiokafka's `seek_to_committed` leaves
    alone a partition with no commit (or a commit at 0), so the position stays past the
    dropped records and they are never read. Argus reads from the earliest offset when
    nothing is committed (consumer_auto_offset_reset), so seeking there is the same rule.
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


def warn_on_offset_gaps() -> None:
    """Say loudly when Faust commits over offsets it never read.

    Faust takes a jump in the offsets it reads as a gap (a compacted topic, transaction
    markers) and commits over it. On Argus's input topics that means skipped records: it
    happened once in the fault tests (docs/reliability.md), so the log must name the range.
    Behaviour is unchanged: the warning only adds the evidence.
    """
    from faust.transport.consumer import Consumer

    original = Consumer._add_gap
    if getattr(original, "argus_warns", False):
        return

    async def add_gap(self: Consumer, tp: Any, offset_from: int, offset_to: int) -> None:
        log.warning(
            "offsets %d..%d of %s[%d] were never read; Faust will commit over them as a gap",
            offset_from,
            offset_to - 1,
            tp.topic,
            tp.partition,
            extra={"topic": tp.topic, "partition": tp.partition, "offset": offset_from},
        )
        await original(self, tp, offset_from, offset_to)

    add_gap.argus_warns = True  # type: ignore[attr-defined]
    Consumer._add_gap = add_gap  # type: ignore[method-assign]


def create_app(settings: Settings, endpoints: Endpoints) -> faust.App:
    seek_uncommitted_to_earliest()
    warn_on_offset_gaps()
    return faust.App(
        settings.app_id,
        broker=endpoints.faust_broker,
        store="memory://",
        # tansu has no idempotent producer, so no exactly_once; duplicates are made
        # harmless by deterministic document ids instead.
        processing_guarantee="at_least_once",
        topic_partitions=settings.partitions,
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        stream_buffer_maxsize=max(4096, settings.batch_max_size * 4),
        broker_credentials=faust_credentials(settings),
        **embedded_broker_shim(endpoints),
    )
