"""Novelty of patent filings: 1 - the highest similarity to an earlier filing seen.

A bounded ring of the most recent filings' embeddings, per worker (each worker sees its
own partitions; the bound keeps memory flat: 50k filings x 384 floats = 77 MB).
"""

from __future__ import annotations

import torch


class NoveltyIndex:
    def __init__(self, capacity: int, dim: int) -> None:
        self.matrix = torch.zeros(capacity, dim)
        self.ids: list[str | None] = [None] * capacity
        self.size = 0
        self.next = 0

    def score_and_add(self, ids: list[str], embeddings: torch.Tensor) -> list[float]:
        """Novelty of each filing against everything before it, then remember them all.

        A filing is never compared with its own id, so a replayed record is not its own
        prior art.
        """
        out = []
        for rid, emb in zip(ids, embeddings, strict=True):
            n = self.size
            if n:
                sims = self.matrix[:n] @ emb
                same = torch.tensor([i == rid for i in self.ids[:n]])
                sims = sims.masked_fill(same, -1.0)
                out.append(round(1.0 - max(0.0, float(sims.max())), 4))
            else:
                out.append(1.0)
            self.matrix[self.next] = emb
            self.ids[self.next] = rid
            self.next = (self.next + 1) % len(self.ids)
            self.size = min(self.size + 1, len(self.ids))
        return out
