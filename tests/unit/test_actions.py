from __future__ import annotations

import json

from indexer.actions import bulk_lines, dead_letter_action, event_action, events_index
from streams.contracts.schemas import ScoredEvent
from tests.events import scored_event as scored


def test_deterministic_ids_and_index() -> None:
    e = scored()
    a = event_action(e, e.to_json())
    assert a["_id"] == "news:n-1" and a["_op_type"] == "create"
    assert a["_index"] == events_index("news") == "argus-events-news"


def test_the_event_document_is_the_scored_message_read_back() -> None:
    e = scored("a")
    doc = json.loads(e.to_json())
    assert doc["@timestamp"] == "2026-11-01T00:00:00Z" and "timestamp" not in doc
    assert ScoredEvent.model_validate_json(e.to_json()) == e  # argus.scored reads it back


def test_bulk_lines_are_header_and_source() -> None:
    e = scored("a")
    header, source, end = bulk_lines(event_action(e, e.to_json())).split(b"\n")
    assert json.loads(header) == {"create": {"_index": "argus-events-news", "_id": "news:a"}}
    assert source == e.to_json() and end == b""


def test_dead_letter_keeps_bytes_and_caps_huge_ones() -> None:
    import base64
    from types import SimpleNamespace

    from streams.contracts.schemas import DLQ_VALUE_LIMIT
    from streams.dead_letters import dead_letter

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

    action = dead_letter_action("news", small)
    assert action["_index"] == "argus-deadletters-news" and action["_op_type"] == "create"
    assert action["_id"] == "argus.news:2:9"  # a replayed letter collides with its first copy
    assert "value_b64" not in action["_source"]  # the bytes stay in Kafka, not in dashboards
    assert action["_source"]["source"] == "news" and action["_source"]["stage"] == "validation"


def test_documents_list_entities_by_their_own_sentiment_for_kibana() -> None:
    e = scored(entities=("A", "B", "C"), entity_sentiment={"A": "negative", "B": "positive"})
    doc = json.loads(e.to_json())
    assert doc["entities_by_sentiment"] == {"negative": ["A"], "positive": ["B"]}
    assert [v["entity"] for v in doc["scores"]["entity_sentiment"]] == ["A", "B"]
