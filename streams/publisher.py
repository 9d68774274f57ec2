"""What the worker produces to its own topics (scored events, rule hits, dead letters,
alerts) goes through here.

On the embedded broker Faust's producer sends one record per batch (streams/app.py): tansu
reports a partition's end offset as its last batch's base offset + 1, which Faust trusts to
recover a table from its changelog; an agent that took over a batched argus.rule-hits
partition once logged a hole there (tests/integration/test_faults.py's two-worker kill, which
then failed; it also failed once without batching, so the cause is not settled). The topics
Faust consumes (rule hits, alerts) keep one-record batches to stay on proven ground, and only
those no agent reads (argus.scored, argus.dlq) get a producer of their own that batches; their
end offsets are read by `exact_end_offsets`. On Apache Kafka, Faust's producer batches every
topic and serves here for all of them.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.contracts.connections import Endpoints
from streams.contracts.schemas import DeadLetter, RuleHit
from streams.contracts.settings import Settings
from streams.contracts.topics import DLQ_TOPIC, RULE_HITS_TOPIC, SCORED_TOPIC
from streams.kafka_security import aiokafka_kwargs
from streams.rules.hits import hit_messages
from streams.writing import Written

# Written in batches on the embedded broker too: no Faust agent consumes them.
BATCHED_ON_EMBEDDED = frozenset({SCORED_TOPIC, DLQ_TOPIC})
READ_TO_END_SECONDS = 10.0  # a broker that gives back nothing for this long is left at its word


class Publisher:
    def __init__(self, app: faust.App, settings: Settings, endpoints: Endpoints) -> None:
        self._app = app
        self._own: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self._options = aiokafka_kwargs(settings) | {
            "bootstrap_servers": endpoints.kafka_bootstrap,
            "max_batch_size": settings.kafka_batch_bytes,
        }
        self._embedded = endpoints.embedded

    async def send(self, topic: str, key: bytes | None, value: bytes) -> Awaitable[object]:
        """Queue one message; the awaitable completes when the broker has it (acks=all)."""
        if not self._embedded or topic not in BATCHED_ON_EMBEDDED:
            return await self._app.producer.send(topic, key, value, None, None, None)
        return await (await self._producer()).send(topic, value, key=key)

    async def publish_batch(
        self,
        written: Written,
        hits: dict[bytes, list[RuleHit]],
        dead_letters: list[DeadLetter],
    ) -> None:
        """A written batch's messages, in this order: scored events (the bytes indexed),
        rule hits (one message per key), dead letters. All are queued before any is
        awaited; returns once Kafka has every one."""
        pending = [
            *[
                await self.send(SCORED_TOPIC, e.doc_id.encode(), doc)
                for e, doc in zip(written.events, written.documents, strict=True)
            ],
            *[await self.send(RULE_HITS_TOPIC, key, value) for key, value in hit_messages(hits)],
        ]
        for d in dead_letters:
            key = base64.b64decode(d.key_b64) if d.key_b64 else None
            pending.append(await self.send(DLQ_TOPIC, key, d.model_dump_json().encode()))
        for fut in pending:
            await fut

    async def _producer(self) -> AIOKafkaProducer:
        async with self._starting:  # the first batches of several agents arrive together
            if self._own is None:
                # No linger: `publish_batch` queues a batch's messages without yielding, so
                # they leave together once it awaits them. Against tansu, 62 messages of 2.4 KB
                # over 12 partitions: 28-30 µs of this producer's CPU per message, the broker's
                # 17, against 50-54 and 34-37 with 16 KB batches and 5 ms linger.
                producer = AIOKafkaProducer(acks="all", **self._options)
                await producer.start()
                self._own = producer
        return self._own

    async def close(self) -> None:
        if self._own is not None:
            await self._own.stop()
            self._own = None


async def exact_end_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """Each partition's end offset, read to the end rather than asked: the embedded broker
    reports the last batch's base offset + 1 (../shared/STACK.md). `consumer`: started, of
    no group or one it does not join; its assignment is replaced."""
    reported = await consumer.end_offsets(partitions)
    ends = dict(reported)
    tail = [tp for tp in partitions if reported[tp] > 0]
    if not tail:
        return ends
    consumer.assign(tail)
    for tp in tail:
        consumer.seek(tp, reported[tp] - 1)  # where the last batch starts
    # Each partition gives back that batch at least; then a fetch with nothing new ends it.
    unread = set(tail)
    deadline = asyncio.get_running_loop().time() + READ_TO_END_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        found = await consumer.getmany(*tail, timeout_ms=200)
        for tp, records in found.items():
            ends[tp] = max(ends[tp], records[-1].offset + 1)
            unread.discard(tp)
        if not found and not unread:
            break
    return ends
