"""Faults injected on the embedded stack (the reliability issue). Each bounded in time."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from indexer.client import make_client
from streams.connections import StackInfo, read_stack, stack_file
from streams.demo import count_indexed
from streams.produce import produce_lines
from streams.settings import Settings
from streams.stack import _spawn, _stop_pid, _wait_port, packaged_binary
from tests.integration.test_pipeline import news

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


def test_search_server_outage_loses_nothing(stack, start_worker) -> None:
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

    # The fresh server is empty: what was written before the outage went with the old one.
    # Every record that arrived around the outage was held back, retried and written once.
    assert wait_indexed(settings, endpoints, produced, worker, 120) == len(produced)

    async def check() -> tuple[int, dict]:
        es = make_client(settings, endpoints)
        try:
            count = (await es.count(index="argus-events-news"))["count"]
            return int(count), await es.indices.get_mapping(index="argus-events-news")
        finally:
            await es.close()

    count, mapping = asyncio.run(check())
    assert count == len(produced)  # no duplicate documents
    props = mapping["argus-events-news"]["mappings"]["properties"]
    assert props["@timestamp"]["type"] == "date"  # templates reinstalled before the first write
    assert "Elasticsearch unavailable" in (settings.state_dir / "worker-0.log").read_text()


def test_one_of_two_workers_killed_under_load(stack, start_worker) -> None:
    """Two workers share the partitions; one is `kill -9`ed mid-stream; the other takes over."""
    settings, endpoints = stack
    first = start_worker(ARGUS_BATCH_MAX_SIZE="5", ARGUS_BATCH_MAX_WAIT_MS="50")
    second = start_worker(ARGUS_BATCH_MAX_SIZE="5", ARGUS_BATCH_MAX_WAIT_MS="50")
    lines = [json.dumps(news(i)).encode() for i in range(2000)]
    produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", lines, progress=False))
    deadline = time.monotonic() + 90
    indexed = 0
    while time.monotonic() < deadline and indexed < 200:
        indexed = asyncio.run(count_indexed(settings, endpoints, produced))
        time.sleep(0.2)
    assert 0 < indexed < len(produced), f"not killed mid-stream ({indexed} indexed)"
    first.kill()
    first.wait()

    assert wait_indexed(settings, endpoints, produced, second, 180) == len(produced)

    async def total() -> int:
        es = make_client(settings, endpoints)
        try:
            return int((await es.count(index="argus-events-news"))["count"])
        finally:
            await es.close()

    assert asyncio.run(total()) == len(produced)  # exactly once in the index


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_burst_drains_with_bounded_memory(stack, start_worker) -> None:
    """5,000 records at once, far faster than one worker scores: the lag drains, memory stays flat."""
    settings, endpoints = stack
    worker = start_worker(ARGUS_BATCH_MAX_SIZE="32")
    warm = [json.dumps(news(i)).encode() for i in range(3)]
    warmup = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", warm, progress=False))
    assert wait_indexed(settings, endpoints, warmup, worker, 60) == 3
    idle_rss = rss_mb(worker.pid)

    burst = [json.dumps(news(i)).encode() for i in range(10, 5010)]
    produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", burst, progress=False))
    peak, deadline, indexed = idle_rss, time.monotonic() + 240, 0
    while time.monotonic() < deadline and indexed < len(produced):
        assert worker.poll() is None
        peak = max(peak, rss_mb(worker.pid))
        indexed = asyncio.run(count_indexed(settings, endpoints, produced))
        time.sleep(0.5)
    assert indexed == len(produced)
    # The stream buffer (stream_buffer_maxsize) bounds what waits in memory.
    assert peak - idle_rss < 400, f"RSS grew from {idle_rss:.0f} to {peak:.0f} MB"
    print(f"burst: {len(produced)} records, RSS {idle_rss:.0f} -> peak {peak:.0f} MB")
