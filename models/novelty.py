"""Novelty of patent filings: 1 - the highest similarity to an earlier filing.

Prior art is what was filed before, not what happened to arrive before: a filing is compared
with filings of an earlier filing date only, and never with its own publication number (a
replayed record is not its own prior art). The shared, durable list of filings lives in the
search server (indexer/prior_art.py); this is the part in memory, a bounded ring of filings
and their embeddings (50k filings x 384 floats = 77 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from streams.contracts.schemas import PriorArt


@dataclass(frozen=True, slots=True)
class Filing:
    record_id: str
    filed: float  # the filing date, epoch seconds
    vector: torch.Tensor  # the normalised sentence embedding


def novelty(nearest: list[PriorArt]) -> float:
    return round(1.0 - max(0.0, nearest[0].similarity), 4) if nearest else 1.0


def merge(found: list[list[PriorArt]], more: list[list[PriorArt]], k: int) -> list[list[PriorArt]]:
    """Per filing, the `k` most similar of both lists, each filing once."""
    out = []
    for mine, theirs in zip(found, more, strict=True):
        best: dict[str, PriorArt] = {}
        for p in sorted([*mine, *theirs], key=lambda p: -p.similarity):
            best.setdefault(p.record_id, p)
        out.append(list(best.values())[:k])
    return out


class FilingRing:
    """The most recent `capacity` filings; one filing (by id) is held once."""

    def __init__(self, capacity: int, dim: int) -> None:
        self.matrix = torch.zeros(capacity, dim)
        self.filed = torch.zeros(capacity, dtype=torch.float64)
        self.ids: list[str | None] = [None] * capacity
        self.slot: dict[str, int] = {}
        self.size = 0
        self.next = 0

    def add(self, filings: list[Filing]) -> None:
        for f in filings:
            if f.record_id in self.slot:
                continue
            gone = self.ids[self.next]
            if gone is not None:
                del self.slot[gone]
            self.matrix[self.next] = f.vector
            self.filed[self.next] = f.filed
            self.ids[self.next] = f.record_id
            self.slot[f.record_id] = self.next
            self.next = (self.next + 1) % len(self.ids)
            self.size = min(self.size + 1, len(self.ids))

    def nearest(self, filings: list[Filing], k: int) -> list[list[PriorArt]]:
        """Per filing, the `k` most similar filings of an earlier date, best first: one
        matrix product for the whole batch."""
        n = self.size
        if not n or not filings:
            return [[] for _ in filings]
        sims = torch.stack([f.vector for f in filings]).float() @ self.matrix[:n].T
        filed = torch.tensor([f.filed for f in filings], dtype=torch.float64)
        later = self.filed[:n][None, :] >= filed[:, None]
        sims = sims.masked_fill(later, float("-inf"))
        for row, f in enumerate(filings):
            own = self.slot.get(f.record_id)
            if own is not None:
                sims[row, own] = float("-inf")
        values, where = sims.topk(min(k, n), dim=1)
        return [
            [
                PriorArt(record_id=str(self.ids[int(i)]), similarity=round(float(v), 4))
                for v, i in zip(vals, idx, strict=True)
                if v != float("-inf")
            ]
            for vals, idx in zip(values, where, strict=True)
        ]
