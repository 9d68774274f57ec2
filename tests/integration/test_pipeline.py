"""A real worker against the embedded Kafka and search servers."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from indexer.client import make_client
from indexer.portfolio_index import put_items
from models.portfolio import PortfolioItem
from streams.contracts.schemas import DeadLetter
from streams.contracts.topics import ALERTS_TOPIC, DLQ_TOPIC
from streams.demo import count_indexed, count_terms, replay_and_wait, wait_for_alerting
from streams.produce import produce_lines
from tests.integration.conftest import PORTFOLIO_TEXT, scored
from tests.reliability_report import FaultRecorder

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def news(i: int, title: str | None = None, body: str | None = None) -> dict:
    return {
        "id": f"news-{i:05d}",
        "url": f"https://example.com/{i}",
        "source": "example.com",
        "title": title or f"the company said record profit {i}",
        "body": "" if body is None else body,
        "published_at": "2026-11-01T10:00:00+01:00",
    }


def post(i: int) -> dict:
    return {
        "id": f"post-{i:05d}",
        "platform": "mastodon",
        "author": "@ann",
        "text": f"shares of the drone company {i}",
        "created_at": "2026-11-02T10:00:00Z",
    }


def patent(i: int) -> dict:
    return {
        "publication_number": f"US-2026-{i:07d}-A1",
        "title": "battery sensor",
        "abstract": "a battery with a sensor",
        "claims": ["1. a battery comprising a sensor"],
        "filing_date": "2025-03-01",
        "publication_date": "2026-09-01",
    }


BAD_NEWS = [
    b"not json at all",
    b'{"id": "bad-1", "title": ',
    b"[1, 2, 3]",
    json.dumps({"id": "bad-2", "title": "no url, no date"}).encode(),
    json.dumps({**news(9999), "published_at": "yesterday"}).encode(),
    json.dumps(post(9999)).encode(),  # a social post on the news topic
]


def write_jsonl(path: Path, rows: list[dict] | list[bytes]) -> None:
    with path.open("wb") as f:
        for r in rows:
            f.write(r if isinstance(r, bytes) else json.dumps(r).encode())
            f.write(b"\n")


async def read_topic(bootstrap: str, topic: str, seconds: float = 3.0) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out: list[bytes] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for recs in (await consumer.getmany(timeout_ms=300)).values():
                out += [r.value for r in recs]
    finally:
        await consumer.stop()
    return out


def test_every_record_indexed_once_or_dead_lettered(stack, start_worker, tmp_path: Path) -> None:
    settings, endpoints = stack
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    chinese = {**news(41), "title": "宁德时代股价暴跌", "body": "投资者担忧业绩下滑。"}
    good_news = [news(i) for i in range(40)] + [news(40, title=PORTFOLIO_TEXT), chinese]
    write_jsonl(feeds / "news.jsonl", good_news)
    write_jsonl(feeds / "bad-news.jsonl", BAD_NEWS)
    personal = {**post(30), "text": "mail ann@example.com about the drone"}
    write_jsonl(feeds / "social.jsonl", [post(i) for i in range(30)] + [personal])
    write_jsonl(feeds / "patents.jsonl", [patent(i) for i in range(20)])
    secret = "s3cr3t-in-the-env"  # the embedded server ignores auth; the worker still sends it
    worker = start_worker(
        ARGUS_BATCH_MAX_SIZE="16",
        ARGUS_ES_USERNAME="argus",
        ARGUS_ES_PASSWORD=secret,
        ARGUS_LOG_LEVEL="debug",
        ARGUS_MASK_PII='["social"]',
    )

    summary = asyncio.run(replay_and_wait(settings, endpoints, feeds, 120, worker))

    assert summary.produced == 42 + len(BAD_NEWS) + 31 + 20
    assert summary.indexed == 93
    assert summary.dlq == len(BAD_NEWS)
    assert summary.alerts == 1

    letters = [
        DeadLetter.model_validate_json(v)
        for v in asyncio.run(read_topic(endpoints.kafka_bootstrap, DLQ_TOPIC))
    ]
    by_value = {lt.value_b64: lt for lt in letters}
    import base64

    for raw in BAD_NEWS:
        letter = by_value[base64.b64encode(raw).decode()]
        assert letter.stage == "validation" and letter.source_topic == "argus.news"
        assert letter.reason
    reasons = " | ".join(lt.reason for lt in letters)
    assert (
        "not JSON" in reasons and "published_at" in reasons and "expected a JSON object" in reasons
    )

    alerts = [
        json.loads(v) for v in asyncio.run(read_topic(endpoints.kafka_bootstrap, ALERTS_TOPIC))
    ]
    assert {a["group"]["doc_id"] for a in alerts} == {"news:news-00040"}

    async def stored(index: str, doc_id: str) -> dict:
        es = make_client(settings, endpoints)
        try:
            return (await es.get(index=index, id=doc_id))["_source"]
        finally:
            await es.close()

    masked = asyncio.run(stored("argus-events-social", "social:post-00030"))
    assert masked["text"] == "mail [email] about the drone"
    assert "ann@example.com" not in json.dumps(masked)
    doc = asyncio.run(stored("argus-events-news", "news:news-00040"))
    assert doc["scores"]["similarity"][0]["item_id"] == "tm-1"
    assert doc["@timestamp"] == "2026-11-01T09:00:00Z"
    assert set(doc["models"]) == {"encoder", "topic", "sentiment"}

    async def cjk_hits(words: str) -> list[str]:
        # text.cjk indexes Chinese by character pairs: a word matches, not any shared character.
        es = make_client(settings, endpoints)
        try:
            await es.indices.refresh(index="argus-events-news")
            found = await es.search(index="argus-events-news", query={"match": {"text.cjk": words}})
            return [h["_id"] for h in found["hits"]["hits"]]
        finally:
            await es.close()

    assert asyncio.run(cjk_hits("股价")) == ["news:news-00041"]
    assert asyncio.run(cjk_hits("股市")) == []
    assert secret not in (settings.state_dir / "worker-0.log").read_text()


def test_killed_worker_loses_nothing_and_doubles_nothing(
    stack, start_worker, fault_report: FaultRecorder
) -> None:
    settings, endpoints = stack
    rows = [news(i) for i in range(600)] + [news(600, title=PORTFOLIO_TEXT)]
    lines = [json.dumps(r).encode() for r in rows]
    first = start_worker(ARGUS_BATCH_MAX_SIZE="5", ARGUS_BATCH_MAX_WAIT_MS="50")
    produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", lines, progress=False))

    deadline = time.monotonic() + 90
    indexed = 0
    while time.monotonic() < deadline:
        indexed = asyncio.run(count_indexed(settings, endpoints, produced))
        if indexed >= 30:
            break
        time.sleep(0.1)
    assert 0 < indexed < len(rows), f"not killed mid-stream ({indexed} indexed)"
    first.send_signal(signal.SIGKILL)  # no commit, no LeaveGroup: the hard case
    first.wait()
    killed_at, at_kill = time.monotonic(), indexed

    second = start_worker(ARGUS_BATCH_MAX_SIZE="64")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and indexed < len(rows):
        indexed = asyncio.run(count_indexed(settings, endpoints, produced))
        assert second.poll() is None, "the second worker died"
        time.sleep(0.5)
    recovery = time.monotonic() - killed_at

    assert indexed == len(rows)

    async def totals() -> tuple[int, int]:
        es = make_client(settings, endpoints)
        try:
            events = (await es.count(index="argus-events-*"))["count"]
            return int(events), sum(
                (await count_terms(settings, endpoints, "argus-alerts-*", "rule_type")).values()
            )
        finally:
            await es.close()

    assert asyncio.run(wait_for_alerting(settings, endpoints, produced, deadline))
    events, alerts = asyncio.run(totals())
    fault_report.add_indexing(
        fault="worker killed",
        injected=f"`kill -9` of the only worker after {at_kill} of {len(rows)} records were "
        "indexed; a second worker takes over",
        records=len(rows),
        indexed=indexed,
        documents=events,
        dead_lettered=None,
        recovery_s=recovery,
        extra={"recovery": "kill → new worker started, every record indexed", "alerts": alerts},
    )
    assert events == len(rows)  # no duplicate document
    assert alerts == 1  # the replayed alert collided with its first copy


def test_new_portfolio_items_match_news_and_any_independent_claim(
    stack, start_worker, rules_dir: Path
) -> None:
    """Items added while the worker runs are matched without a restart, and a patent filing
    is compared whole: a copy in its third claim is found and named. A watched company's
    lawsuit is a relation on its event and an alert of the shipped litigation rule."""
    settings, endpoints = stack
    shutil.copy(REPO / "rules" / "watched-litigation.yaml", rules_dir)
    worker = start_worker(ARGUS_PORTFOLIO_REFRESH_SECONDS="0.5")
    lawsuit = "Tidewater Bank sued Voltaris Energy over a grid patent."
    [event] = scored(stack, worker, "news", [news(1, body=lawsuit)], ["news:news-00001"]).values()
    assert event["scores"]["relations"] == [
        {
            "subject": "Tidewater Bank",
            "relation": "litigation",
            "object": "Voltaris Energy",
            "score": 1.0,
            "sentence": lawsuit,
            "watched": True,
        }
    ]
    assert event["watched_relations"] == ["Tidewater Bank -litigation-> Voltaris Energy"]

    new_text = "the court lawsuit of the drone company"
    claim = "a folding drone frame holding the camera gimbal inside the arm"
    items = [
        PortfolioItem(id="cr-9", kind="copyright", owner="Beta", text=new_text),
        PortfolioItem(id="pc-9", kind="patent_claim", owner="Beta", text=claim),
    ]

    async def add() -> None:
        es = make_client(settings, endpoints)
        try:
            await put_items(es, items)
        finally:
            await es.close()

    asyncio.run(add())
    time.sleep(3)  # a few refresh intervals
    copy = [json.dumps(news(2, title=new_text)).encode()]
    asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", copy, progress=False))
    filing = patent(7) | {
        "claims": [
            "1. a battery comprising a sensor",
            "2. The battery of claim 1, wherein the sensor reads heat.",
            claim,
        ]
    }
    filings = [json.dumps(filing).encode()]
    asyncio.run(produce_lines(endpoints.kafka_bootstrap, "patents", filings, progress=False))
    deadline = time.monotonic() + 60
    alerts: dict[tuple[str, str], dict] = {}
    wanted = {
        ("cr-9", "news:news-00002"),
        ("pc-9", "patents:US-2026-0000007-A1"),
        ("watched-litigation", "Tidewater Bank"),
    }

    def key(alert: dict) -> tuple[str, str]:
        if alert["portfolio_item"]:
            return alert["portfolio_item"]["item_id"], alert["group"]["doc_id"]
        return alert["rule"], alert["group"].get("relation.subject", "")

    while time.monotonic() < deadline and not wanted <= set(alerts):
        values = asyncio.run(read_topic(endpoints.kafka_bootstrap, ALERTS_TOPIC, seconds=1))
        alerts |= {key(a): a for a in map(json.loads, values)}
    assert wanted <= set(alerts)
    assert alerts[("watched-litigation", "Tidewater Bank")]["relation"]["sentence"] == lawsuit
    evidence = alerts[("pc-9", "patents:US-2026-0000007-A1")]["portfolio_item"]["evidence"]
    assert evidence[0]["section"] == "claim 3"
    log = (settings.state_dir / "worker-0.log").read_text()
    assert "portfolio reloaded" in log
