"""The protected portfolio: items embedded once, matched by cosine similarity in memory.

The search server stores no vectors (the embedded one has no dense_vector), so the
matrix lives in worker memory; a portfolio of 100k items at 384 float32 is 150 MB.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.matching import MINILM_CALIBRATION, align, infringement_score, split_segments
from models.passages import Passages, passages_of
from models.scorers import Encoded, SentenceEncoder
from streams.contracts.schemas import (
    Authorised,
    InputRecord,
    PortfolioMatch,
    describe_validation_error,
)


class PortfolioItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: str = Field(description="patent_claim, trademark, copyright, …")
    text: str = Field(min_length=1)
    owner: str | None = None
    title: str | None = None
    aliases: list[str] = Field(
        default_factory=list, description="Other names of the owner: brands, handles, tickers."
    )
    licensees: list[str] = Field(
        default_factory=list, description="Who may use the item under licence."
    )
    allow: list[str] = Field(
        default_factory=list,
        description="Anyone else whose texts may quote it: the owner's agency, a distributor.",
    )


def _name_key(name: str) -> str:
    """Names compared without case, spaces or punctuation: "@Brightwell_Coffee" is
    "Brightwell Coffee"."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def authorisation(item: PortfolioItem, parties: Sequence[str]) -> Authorised | None:
    """Why a text by `parties` (its author, publisher or assignee) may copy the item: it
    is the owner's own (owner or alias), a licensee's, or on the item's allow list."""
    keys = {_name_key(p) for p in parties} - {""}
    reasons: list[tuple[Authorised, list[str]]] = [
        ("owner", [item.owner or "", *item.aliases]),
        ("licensee", item.licensees),
        ("allowed", item.allow),
    ]
    for reason, names in reasons:
        if keys & {_name_key(n) for n in names}:
            return reason
    return None


def explain_matches(
    matches: Sequence[PortfolioMatch],
    record: InputRecord,
    item_of: Callable[[str], PortfolioItem | None],
) -> None:
    """What the record itself says about each match: whether its parties may copy the item,
    and which part of it (a patent's title, abstract, claim N) each evidence passage is in."""
    parties = record.parties()
    for match in matches:
        item = item_of(match.item_id)
        match.authorised = authorisation(item, parties) if item is not None else None
        for e in match.evidence:
            e.section = record.section_of(e.passage)


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
    """Items cut into elements, every element embedded once.

    An event matches an item by *soft coverage*: the mean, over the item's elements, of
    the best cosine between that element and any passage of the event. Unlike the
    whole-text cosine it finds partial copies (half an item pasted into other text):
    ROC-AUC 0.967 vs 0.783 on the matching benchmark (docs/models.md).
    """

    def __init__(
        self,
        items: list[PortfolioItem],
        encoder: SentenceEncoder,
        previous: Portfolio | None = None,
    ) -> None:
        """`previous`: a portfolio whose element embeddings are reused for unchanged items."""
        self.items = items
        self.item_by_id = {i.id: i for i in items}
        self.encoder = encoder
        self.elements = [split_segments(i.text) for i in items]
        flat = [e for els in self.elements for e in els]
        known = previous._embedding_by_text() if previous is not None else {}
        todo = [e for e in dict.fromkeys(flat) if e not in known]
        if todo:
            known.update(zip(todo, encoder.embed(todo), strict=True))
        self.element_matrix = (
            torch.stack([known[e] for e in flat]) if flat else torch.empty(0, encoder.dim)
        )
        counts = [len(els) for els in self.elements]
        self.owner = torch.repeat_interleave(
            torch.arange(len(items)), torch.tensor(counts, dtype=torch.long)
        )
        self.counts = torch.tensor(counts, dtype=torch.float32)
        self.by_id = torch.tensor(sorted(range(len(items)), key=lambda i: items[i].id))
        self.offsets = [0, *torch.tensor(counts).cumsum(0).tolist()]

    def _embedding_by_text(self) -> dict[str, torch.Tensor]:
        flat = [e for els in self.elements for e in els]
        return dict(zip(flat, self.element_matrix, strict=True))

    def match(
        self, texts: list[str], k: int, evidence_at: float, covered_at: float
    ) -> list[list[PortfolioMatch]]:
        """Top-k items per text; matches scoring `evidence_at` or more carry their evidence."""
        return self.match_passages(passages_of(self.encoder, texts), k, evidence_at, covered_at)

    def match_passages(
        self,
        passages: Passages,
        k: int,
        evidence_at: float,
        covered_at: float,
        encoded: Encoded | None = None,
    ) -> list[list[PortfolioMatch]]:
        """`match` on texts already cut and tokenised by `passages_of`: the model's part.
        `encoded`: the passages' encoder pass, if the caller made it already."""
        if not self.items:
            return [[] for _ in passages.per_text]
        if encoded is None:
            encoded = self.encoder.encode_tokens(passages.ids)
        sims = encoded.embeddings @ self.element_matrix.T
        sizes = [len(ps) for ps in passages.per_text]
        starts = [0, *torch.tensor(sizes).cumsum(0).tolist()]
        # Per text and element, the best passage's similarity, for all texts at once (a loop
        # of small tensor operations per text cost more than the forward passes on a GPU).
        text_of = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
        best = torch.full((len(sizes), sims.shape[1]), -1.0).scatter_reduce_(
            0, text_of[:, None].expand_as(sims), sims, "amax"
        )
        per_item = torch.zeros(len(sizes), len(self.items)).index_add_(1, self.owner, best)
        values, indices = top_k(per_item / self.counts, self.by_id, k)
        calibration = self.encoder.loaded.matching_calibration or MINILM_CALIBRATION
        out = []
        for t, (text_values, text_items) in enumerate(
            zip(values.tolist(), indices.tolist(), strict=True)
        ):
            matches = []
            where = None  # per element, its best passage: only for evidence
            for v, n in zip(text_values, text_items, strict=True):
                m = self._match(n, v)
                if v >= evidence_at:
                    if where is None:
                        where = sims[starts[t] : starts[t + 1]].max(dim=0).indices
                    lo, hi = self.offsets[n], self.offsets[n + 1]
                    m.evidence, m.coverage = align(
                        self.elements[n],
                        passages.per_text[t],
                        best[t, lo:hi],
                        where[lo:hi],
                        covered_at,
                    )
                    m.infringement_score = infringement_score(v, calibration)
                matches.append(m)
            out.append(matches)
        return out

    def _match(self, index: int, score: float) -> PortfolioMatch:
        item = self.items[index]
        return PortfolioMatch(
            item_id=item.id,
            kind=item.kind,
            owner=item.owner,
            title=item.title,
            score=round(score, 4),
        )


def top_k(scores: torch.Tensor, by_id: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the `k` best of `scores` (texts × items) and their item indices.

    Scores are compared as they are reported (4 decimals) and ties go to the smaller item
    id: float noise (batches padded differently, another device) never reorders matches.
    """
    rounded, by_id = torch.round(scores, decimals=4), by_id.to(scores.device)
    order = torch.sort(rounded[:, by_id], dim=1, descending=True, stable=True).indices
    indices = by_id[order[:, :k]]
    return rounded.gather(1, indices), indices
