"""The poison corpus through Kafka and a real worker: every record gets its documented answer."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiokafka import AIOKafkaProducer

from streams.contracts.topics import INPUT_TOPICS
from streams.demo import DeadLetterCounter, count_indexed
from streams.produce import Produced, record_key
from tests.integration.test_pipeline import news
from tests.poison import corpus
from tests.reliability_report import FaultRecorder

pytestmark = pytest.mark.integration


async def produce_cases(bootstrap: str) -> tuple[list[tuple[object, Produced]], list[Produced]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=8 << 20)
    await producer.start()
    cases, valid = [], []
    try:
        for i, case in enumerate(corpus()):
            md = await producer.send_and_wait(INPUT_TOPICS[case.source], case.value, key=case.key)
            cases.append(
                (case, Produced(md.topic, md.partition, md.offset, record_key(case.value)))
            )
            good = json.dumps(news(5000 + i)).encode()  # a valid neighbour for every bad record
            md = await producer.send_and_wait(INPUT_TOPICS["news"], good)
            valid.append(Produced(md.topic, md.partition, md.offset, f"news-{5000 + i:05d}"))
    finally:
        await producer.stop()
    return cases, valid


def test_poison_records(stack, start_worker, fault_report: FaultRecorder) -> None:
    settings, endpoints = stack
    worker = start_worker(ARGUS_BATCH_MAX_SIZE="8")
    cases, valid = asyncio.run(produce_cases(endpoints.kafka_bootstrap))
    to_dlq = [p for c, p in cases if c.expect == "dlq"]
    accepted = [p for c, p in cases if c.expect == "accepted"]
    accepted_ids = {p.record_id for p in accepted}

    async def settle() -> tuple[int, int, dict]:
        async with DeadLetterCounter(endpoints.kafka_bootstrap, to_dlq) as dead:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                assert worker.poll() is None, "a poison record must never stop the worker"
                n_dlq = await dead.poll()
                n_ok = await count_indexed(settings, endpoints, valid + accepted)
                if n_dlq == len(to_dlq) and n_ok == len(valid) + len(accepted_ids):
                    break
                await asyncio.sleep(0.5)
            return n_dlq, n_ok, {pos: True for pos in dead.seen}

    n_dlq, n_ok, _ = asyncio.run(settle())
    fault_report.add(
        fault="poison records",
        injected=f"the {len(cases)} cases of `tests/poison.py`, each next to a valid record",
        records=len(cases) + len(valid),
        lost=len(to_dlq) - n_dlq + len(valid) + len(accepted_ids) - n_ok,
        duplicated=None,
        dead_lettered=n_dlq,
        recovery_s=None,  # handled inline: the worker never stops
        extra={"accepted after normalisation": len(accepted_ids)},
    )
    assert n_dlq == len(to_dlq)  # every bad record dead-lettered...
    assert n_ok == len(valid) + len(accepted_ids)  # ...and every good neighbour indexed
