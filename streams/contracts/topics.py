"""Topic names: one place for every Kafka topic Argus reads or writes."""

from __future__ import annotations

from streams.contracts.schemas import Source

INPUT_TOPICS: dict[Source, str] = {
    "news": "argus.news",
    "social": "argus.social",
    "patents": "argus.patents",
}
SCORED_TOPIC = "argus.scored"
RULE_HITS_TOPIC = "argus.rule-hits"
ALERTS_TOPIC = "argus.alerts"
DLQ_TOPIC = "argus.dlq"

ALL_TOPICS: tuple[str, ...] = (
    *INPUT_TOPICS.values(),
    SCORED_TOPIC,
    RULE_HITS_TOPIC,
    ALERTS_TOPIC,
    DLQ_TOPIC,
)
