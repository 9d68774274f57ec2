"""End to end: records produced to Kafka → a worker → documents acknowledged in Elasticsearch.

Each run gets a fresh embedded stack and one real worker process:

1. warm-up: a few records, until indexed (model loading is not throughput);
2. throughput: `n` records produced at once, timed from the first send to the last document
   counted in Elasticsearch;
3. latency: records sent at half that rate for a while; a record's latency is the Kafka
   timestamp of its scored event on `argus.scored` (published right after Elasticsearch
   acknowledged the document) minus the time it was sent.

`ARGUS_SCORING=noop` gives the same run without models: the pipeline's own ceiling.

Where the time goes: the worker's own metrics (/metrics), read before and after the
throughput phase, say how long its model thread was busy and with what, so that the
end-to-end rate splits into "the model was idle" and "the model was slower than alone".
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from indexer.actions import EVENTS_INDEX_PREFIX, event_doc_id
from indexer.client import make_client
from streams.contracts.connections import Endpoints, resolve_endpoints
from streams.contracts.schemas import SCHEMAS, Source
from streams.contracts.settings import Settings
from streams.contracts.topics import INPUT_TOPICS, SCORED_TOPIC
from streams.demo import REPO, SAMPLES, start_worker, stop_worker
from streams.publisher import exact_end_offsets
from streams.stack import free_port, stack_down, stack_up

WARM_UP = 30
WORKER_LOG = "bench-worker.log"
Record = tuple[Source, str, bytes]  # source, document id, value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]  # (name, labels) -> value


@dataclass
class EndToEnd:
    records: int
    eps: float
    latency_records: int
    latency_rate_eps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    worker_peak_rss_mb: float | None
    worker_gpu_mb: float | None
    profile: dict[str, float]


def records(n: int, tag: str) -> list[Record]:
    """`n` sample records, sources interleaved, ids made unique with `tag`."""
    per_source: list[list[Record]] = []
    for source in ("social", "news", "patents"):
        rows = []
        for line in (SAMPLES / f"{source}.jsonl").read_text().splitlines():
            data = json.loads(line)
            id_field = "publication_number" if source == "patents" else "id"
            rows.append((source, data, id_field))
        per_source.append(rows)  # type: ignore[arg-type]
    mixed = [r for group in zip(*per_source, strict=False) for r in group]
    out: list[Record] = []
    for i in range(n):
        source, data, id_field = mixed[i % len(mixed)]
        record_id = f"{data[id_field]}-{tag}{i}"
        value = json.dumps({**data, id_field: record_id}).encode()
        SCHEMAS[source].model_validate_json(value)  # type: ignore[index]
        out.append((source, event_doc_id(source, record_id), value))  # type: ignore[arg-type]
    return out


async def produce(bootstrap: str, batch: list[Record], rate: float | None = None) -> dict[str, int]:
    """Send `batch` (at `rate` records/s, or at once); doc id -> send time in epoch ms."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    sent: dict[str, int] = {}
    try:
        started = time.monotonic()
        pending = []
        for i, (source, doc_id, value) in enumerate(batch):
            if rate:
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            now_ms = int(time.time() * 1000)
            key = doc_id.split(":", 1)[1].encode()
            pending.append(
                await producer.send(INPUT_TOPICS[source], value, key=key, timestamp_ms=now_ms)
            )
            sent[doc_id] = now_ms
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def indexed_count(settings: Settings, endpoints: Endpoints) -> int:
    es = make_client(settings, endpoints)
    try:
        resp = await es.count(
            index=f"{EVENTS_INDEX_PREFIX}*", allow_no_indices=True, ignore_unavailable=True
        )
        return int(resp["count"])
    finally:
        await es.close()


async def wait_indexed(
    settings: Settings,
    endpoints: Endpoints,
    expected: int,
    within: float,
    worker: subprocess.Popen[bytes],
) -> None:
    """Until `expected` documents are in the index, for at most `within` seconds."""
    started = time.monotonic()
    while await indexed_count(settings, endpoints) < expected:
        if time.monotonic() - started > within:
            raise TimeoutError(f"fewer than {expected} documents indexed after {within:.0f} s")
        if worker.poll() is not None:
            log = (settings.state_dir / WORKER_LOG).read_text(errors="replace").splitlines()
            raise RuntimeError("the bench worker exited: " + " | ".join(log[-3:]))
        await asyncio.sleep(0.25)  # counting loads the search server the worker writes to


async def scored_at(bootstrap: str, wanted: set[str], within: float) -> dict[str, int]:
    """Doc id -> Kafka timestamp (ms) of its scored event, for the wanted doc ids."""
    consumer = AIOKafkaConsumer(
        SCORED_TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: dict[str, int] = {}
    try:
        deadline = time.monotonic() + within
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for msg in batch:
                    doc_id = msg.key.decode() if msg.key else ""
                    if doc_id in wanted:
                        found[doc_id] = msg.timestamp
    finally:
        await consumer.stop()
    return found


async def kafka_messages(bootstrap: str) -> int:
    """Messages on every topic of the broker (the sum of end offsets, read to the end: the
    embedded broker's own figure is short of it): read before and after a run, what the
    worker produced per event (scored, rule hits, alerts, changelogs)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        topics = await consumer.topics()
        parts = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        return sum((await exact_end_offsets(consumer, parts)).values()) if parts else 0
    finally:
        await consumer.stop()


async def bytes_per_document(settings: Settings, endpoints: Endpoints, sample: int = 100) -> float:
    """Mean JSON size of an event document's `_source`, over a sample of the index: what each
    event costs the search server to parse and store."""
    es = make_client(settings, endpoints)
    try:
        found = await es.search(index=f"{EVENTS_INDEX_PREFIX}*", size=sample)
    finally:
        await es.close()
    docs = [json.dumps(h["_source"], separators=(",", ":")) for h in found["hits"]["hits"]]
    return sum(len(d.encode()) for d in docs) / max(1, len(docs))


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a live process (Linux): its peak resident set."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def gpu_memory_mb(pid: int) -> float | None:
    """GPU memory a process holds, as nvidia-smi reports it: torch's caching allocator keeps
    what it reserved, so at the end of a run this is the peak plus the CUDA context."""
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        app, _, used = line.partition(",")
        if app.strip() == str(pid):
            return float(used)
    return None


def scrape(port: int) -> Samples:
    """The worker's metric samples."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def profile(before: Samples, after: Samples, seconds: float, events: int) -> dict[str, float]:
    """Where the throughput phase's `seconds` went, from the worker's metrics.

    `model_busy`: the model thread's share of the wall time; `model_ms_per_event`: its time
    per event (compare with 1000 / raw events/s); `<scorer>_ms_per_event` for each part;
    `bulk_ms_per_event`: Elasticsearch bulk time (awaited, overlapping the model);
    `batch_records` and `pass_tokens`: the mean micro-batch and forward-pass sizes.
    """
    # Here, not at the top: the bench's own process needs no torch until it reports.
    from models.engine import MODEL_THREAD_SCORERS

    def total(name: str, **labels: str) -> float:
        def summed(samples: Samples) -> float:
            return sum(
                v
                for (n, lab), v in samples.items()
                if n == name and all((k, x) in lab for k, x in labels.items())
            )

        return summed(after) - summed(before)

    per_scorer = {
        s: total("argus_scorer_seconds_sum", scorer=s) for s in (*MODEL_THREAD_SCORERS, "tokenize")
    }
    model = sum(per_scorer[s] for s in MODEL_THREAD_SCORERS)
    out = {
        "model_busy": model / seconds,
        "model_ms_per_event": 1000 * model / events,
        **{f"{s}_ms_per_event": 1000 * v / events for s, v in per_scorer.items()},
        "bulk_ms_per_event": 1000 * total("argus_bulk_seconds_sum") / events,
        "batch_records": events / max(1.0, total("argus_batch_records_count")),
        "pass_tokens": total("argus_batch_tokens_sum")
        / max(1.0, total("argus_batch_tokens_count")),
    }
    return {k: round(v, 3 if k == "model_busy" else 1) for k, v in out.items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_event(
    before: dict[str, float], after: dict[str, float], events: int
) -> dict[str, float]:
    """CPU milliseconds per event of each process: what shares the cores with the model."""
    return {
        f"{name}_cpu_ms_per_event": 1000 * (after[name] - before[name]) / events for name in after
    }


def run(
    worker_env: dict[str, str], n: int, latency_seconds: float, model_timeout: float = 600
) -> EndToEnd:
    with tempfile.TemporaryDirectory(prefix="argus-bench-") as tmp:
        settings = Settings(state_dir=Path(tmp))
        stack = stack_up(settings)
        worker = None
        try:
            endpoints = resolve_endpoints(settings)
            metrics_port = free_port()
            env = {
                "ARGUS_STATE_DIR": str(settings.state_dir),
                "ARGUS_PORTFOLIO_PATH": str(SAMPLES / "portfolio.jsonl"),
                "ARGUS_RULES_DIR": str(REPO / "rules"),
                "ARGUS_WATCHLIST_PATH": str(REPO / "watchlist.yaml"),
                "ARGUS_METRICS_PORT": str(metrics_port),
                **worker_env,
            }
            worker = start_worker(settings, env, WORKER_LOG)
            bootstrap = endpoints.kafka_bootstrap

            async def measure() -> EndToEnd:
                await produce(bootstrap, records(WARM_UP, "w"))
                await wait_indexed(settings, endpoints, WARM_UP, model_timeout, worker)
                pids = {
                    "worker": worker.pid,
                    "kafka": stack.pids["kafka"],
                    "search": stack.pids["elasticsearch"],
                    "bench": os.getpid(),
                }
                cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                messages_before = await kafka_messages(bootstrap)
                before = await asyncio.to_thread(scrape, metrics_port)
                started = time.monotonic()
                await produce(bootstrap, records(n, "t"))
                await wait_indexed(settings, endpoints, WARM_UP + n, model_timeout, worker)
                seconds = time.monotonic() - started
                cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
                after = await asyncio.to_thread(scrape, metrics_port)
                where = profile(before, after, seconds, n)
                where |= {
                    k: round(v, 1) for k, v in cpu_per_event(cpu_before, cpu_after, n).items()
                }
                # Beyond the n input records; read when the last document is indexed, so a
                # rule hit or alert still in flight then is not counted.
                derived = await kafka_messages(bootstrap) - messages_before - n
                where["kafka_messages_per_event"] = round(derived / n, 2)
                where["bytes_per_document"] = round(
                    await bytes_per_document(settings, endpoints), 0
                )
                eps = n / seconds
                rate = eps / 2
                batch = records(max(20, int(rate * latency_seconds)), "l")
                sent = await produce(bootstrap, batch, rate)
                done = await scored_at(bootstrap, set(sent), within=latency_seconds + 60)
                lat = sorted(float(done[d] - sent[d]) for d in sent if d in done)
                return EndToEnd(
                    records=n,
                    eps=round(eps, 1),
                    latency_records=len(lat),
                    latency_rate_eps=round(rate, 1),
                    p50_ms=percentile(lat, 50),
                    p95_ms=percentile(lat, 95),
                    p99_ms=percentile(lat, 99),
                    worker_peak_rss_mb=peak_rss_mb(worker.pid),
                    worker_gpu_mb=gpu_memory_mb(worker.pid)
                    if worker_env.get("ARGUS_DEVICE") == "cuda"
                    else None,
                    profile=where,
                )

            return asyncio.run(measure())
        finally:
            if worker is not None:
                stop_worker(worker)
            stack_down(settings)
