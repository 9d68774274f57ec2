"""Pure: scored events and alerts -> bulk `create` actions with deterministic ids."""

from __future__ import annotations

from typing import Any

from streams.schemas import Alert, ScoredEvent, Source

EVENTS_INDEX_PREFIX = "argus-events-"
ALERTS_INDEX_PREFIX = "argus-alerts-"


def events_index(source: Source) -> str:
    # One index per source, not per day: a replayed record must land on the same
    # index to collide with its first copy (create -> 409).
    return f"{EVENTS_INDEX_PREFIX}{source}"


def alerts_index(source: Source) -> str:
    return f"{ALERTS_INDEX_PREFIX}{source}"


def event_doc_id(source: Source, record_id: str) -> str:
    return f"{source}:{record_id}"


def create_action(index: str, doc_id: str, document: dict[str, Any]) -> dict[str, Any]:
    # `create`, never `index`: a second write of the same id is refused (409), not applied.
    return {"_op_type": "create", "_index": index, "_id": doc_id, "_source": document}


def event_action(event: ScoredEvent) -> dict[str, Any]:
    return create_action(events_index(event.source), event.doc_id, event.to_document())


def alert_action(alert: Alert) -> dict[str, Any]:
    return create_action(alerts_index(alert.source), alert.alert_id, alert.to_document())


def to_bulk_body(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten actions into the bulk API's header/source line pairs."""
    body: list[dict[str, Any]] = []
    for a in actions:
        body.append({a["_op_type"]: {"_index": a["_index"], "_id": a["_id"]}})
        body.append(a["_source"])
    return body
