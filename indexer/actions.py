"""Pure: scored events and dead letters -> bulk `create` actions with deterministic ids."""

from __future__ import annotations

import json
from typing import Any

from streams.contracts.schemas import DeadLetter, ScoredEvent, Source

EVENTS_INDEX_PREFIX = "argus-events-"
ALERTS_INDEX_PREFIX = "argus-alerts-"
DEAD_LETTERS_INDEX_PREFIX = "argus-deadletters-"


def events_index(source: Source) -> str:
    # One index per source, not per day: a replayed record must land on the same
    # index to collide with its first copy (create -> 409).
    return f"{EVENTS_INDEX_PREFIX}{source}"


def alerts_index(rule_type: str) -> str:
    return f"{ALERTS_INDEX_PREFIX}{rule_type}"


def dead_letters_index(source: Source) -> str:
    return f"{DEAD_LETTERS_INDEX_PREFIX}{source}"


def event_doc_id(source: Source, record_id: str) -> str:
    return f"{source}:{record_id}"


def create_action(index: str, doc_id: str, document: dict[str, Any] | bytes) -> dict[str, Any]:
    """`document`: the source, or its JSON where the caller serialised it already."""
    # `create`, never `index`: a second write of the same id is refused (409), not applied.
    return {"_op_type": "create", "_index": index, "_id": doc_id, "_source": document}


def event_action(event: ScoredEvent, document: bytes) -> dict[str, Any]:
    """`document`: the event's `to_json`, the bytes argus.scored carries too."""
    return create_action(events_index(event.source), event.doc_id, document)


def dead_letter_action(source: Source, letter: DeadLetter) -> dict[str, Any]:
    """The dead letter's metadata for dashboards; its bytes stay in the Kafka DLQ only."""
    doc = letter.model_dump(mode="json", exclude={"key_b64", "value_b64", "failed_at"})
    doc |= {"@timestamp": letter.failed_at.isoformat(), "source": source}
    doc_id = f"{letter.source_topic}:{letter.partition}:{letter.offset}"
    return create_action(dead_letters_index(source), doc_id, doc)


def bulk_lines(action: dict[str, Any]) -> bytes:
    """The action's header and source as the bulk API's two NDJSON lines, serialised once:
    the bytes the request carries are the bytes its size is capped by."""
    header = {action["_op_type"]: {"_index": action["_index"], "_id": action["_id"]}}
    source = action["_source"]
    return _json(header) + b"\n" + (source if isinstance(source, bytes) else _json(source)) + b"\n"


def _json(value: Any) -> bytes:
    # Documents are pydantic JSON-mode dumps: the standard encoder needs no fallbacks.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
