"""The prior-art index against a scripted client: the kNN path of Elasticsearch, the scan
shim of a server without vector search."""

from __future__ import annotations

import asyncio
from typing import Any

import torch
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import BadRequestError

from indexer.prior_art import PriorArtIndex, ScanShim, prior_art_index, read_embedding
from models.novelty import Filing

A = Filing("US-1", 100.0, torch.tensor([1.0, 0.0]))
B = Filing("US-2", 200.0, torch.tensor([0.6, 0.8]))


class Indices:
    def __init__(self, es: ScriptedES) -> None:
        self.es = es

    async def exists(self, index: str) -> bool:
        return index in self.es.mappings

    async def create(self, index: str, mappings: dict[str, Any]) -> None:
        if not self.es.vectors and mappings["properties"]["embedding"]["type"] == "dense_vector":
            meta = ApiResponseMeta(400, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "es", 9200))
            reason = "No handler for type [dense_vector]"  # what the embedded server answers
            raise BadRequestError(reason, meta, {"error": {"reason": reason}})
        self.es.mappings[index] = mappings

    async def get_mapping(self, index: str) -> dict[str, Any]:
        return {index: {"mappings": self.es.mappings[index]}}


class ScriptedES:
    def __init__(self, vectors: bool, stored: list[dict[str, Any]] | None = None) -> None:
        self.vectors = vectors
        self.mappings: dict[str, dict[str, Any]] = {}
        self.indices = Indices(self)
        self.stored = stored or []
        self.searches: list[dict[str, Any]] = []

    async def msearch(self, searches: list[dict[str, Any]]) -> dict[str, Any]:
        self.searches += searches
        # What Elasticsearch answers for a cosine kNN: (1 + cos) / 2.
        hit = {"_id": "US-0", "_score": (1 + 0.9) / 2}
        return {"responses": [{"hits": {"hits": [hit]}} for _ in searches[1::2]]}

    async def search(self, **kwargs: Any) -> dict[str, Any]:
        self.searches.append(kwargs)
        hits = [{"_source": s, "sort": [s["indexed_at"], s["record_id"]]} for s in self.stored]
        return {"hits": {"hits": hits if len(self.searches) == 1 else []}}


def test_knn_asks_for_earlier_filings_only_and_merges_with_its_own_recent_ones() -> None:
    es = ScriptedES(vectors=True)
    index = PriorArtIndex(es, "enc@1", capacity=10)
    found = asyncio.run(index.compare([A, B]))
    assert (
        index.vectors
        and es.mappings[prior_art_index("enc@1")]["properties"]["embedding"]["type"]
        == "dense_vector"
    )
    knn = es.searches[1]["knn"]
    assert knn["k"] == 3 and knn["query_vector"] == [1.0, 0.0]
    assert knn["filter"]["bool"]["filter"] == [
        {"range": {"filing_date": {"lt": "1970-01-01T00:01:40+00:00"}}}
    ]
    assert knn["filter"]["bool"]["must_not"] == [{"ids": {"values": ["US-1"]}}]
    # B's prior art: the server's US-0 (cosine 0.9) and A of its own batch (0.6).
    assert [(p.record_id, p.similarity) for p in found[1]] == [("US-0", 0.9), ("US-1", 0.6)]
    (action,) = index.actions([A])
    assert action["_op_type"] == "create" and action["_id"] == "US-1"
    assert action["_source"]["embedding"] == [1.0, 0.0]


def test_without_vector_search_the_index_is_read_into_memory() -> None:
    stored = {
        "record_id": "US-0",
        "filing_date": "1970-01-01T00:00:50+00:00",
        "indexed_at": "2026-12-02T10:00:00+00:00",
        "embedding": [0.0, 1.0],
    }
    es = ScriptedES(vectors=False, stored=[stored])
    index = PriorArtIndex(es, "enc@1", capacity=10)
    found = asyncio.run(index.compare([B]))
    assert not index.vectors and isinstance(index.recent, ScanShim)
    assert es.mappings[prior_art_index("enc@1")]["properties"]["embedding"] == {"type": "binary"}
    assert [(p.record_id, p.similarity) for p in found[0]] == [("US-0", 0.8)]
    # Written as float16 bytes (cheap for the embedded server to index), read back as such.
    (action,) = index.actions([B])
    written = action["_source"]["embedding"]
    assert isinstance(written, str) and torch.equal(read_embedding(written), B.vector.half())
    # The next batch reads only what was indexed since, less the clock skew, and not the
    # filings of that window it holds already.
    asyncio.run(index.compare([A]))
    assert es.searches[1]["query"] == {
        "bool": {
            "filter": [{"range": {"indexed_at": {"gte": "2026-12-02T09:59:50+00:00"}}}],
            "must_not": [{"ids": {"values": ["US-0"]}}],
        }
    }
