"""The topics no agent reads are produced in batches on the embedded broker too; their end
offsets are read to the end."""

from __future__ import annotations

import asyncio

import faust
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.contracts.connections import Endpoints
from streams.contracts.settings import Settings
from streams.contracts.topics import SCORED_TOPIC
from streams.publisher import Publisher, exact_end_offsets

pytestmark = pytest.mark.integration


def test_batched_messages_are_all_counted(stack: tuple[Settings, Endpoints]) -> None:
    settings, endpoints = stack
    topic = SCORED_TOPIC  # a stack of this test's own

    async def run() -> tuple[int, int]:
        publisher = Publisher(faust.App("unused"), settings, endpoints)
        try:
            sent = [await publisher.send(topic, b"k", f"m{i}".encode()) for i in range(300)]
            await asyncio.gather(*sent)
        finally:
            await publisher.close()
        consumer = AIOKafkaConsumer(bootstrap_servers=endpoints.kafka_bootstrap, group_id=None)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            reported = (await consumer.end_offsets([tp]))[tp]
            return reported, (await exact_end_offsets(consumer, [tp]))[tp]
        finally:
            await consumer.stop()

    reported, exact = asyncio.run(run())
    # One key, one partition: batched, so the embedded broker's own figure falls short.
    assert exact == 300
    assert reported <= exact
