"""The protected portfolio: items embedded once, matched by cosine similarity in memory.

The search server stores no vectors (the embedded one has no dense_vector), so the
matrix lives in worker memory; a portfolio of 100k items at 384 float32 is 150 MB.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.matching import align, infringement_score, split_segments
from models.scorers import SentenceEncoder
from streams.schemas import PortfolioMatch
from streams.validation import describe_validation_error


class PortfolioItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: str = Field(description="patent_claim, trademark, copyright, …")
    text: str = Field(min_length=1)
    owner: str | None = None
    title: str | None = None


class PortfolioError(Exception):
    pass


def read_portfolio(path: Path) -> list[PortfolioItem]:
    if not path.is_file():
        raise PortfolioError(f"portfolio file {path} does not exist")
    items: list[PortfolioItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(PortfolioItem.model_validate(json.loads(line)))
        except json.JSONDecodeError as e:
            raise PortfolioError(f"{path}:{n}: not JSON: {e}") from None
        except ValidationError as e:
            raise PortfolioError(f"{path}:{n}: {describe_validation_error(e)}") from None
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise PortfolioError(f"{path}: portfolio ids must be unique")
    return items


class Portfolio:
    def __init__(self, items: list[PortfolioItem], encoder: SentenceEncoder) -> None:
        self.items = items
        self.encoder = encoder
        dim = encoder.embed(["probe"]).shape[1]
        self.matrix = encoder.embed([i.text for i in items]) if items else torch.empty(0, dim)
        self.elements = [split_segments(i.text) for i in items]
        flat = [e for els in self.elements for e in els]
        flat_emb = encoder.embed(flat) if flat else torch.empty(0, dim)
        self.element_emb = list(flat_emb.split([len(els) for els in self.elements]))

    def explain(
        self,
        texts: list[str],
        matches: list[list[PortfolioMatch]],
        min_similarity: float,
        covered_at: float,
    ) -> None:
        """Add evidence, coverage and the 0-100 score to matches at or over `min_similarity`.

        Only texts with such a match are cut into passages and encoded again, in one call.
        """
        wanted = [i for i, ms in enumerate(matches) if any(m.score >= min_similarity for m in ms)]
        if not wanted:
            return
        passages = {i: split_segments(texts[i]) for i in wanted}
        flat = [p for i in wanted for p in passages[i]]
        emb = dict(
            zip(
                wanted,
                self.encoder.embed(flat).split([len(passages[i]) for i in wanted]),
                strict=True,
            )
        )
        index = {item.id: n for n, item in enumerate(self.items)}
        for i in wanted:
            for m in matches[i]:
                if m.score < min_similarity:
                    continue
                n = index[m.item_id]
                m.evidence, m.coverage = align(
                    self.elements[n], self.element_emb[n], passages[i], emb[i], covered_at
                )
                m.infringement_score = infringement_score(m.score)

    def top_k(self, embeddings: torch.Tensor, k: int) -> list[list[PortfolioMatch]]:
        if not self.items:
            return [[] for _ in range(embeddings.shape[0])]
        sims = embeddings @ self.matrix.T
        values, indices = sims.topk(min(k, len(self.items)), dim=1)
        return [
            [self._match(int(i), float(v)) for v, i in zip(vs, ix, strict=True)]
            for vs, ix in zip(values, indices, strict=True)
        ]

    def _match(self, index: int, score: float) -> PortfolioMatch:
        item = self.items[index]
        return PortfolioMatch(
            item_id=item.id,
            kind=item.kind,
            owner=item.owner,
            title=item.title,
            score=round(score, 4),
        )
