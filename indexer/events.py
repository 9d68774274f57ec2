"""Event documents read back by id: what an alert shows of the events behind it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from elasticsearch import AsyncElasticsearch

from indexer.actions import events_index
from streams.contracts.schemas import Source


async def read_events(
    es: AsyncElasticsearch, doc_ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Doc id -> the requested `_source` fields of each event found (ids are
    `source:record_id`, so each names its index)."""
    docs = [
        {"_index": events_index(cast(Source, doc_id.split(":", 1)[0])), "_id": doc_id}
        for doc_id in dict.fromkeys(doc_ids)
    ]
    if not docs:
        return {}
    resp = await es.mget(docs=docs, source_includes=list(fields))
    return {d["_id"]: d.get("_source", {}) for d in resp["docs"] if d.get("found")}
