"""The protected portfolio as an index: `argus portfolio add` writes it, workers read it.

Workers keep the embeddings in memory (the embedded server has no vector type); the
index is the shared, durable list of items, and its version (item count + latest
update) tells workers when to reload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError

from models.portfolio import PortfolioItem

PORTFOLIO_INDEX = "argus-portfolio"
PAGE = 1000
ABSENT = "absent"  # the version of a portfolio index that does not exist


class PortfolioIndexError(Exception):
    pass


async def put_items(es: AsyncElasticsearch, items: list[PortfolioItem]) -> int:
    """Insert or replace items by id; the index is refreshed so readers see them at once."""
    now = datetime.now(UTC).isoformat()
    body: list[dict[str, Any]] = []
    for item in items:
        body.append({"index": {"_index": PORTFOLIO_INDEX, "_id": item.id}})
        body.append({**item.model_dump(), "updated_at": now})
    if not body:
        return 0
    resp = await es.bulk(operations=body, refresh=True)
    failed = [i for i in resp["items"] if i["index"].get("status", 500) >= 300]
    if failed:
        raise PortfolioIndexError(f"{len(failed)} portfolio items were rejected: {failed[0]}")
    return len(items)


async def read_items(es: AsyncElasticsearch) -> list[PortfolioItem]:
    """Every item, in id order (search_after pages, so no 10k result window limit)."""
    items: list[PortfolioItem] = []
    after: list[Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"search_after": after} if after else {}
        try:
            resp = await es.search(index=PORTFOLIO_INDEX, size=PAGE, sort=[{"id": "asc"}], **kwargs)
        except NotFoundError:
            return []
        hits = resp["hits"]["hits"]
        for h in hits:
            src = {k: v for k, v in h["_source"].items() if k != "updated_at"}
            items.append(PortfolioItem.model_validate(src))
        if len(hits) < PAGE:
            return items
        after = hits[-1]["sort"]


async def portfolio_version(es: AsyncElasticsearch) -> str:
    """Changes whenever an item is added, replaced or removed."""
    try:
        resp = await es.search(
            index=PORTFOLIO_INDEX,
            size=0,
            track_total_hits=True,
            aggs={"updated": {"stats": {"field": "updated_at"}}},
        )
    except NotFoundError:
        return ABSENT
    total = resp["hits"]["total"]["value"]
    return f"{total}@{resp['aggregations']['updated']['max']}"
