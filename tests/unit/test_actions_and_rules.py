from __future__ import annotations

from datetime import UTC, datetime

from indexer.actions import alert_action, event_action, event_doc_id, events_index, to_bulk_body
from streams.alert_rules import similarity_alerts
from streams.schemas import (
    KafkaPosition,
    PortfolioMatch,
    ScoredEvent,
    Scores,
    SentimentScore,
    TopicScore,
)

T = datetime(2026, 11, 1, tzinfo=UTC)


def scored(record_id: str = "n-1", sims: tuple[float, ...] = (0.9, 0.5)) -> ScoredEvent:
    return ScoredEvent(
        doc_id=event_doc_id("news", record_id),
        source="news",
        record_id=record_id,
        timestamp=T,
        scored_at=T,
        text="t",
        language="en",
        record={"id": record_id},
        scores=Scores(
            topic=TopicScore(label="legal", score=0.9, probabilities={"legal": 0.9}),
            sentiment=SentimentScore(label="neutral", score=0.8, probabilities={"neutral": 0.8}),
            similarity=[
                PortfolioMatch(item_id=f"pf-{i}", kind="trademark", score=s)
                for i, s in enumerate(sims)
            ],
        ),
        models={"encoder": "e@1"},
        kafka=KafkaPosition(topic="argus.news", partition=0, offset=7),
    )


def test_deterministic_ids_and_index() -> None:
    e = scored()
    a = event_action(e)
    assert a["_id"] == "news:n-1" and a["_op_type"] == "create"
    assert a["_index"] == events_index("news") == "argus-events-news"
    assert a["_source"]["@timestamp"] == "2026-11-01T00:00:00Z"
    assert "doc_id" not in a["_source"]


def test_bulk_body_pairs() -> None:
    body = to_bulk_body([event_action(scored("a")), event_action(scored("b"))])
    assert body[0] == {"create": {"_index": "argus-events-news", "_id": "news:a"}}
    assert body[2]["create"]["_id"] == "news:b" and len(body) == 4


def test_similarity_alert_threshold_and_stable_id() -> None:
    alerts = similarity_alerts(scored(), threshold=0.8)
    assert [a.portfolio_item.item_id for a in alerts] == ["pf-0"]
    again = similarity_alerts(scored(), threshold=0.8)
    assert alerts[0].alert_id == again[0].alert_id  # a replay yields the same id
    other = similarity_alerts(scored("n-2"), threshold=0.8)
    assert other[0].alert_id != alerts[0].alert_id
    assert alert_action(alerts[0])["_index"] == "argus-alerts-news"
    assert similarity_alerts(scored(sims=(0.79,)), threshold=0.8) == []


def test_dead_letter_keeps_bytes_and_caps_huge_ones() -> None:
    import base64
    from types import SimpleNamespace

    from streams.agents import dead_letter
    from streams.schemas import DLQ_VALUE_LIMIT

    def event(value: bytes) -> SimpleNamespace:
        msg = SimpleNamespace(topic="argus.news", partition=2, offset=9, key=b"k", value=value)
        return SimpleNamespace(message=msg)

    small = dead_letter(event(b"\xff raw"), "why", "validation")
    assert base64.b64decode(small.value_b64) == b"\xff raw" and not small.value_truncated
    assert (small.source_topic, small.partition, small.offset) == ("argus.news", 2, 9)
    big = dead_letter(event(b"x" * (DLQ_VALUE_LIMIT + 10)), "why", "validation")
    assert big.value_truncated and big.value_bytes == DLQ_VALUE_LIMIT + 10
    assert len(base64.b64decode(big.value_b64)) == DLQ_VALUE_LIMIT
    assert len(big.model_dump_json()) < 1_000_000  # fits a default-sized Kafka message
