"""Faults injected on the embedded stack (the reliability issue). Each bounded in time."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from indexer.alert_store import list_alerts
from indexer.client import make_client
from streams.contracts.connections import Endpoints, StackInfo, read_stack, stack_file
from streams.contracts.schemas import Alert
from streams.contracts.settings import Settings
from streams.demo import DeadLetterCounter, count_indexed, group_observer, wait_for_alerting
from streams.produce import Produced, produce_lines
from streams.stack import _spawn, _stop_pid, _wait_port, packaged_binary
from tests.integration.test_pipeline import news
from tests.reliability_report import FaultRecorder

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 20


def stop_elasticsearch(settings: Settings) -> None:
    info = read_stack(settings)
    assert info is not None
    _stop_pid(info.pids["elasticsearch"])


def start_fresh_elasticsearch(settings: Settings) -> None:
    """A new, empty search server on the old port, as after a crash of a memory-only node."""
    info = read_stack(settings)
    assert info is not None
    port = int(info.elasticsearch.rsplit(":", 1)[1])
    binary = packaged_binary("osmem_server", "osmem-server")
    proc = _spawn(
        [str(binary), "-addr", f"127.0.0.1:{port}", "-no-stdin-watch"],
        settings.state_dir / "elasticsearch.log",
    )
    _wait_port(port, proc, "osmem-server", 20)
    pids = {**info.pids, "elasticsearch": proc.pid}
    updated = StackInfo(kafka=info.kafka, elasticsearch=info.elasticsearch, pids=pids)
    stack_file(settings).write_text(updated.model_dump_json())


def wait_indexed(settings, endpoints, produced, worker, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    indexed = 0
    while time.monotonic() < deadline and indexed < len(produced):
        assert worker.poll() is None, "the worker died"
        indexed = asyncio.run(count_indexed(settings, endpoints, produced))
        time.sleep(0.3)
    return indexed


def documents(settings: Settings, endpoints: Endpoints) -> int:
    """Every news document in the index, duplicates included (count_indexed counts ids)."""

    async def count() -> int:
        es = make_client(settings, endpoints)
        try:
            return int((await es.count(index="argus-events-news"))["count"])
        finally:
            await es.close()

    return asyncio.run(count())


def unindexed(settings: Settings, endpoints: Endpoints, produced: list[Produced]) -> str:
    """Which of `produced` are not in the index, and where the group's commits stand: what
    tells a lost record (committed past) from a late one."""

    async def find() -> str:
        es = make_client(settings, endpoints)
        try:
            ids = [f"news:{p.record_id}" for p in produced]
            docs = (await es.mget(index="argus-events-news", ids=ids))["docs"]
        finally:
            await es.close()
        missing: dict[int, list[int]] = {}
        for p, doc in zip(produced, docs, strict=True):
            if not doc.get("found"):
                missing.setdefault(p.partition, []).append(p.offset)
        consumer = group_observer(settings, endpoints)
        await consumer.start()
        try:
            commits = {
                part: await consumer.committed(TopicPartition(produced[0].topic, part))
                for part in sorted({p.partition for p in produced})
            }
        finally:
            await consumer.stop()
        lost = {part: f"{min(o)}..{max(o)} ({len(o)})" for part, o in sorted(missing.items())}
        return f"not indexed, by partition: {lost}; the group's commits: {commits}"

    return asyncio.run(find())


def dead_letters(endpoints: Endpoints, produced: list[Produced], seconds: float = 3.0) -> int:
    """How many of `produced` are on the DLQ (read from its start for a few seconds)."""

    async def count() -> int:
        async with DeadLetterCounter(endpoints.kafka_bootstrap, produced) as dead:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await dead.poll()
            return len(dead.seen)

    return asyncio.run(count())


def test_search_server_outage_loses_nothing(
    stack, start_worker, fault_report: FaultRecorder
) -> None:
    settings, endpoints = stack
    worker = start_worker(ARGUS_BATCH_MAX_SIZE="10")

    def produce(ids: range) -> list:
        lines = [json.dumps(news(i)).encode() for i in ids]
        return asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", lines, progress=False))

    warmup = produce(range(5))
    assert wait_indexed(settings, endpoints, warmup, worker, 60) == 5

    stop_elasticsearch(settings)
    down_at = time.monotonic()
    produced = produce(range(100, 300))  # records keep arriving while the server is away
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    assert worker.poll() is None, "the worker must ride out the outage"
    start_fresh_elasticsearch(settings)
    back_at = time.monotonic()

    # The fresh server is empty: what was written before the outage went with the old one.
    # Every record that arrived around the outage was held back, retried and written once.
    indexed = wait_indexed(settings, endpoints, produced, worker, 120)
    recovery = time.monotonic() - back_at
    count = documents(settings, endpoints)
    fault_report.add_indexing(
        fault="search server down",
        injected=f"osmem stopped for {OUTAGE_SECONDS} s while {len(produced)} records arrive, "
        "then a fresh, empty server on the same port",
        records=len(produced),
        indexed=indexed,
        documents=count,
        dead_lettered=dead_letters(endpoints, produced),
        recovery_s=recovery,
        extra={"recovery": "new server listening → every record indexed"},
    )
    assert indexed == len(produced)
    assert count == len(produced)  # no duplicate documents

    async def mapping() -> dict:
        es = make_client(settings, endpoints)
        try:
            return dict(await es.indices.get_mapping(index="argus-events-news"))
        finally:
            await es.close()

    props = asyncio.run(mapping())["argus-events-news"]["mappings"]["properties"]
    assert props["@timestamp"]["type"] == "date"  # templates reinstalled before the first write
    assert "Elasticsearch unavailable" in (settings.state_dir / "worker-0.log").read_text()


# The publisher-volume rule's keys straddle the kill: every SLOTS-th record of the stream
# belongs to one publisher. HOT publishers reach COUNT records and must alert exactly once,
# with count == COUNT (their state moved to the surviving worker); COLD ones stop one short,
# so a record counted twice would alert.
RECORDS, COUNT = 2000, 40
SLOTS, HOT, COLD = RECORDS // COUNT, 4, 4
VOLUME_RULE = f"""
name: publisher-volume
type: frequency
filter: {{record.source: {{prefix: [hot-, cold-]}}}}
group_by: record.source
count: {COUNT}
window: 1h
"""


def publisher(i: int) -> str:
    slot = i % SLOTS
    if slot < HOT:
        return f"hot-{slot}.example"
    if slot < HOT + COLD and i < RECORDS - SLOTS:  # their last record goes elsewhere
        return f"cold-{slot}.example"
    return "example.com"


def test_one_of_two_workers_killed_under_load(
    stack, start_worker, rules_dir: Path, fault_report: FaultRecorder
) -> None:
    """Two workers share the partitions; one is `kill -9`ed mid-stream; the other takes over
    its partitions, the rule state (Faust table) of its keys included."""
    settings, endpoints = stack
    for old in rules_dir.glob("*.yaml"):  # only the rule whose alerts are known in advance
        old.unlink()
    (rules_dir / "publisher-volume.yaml").write_text(VOLUME_RULE)
    first = start_worker(ARGUS_BATCH_MAX_SIZE="5", ARGUS_BATCH_MAX_WAIT_MS="50")
    second = start_worker(ARGUS_BATCH_MAX_SIZE="5", ARGUS_BATCH_MAX_WAIT_MS="50")
    lines = [json.dumps({**news(i), "source": publisher(i)}).encode() for i in range(RECORDS)]
    produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", lines, progress=False))
    hot = [p for i, p in enumerate(produced) if publisher(i).startswith("hot-")]
    deadline = time.monotonic() + 90
    at_kill = 0
    while time.monotonic() < deadline and at_kill < 200:
        at_kill = asyncio.run(count_indexed(settings, endpoints, produced))
        time.sleep(0.2)
    assert 0 < at_kill < len(produced), f"not killed mid-stream ({at_kill} indexed)"
    hot_before = asyncio.run(count_indexed(settings, endpoints, hot))
    first.kill()
    first.wait()
    killed_at = time.monotonic()
    assert 0 < hot_before < len(hot), "the alerting publishers' records must straddle the kill"

    indexed = wait_indexed(settings, endpoints, produced, second, 180)
    recovery = time.monotonic() - killed_at
    alerting = asyncio.run(wait_for_alerting(settings, endpoints, produced, time.monotonic() + 60))
    alerting_s = time.monotonic() - killed_at
    count = documents(settings, endpoints)

    async def stored() -> list[Alert]:
        es = make_client(settings, endpoints)
        try:
            return await list_alerts(es, size=100)
        finally:
            await es.close()

    alerts = asyncio.run(stored())
    fault_report.add_indexing(
        fault="one of two workers killed",
        injected=f"two workers share the 4 partitions; `kill -9` of one after {at_kill:,} of "
        f"{len(produced):,} records were indexed",
        records=len(produced),
        indexed=indexed,
        documents=count,
        dead_lettered=dead_letters(endpoints, produced),
        recovery_s=recovery,
        extra={
            "recovery": "kill → every record indexed",
            "alerts": f"{len(alerts)} (expected {HOT}, one per publisher reaching {COUNT} "
            f"records; {hot_before} of their {len(hot)} records indexed before the kill)",
            "alert stages caught up": f"{alerting_s:.1f} s after the kill"
            if alerting
            else "not within 60 s",
        },
    )
    assert indexed == len(produced), unindexed(settings, endpoints, produced)
    assert count == len(produced)  # exactly once in the index
    assert alerting, "the rules agent did not catch up"
    fired = sorted((a.rule, a.group["record.source"], a.figures["count"]) for a in alerts)
    # Alert ids are deterministic: a replayed alert overwrites nothing, a doubled count shows
    # as a COLD publisher alerting; state lost in the rebalance, as a HOT one missing.
    assert fired == [("publisher-volume", f"hot-{k}.example", float(COUNT)) for k in range(HOT)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_burst_drains_with_bounded_memory(stack, start_worker, fault_report: FaultRecorder) -> None:
    """5,000 records at once, far faster than one worker scores: the lag drains, memory stays flat."""
    settings, endpoints = stack
    worker = start_worker(ARGUS_BATCH_MAX_SIZE="32")
    warm = [json.dumps(news(i)).encode() for i in range(3)]
    warmup = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", warm, progress=False))
    assert wait_indexed(settings, endpoints, warmup, worker, 60) == 3
    idle_rss = rss_mb(worker.pid)

    burst = [json.dumps(news(i)).encode() for i in range(10, 5010)]
    started = time.monotonic()
    produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", burst, progress=False))
    produced_at = time.monotonic()
    peak, deadline, indexed = idle_rss, produced_at + 240, 0
    while time.monotonic() < deadline and indexed < len(produced):
        assert worker.poll() is None
        peak = max(peak, rss_mb(worker.pid))
        indexed = asyncio.run(count_indexed(settings, endpoints, produced))
        time.sleep(0.5)
    recovery = time.monotonic() - produced_at
    count = documents(settings, endpoints) - len(warmup)
    fault_report.add_indexing(
        fault="burst",
        injected=f"{len(produced):,} records produced at once "
        f"({produced_at - started:.1f} s) to one worker",
        records=len(produced),
        indexed=indexed,
        documents=count,
        dead_lettered=dead_letters(endpoints, produced),
        recovery_s=recovery,
        extra={
            "recovery": "burst acknowledged → lag drained, every record indexed",
            "worker RSS": f"{idle_rss:.0f} → peak {peak:.0f} MB",
        },
    )
    assert indexed == len(produced)
    assert count == len(produced)  # no duplicate documents
    # The stream buffer (stream_buffer_maxsize) bounds what waits in memory.
    assert peak - idle_rss < 400, f"RSS grew from {idle_rss:.0f} to {peak:.0f} MB"
