"""Extractive summaries, pure: one to three of a text's own sentences, picked by embedding.

No seq2seq weights ship offline, so a summary is chosen, not written. Each sentence scores by
its cosine to the text's centroid (what the text is mostly about), with a small bonus for
coming early (news puts the gist first); sentences are picked greedily with a penalty for
resembling one already picked (maximal marginal relevance) and printed in the text's order.

The sentences are the passages the engine already encodes for portfolio matching
(`models.passages.passages_of`), joined back where matching cut a sentence at `;` or `:`
(claim elements): no second encoder pass. Measured against lead-3 and the other variants by
`python -m bench.summaries` (docs/models.md, "Summaries").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from models.matching import join_segments

MAX_SENTENCES = 3
# A text of three sentences or fewer is its own summary: it gets none.
MIN_SENTENCES = MAX_SENTENCES + 1

# A passage that ends in none of these was cut at a line break: a title or a heading.
_ENDS = re.compile(r"[.!?;:。！？；…][\"'”’»)\]]*$")
_CLAUSE_ENDS = re.compile(r"[;:；：][\"'”’»)\]]*$")


@dataclass(frozen=True)
class Method:
    """How sentences are picked. `relevance` 1 is plain centroid top-k; lower weighs the
    redundancy penalty more. `lead_bonus`: added to the score of the i-th sentence as
    `lead_bonus / (1 + i)`."""

    relevance: float = 1.0
    lead_bonus: float = 0.0


# The best of the grid on aclsum's train and validation splits, by mean ROUGE-1/2/L F1 (0.243;
# lead-3 0.235, plain centroid 0.201); nothing was chosen on its test split or the news set.
# The lead bonus is what beats lead-3: centroid and MMR alone trail it (docs/models.md).
DEFAULT = Method(relevance=0.7, lead_bonus=0.5)


@dataclass(frozen=True)
class Sentences:
    """A text's sentences, rebuilt from its passages, with their unit-length embeddings;
    `heading[i]`: a line without end punctuation (a title), kept out of the summary."""

    texts: list[str]
    embeddings: torch.Tensor
    heading: list[bool]


def sentences(passages: list[str], embeddings: torch.Tensor) -> Sentences:
    """Passages joined back into sentences where a passage ends at `;` or `:`. A joined
    sentence's embedding is the normalised sum of its passages': no encoder pass."""
    texts, groups = _joined(passages)
    vectors = embeddings.float()
    if len(groups) < len(passages):
        vectors = torch.stack([vectors[g].sum(0) for g in groups])
        vectors = torch.nn.functional.normalize(vectors, dim=1)
    return Sentences(texts, vectors, headings(texts))


def wants_summary(passages: list[str]) -> bool:
    """Whether a text of these passages gets a summary: before any encoder pass."""
    return sum(not h for h in headings(_joined(passages)[0])) >= MIN_SENTENCES


def _joined(passages: list[str]) -> tuple[list[str], list[list[int]]]:
    texts: list[str] = []
    groups: list[list[int]] = []
    for i, p in enumerate(passages):
        if groups and _CLAUSE_ENDS.search(passages[groups[-1][-1]]):
            texts[-1] = join_segments(texts[-1], p)
            groups[-1].append(i)
        else:
            texts.append(p)
            groups.append([i])
    return texts, groups


def headings(texts: list[str]) -> list[bool]:
    """Which of a text's sentences or passages are headings: cut at a line break without end
    punctuation (a news title, a patent's). The last one is a sentence cut short, if any."""
    last = len(texts) - 1
    return [i < last and not _ENDS.search(t) for i, t in enumerate(texts)]


def summary_length(n: int) -> int:
    """Sentences to pick from `n`: about a third, one to three."""
    return max(1, min(MAX_SENTENCES, n // 3))


def pick(
    embeddings: torch.Tensor,
    k: int,
    method: Method = DEFAULT,
    candidates: list[int] | None = None,
) -> list[int]:
    """The `k` rows of `embeddings` (unit length) that `method` picks among `candidates`
    (all rows if None), in text order. The centroid is every row's: a title counts towards
    what the text is about, though it is not picked."""
    rows = list(range(embeddings.shape[0])) if candidates is None else list(candidates)
    if len(rows) <= k:
        return rows
    vectors = embeddings.float()
    centroid = torch.nn.functional.normalize(vectors.mean(0), dim=0)
    mine = vectors[rows]
    position = torch.arange(len(rows), dtype=torch.float32, device=vectors.device)
    score = mine @ centroid + method.lead_bonus / (1 + position)
    similar = mine @ mine.T
    chosen: list[int] = []
    redundancy = torch.zeros(len(rows), device=vectors.device)
    for _ in range(k):
        gain = method.relevance * score - (1 - method.relevance) * redundancy
        if chosen:
            gain[chosen] = float("-inf")
        best = int(gain.argmax())
        chosen.append(best)
        redundancy = torch.maximum(redundancy, similar[best])
    return sorted(rows[i] for i in chosen)


def summarise(
    passages: list[str], embeddings: torch.Tensor, method: Method = DEFAULT
) -> str | None:
    """A text's summary from its passages and their embeddings (rows of unit length); None
    for a text of fewer than MIN_SENTENCES sentences, which is its own summary."""
    if not wants_summary(passages):
        return None
    found = sentences(passages, embeddings)
    rows = [i for i, h in enumerate(found.heading) if not h]
    chosen = pick(found.embeddings, summary_length(len(rows)), method, rows)
    return " ".join(found.texts[i] for i in chosen)
