"""Prior art: every patent filing's embedding, in an index all workers share and a restart keeps.

One index per encoder (`argus-prior-art-<digest of its version>`: embeddings of two encoders
are not comparable, and each has its own width). On Elasticsearch the embeddings are a
`dense_vector` searched by kNN, filtered to earlier filing dates. A server without vector
search (the embedded one) gets the same interface from `ScanShim`: the index is read into
worker memory at start, then polled for what other workers added.

Each worker also remembers the filings it scored itself until they are searchable, so the next
batch is compared with this one's before it is written.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import torch
from elasticsearch import AsyncElasticsearch, BadRequestError

from indexer.actions import create_action
from models.novelty import Filing, FilingRing, merge
from streams.contracts.schemas import PatentFiling, PriorArt

log = logging.getLogger(__name__)

PRIOR_ART_PREFIX = "argus-prior-art-"
NEAREST = 3  # earlier filings named per filing
PAGE = 1000
# Docs another worker wrote are read again this far back: their clocks may lag this one's.
CLOCK_SKEW = timedelta(seconds=10)


def prior_art_index(encoder: str) -> str:
    return PRIOR_ART_PREFIX + hashlib.sha256(encoder.encode()).hexdigest()[:16]


def _mappings(dim: int, vectors: bool) -> dict[str, Any]:
    # Without vector search the embedding is only read back, as float16 bytes: the embedded
    # server spends ~23 ms of CPU indexing one 384-float array (even with `index: false`),
    # 0.2 ms a base64 string (measured 2026-12-03).
    embedding = (
        {"type": "dense_vector", "dims": dim, "index": True, "similarity": "cosine"}
        if vectors
        else {"type": "binary"}
    )
    return {
        "properties": {
            "record_id": {"type": "keyword"},
            "encoder": {"type": "keyword"},
            "filing_date": {"type": "date"},
            "indexed_at": {"type": "date"},
            "embedding": embedding,
        }
    }


def filings_of(scored: Sequence[tuple[PatentFiling, bytes]]) -> list[Filing]:
    """Filings and their embeddings, as `Scores.embedding` carries them (float16 bytes)."""
    return [
        Filing(
            rec.record_id,
            rec.filing_date.timestamp(),
            _from_f16(embedding),
        )
        for rec, embedding in scored
    ]


def _filed(filing: Filing) -> str:
    return datetime.fromtimestamp(filing.filed, UTC).isoformat()


def _stored(vector: torch.Tensor, mapped: str) -> str | list[float]:
    """The embedding as the index maps it: float16 bytes for `binary`, else numbers (a
    `dense_vector`, or an older embedded index's `float`)."""
    if mapped == "binary":
        return base64.b64encode(vector.numpy().astype(np.float16).tobytes()).decode()
    return [round(float(x), 5) for x in vector]


def _from_f16(data: bytes) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(data, np.float16).copy())


def read_embedding(stored: str | list[float]) -> torch.Tensor:
    if isinstance(stored, str):
        return _from_f16(base64.b64decode(stored))
    return torch.tensor(stored)


class PriorArtIndex:
    """The prior art of one encoder's filings."""

    def __init__(self, es: AsyncElasticsearch, encoder: str, capacity: int) -> None:
        self.es = es
        self.encoder = encoder
        self.index = prior_art_index(encoder)
        self.capacity = capacity
        self.recent: FilingRing | None = None  # set up at the first filing
        self.mapped = "float"  # the embedding's type in the index, read at the first filing

    @property
    def vectors(self) -> bool:
        """Whether the server searches the vectors (kNN)."""
        return self.mapped == "dense_vector"

    async def compare(self, filings: list[Filing], k: int = NEAREST) -> list[list[PriorArt]]:
        """Per filing, the `k` most similar filings of an earlier date, best first (this
        batch's own included), then remember them until they are searchable."""
        if not filings:
            return []
        recent = await self._setup(int(filings[0].vector.numel()))
        if isinstance(recent, ScanShim):
            await recent.pull()
        recent.add(filings)
        found = recent.nearest(filings, k)
        if self.vectors:
            found = merge(found, await self._knn(filings, k), k)
        return found

    def actions(self, filings: list[Filing]) -> list[dict[str, Any]]:
        """Bulk actions writing the filings; the id makes a replay collide with its copy."""
        now = datetime.now(UTC).isoformat()
        return [
            create_action(
                self.index,
                f.record_id,
                {
                    "record_id": f.record_id,
                    "encoder": self.encoder,
                    "filing_date": _filed(f),
                    "indexed_at": now,
                    "embedding": _stored(f.vector, self.mapped),
                },
            )
            for f in filings
        ]

    async def _setup(self, dim: int) -> FilingRing:
        if self.recent is not None:
            return self.recent
        self.mapped = await self._create(dim)
        if self.vectors:
            # kNN finds what was written; the ring only bridges the refresh interval.
            self.recent = FilingRing(min(self.capacity, 10_000), dim)
        else:
            self.recent = ScanShim(self, dim)
        log.info(
            "prior art for %s in %s (%s)",
            self.encoder,
            self.index,
            "kNN" if self.vectors else "no vector search: read into memory",
        )
        return self.recent

    async def _create(self, dim: int) -> str:
        """The embedding's type in the index, which is made if it does not exist."""
        if not await self.es.indices.exists(index=self.index):
            try:
                await self.es.indices.create(index=self.index, mappings=_mappings(dim, True))
            except BadRequestError as e:
                if "resource_already_exists" in str(e):  # another worker made it meanwhile
                    pass
                elif "dense_vector" in str(e):  # no vector type: the embedded server
                    await self.es.indices.create(index=self.index, mappings=_mappings(dim, False))
                else:
                    raise
        mapping = await self.es.indices.get_mapping(index=self.index)
        props = mapping[self.index]["mappings"]["properties"]
        return str(props.get("embedding", {}).get("type", "float"))

    async def _knn(self, filings: list[Filing], k: int) -> list[list[PriorArt]]:
        searches: list[dict[str, Any]] = []
        for f in filings:
            earlier = {"range": {"filing_date": {"lt": _filed(f)}}}
            searches += [
                {"index": self.index},
                {
                    "size": k,
                    "_source": ["record_id"],
                    "knn": {
                        "field": "embedding",
                        "query_vector": [float(x) for x in f.vector],
                        "k": k,
                        "num_candidates": max(100, 10 * k),
                        "filter": {
                            "bool": {
                                "filter": [earlier],
                                "must_not": [{"ids": {"values": [f.record_id]}}],
                            }
                        },
                    },
                },
            ]
        resp = await self.es.msearch(searches=searches)
        return [
            # A cosine kNN scores (1 + cos) / 2.
            [
                PriorArt(record_id=h["_id"], similarity=round(2 * h["_score"] - 1, 4))
                for h in r["hits"]["hits"]
            ]
            for r in resp["responses"]
        ]


class ScanShim(FilingRing):
    """For a search server without vector search (the embedded one, ../shared/STACK.md): the
    prior-art index read into memory, every worker's additions polled before each search."""

    def __init__(self, owner: PriorArtIndex, dim: int) -> None:
        super().__init__(owner.capacity, dim)
        self.owner = owner
        self.seen: datetime | None = None  # the latest `indexed_at` read
        # Read filings indexed within CLOCK_SKEW of `seen`: the next pull re-reads that
        # window (another worker's clock may lag) and leaves these out of it.
        self.window: dict[str, datetime] = {}

    async def pull(self) -> None:
        """Filings indexed since the last pull (the newest `capacity` at the first)."""
        query: dict[str, Any] = {"match_all": {}}
        if self.seen is not None:
            since = self.seen - CLOCK_SKEW
            self.window = {r: at for r, at in self.window.items() if at >= since}
            query = {
                "bool": {
                    "filter": [{"range": {"indexed_at": {"gte": since.isoformat()}}}],
                    "must_not": [{"ids": {"values": sorted(self.window)}}],
                }
            }
        after: list[Any] | None = None
        pulled: list[Filing] = []
        while len(pulled) < self.owner.capacity:
            kwargs: dict[str, Any] = {"search_after": after} if after else {}
            resp = await self.owner.es.search(
                index=self.owner.index,
                query=query,
                size=PAGE,
                sort=[{"indexed_at": "desc"}, {"record_id": "asc"}],
                **kwargs,
            )
            hits = resp["hits"]["hits"]
            for h in hits:
                src = h["_source"]
                filed = datetime.fromisoformat(src["filing_date"]).timestamp()
                pulled.append(Filing(src["record_id"], filed, read_embedding(src["embedding"])))
                at = datetime.fromisoformat(src["indexed_at"])
                self.window[src["record_id"]] = at
                self.seen = at if self.seen is None else max(self.seen, at)
            if len(hits) < PAGE:
                break
            after = hits[-1]["sort"]
        self.add(pulled[::-1])  # oldest first: the ring keeps the newest
