"""Scored events built by hand, for tests of what happens after scoring."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from indexer.actions import event_doc_id
from streams.contracts.schemas import (
    EntitySentiment,
    KafkaPosition,
    PortfolioMatch,
    ScoredEvent,
    Scores,
    SentimentScore,
    Source,
    TopicScore,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def scored_event(
    record_id: str = "n-1",
    *,
    source: Source = "news",
    at: datetime = T0,
    sims: tuple[float, ...] = (0.9, 0.5),
    sentiment: str = "neutral",
    entities: tuple[str, ...] = (),
    record: dict[str, Any] | None = None,
    text: str = "t",
    entity_sentiment: dict[str, str] | None = None,
) -> ScoredEvent:
    """`entity_sentiment`: entity -> its own label."""
    probs = {k: (0.8 if k == sentiment else 0.1) for k in ("negative", "neutral", "positive")}
    return ScoredEvent(
        doc_id=event_doc_id(source, record_id),
        source=source,
        record_id=record_id,
        timestamp=at,
        scored_at=at,
        text=text,
        language="en",
        entities=list(entities),
        record={"id": record_id, **(record or {})},
        scores=Scores(
            topic=TopicScore(label="legal", score=0.9, probabilities={"legal": 0.9}),
            sentiment=SentimentScore(label=sentiment, score=0.8, probabilities=probs),
            entity_sentiment=[
                EntitySentiment(entity=e, label=label, score=0.8, sentence=text)
                for e, label in (entity_sentiment or {}).items()
            ],
            similarity=[
                PortfolioMatch(item_id=f"pf-{i}", kind="trademark", score=s)
                for i, s in enumerate(sims)
            ],
        ),
        models={"encoder": "e@1"},
        kafka=KafkaPosition(topic=f"argus.{source}", partition=0, offset=7),
    )
