"""Texts cut into passages, and a text's features pooled from its passages' encoder pass.

The passage pass is the only encoder pass a text gets: portfolio matching compares its
passages, entity sentiment and summaries read them, and the text's own features (what the
heads, the topic prototypes and novelty read) are pooled from them here. A second pass over
the whole text cost about as much encoder time again (issue #17); pooled features scored the
frozen sets as well as that pass's (docs/models.md, "One encoder pass").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from models.matching import split_segments
from models.scorers import Encoded, SentenceEncoder


@dataclass(frozen=True)
class Passages:
    """Texts cut into the passages matching compares, and the encoder's ids of each passage."""

    per_text: list[list[str]]
    ids: list[list[int]]  # every passage of every text, in order


def passages_of(encoder: SentenceEncoder, texts: Sequence[str]) -> Passages:
    """The tokeniser's part of the encoder pass: it can run ahead of the model thread, and a
    portfolio swapped in meanwhile reads the same passages. A text with no sentence in it
    (blank, or punctuation alone) is its own passage, so every text has features."""
    per_text = [split_segments(t) or [t] for t in texts]
    return Passages(per_text, encoder.tokenize([p for ps in per_text for p in ps]))


def text_features(passages: Passages, encoded: Encoded, window: int | None = None) -> torch.Tensor:
    """[texts, 2d]: per text, each half of its passages' features averaged with their token
    counts as weights (the mean over the text's tokens, each read within its sentence) and
    L2-normalised again. `window`: only the passages that begin within the text's first
    `window` tokens count, as a pass over the whole text would truncate it (measured and not
    adopted: long articles lost 5 points of accuracy with it, 1 without)."""
    feats = encoded.features.float()
    device = feats.device
    counts = torch.tensor([len(p) for p in passages.per_text], device=device)
    weights = torch.tensor([len(i) for i in passages.ids], dtype=torch.float32, device=device)
    owner = torch.repeat_interleave(torch.arange(len(counts), device=device), counts)
    if window is not None:
        inner = (weights - 2).clamp(min=0)  # less [CLS] and [SEP]
        before = inner.cumsum(0) - inner  # tokens of all earlier passages, any text's
        first = counts.cumsum(0) - counts  # each text's first passage
        start = before - before[first].repeat_interleave(counts)  # within its own text
        weights = weights * (start < window)
    sums = torch.zeros(len(counts), feats.shape[1], device=device)
    sums.index_add_(0, owner, feats * weights[:, None])
    half = feats.shape[1] // 2
    return torch.cat(
        [
            torch.nn.functional.normalize(sums[:, :half], dim=-1),
            torch.nn.functional.normalize(sums[:, half:], dim=-1),
        ],
        dim=-1,
    )


def encode_texts(
    encoder: SentenceEncoder, texts: Sequence[str], window: int | None = None
) -> Encoded:
    """The features the engine gives these texts' heads, for training and evaluating heads
    outside it; `ids`: the texts' own, for a checkpoint classifier that reads them. `window`:
    as in `text_features` (for measuring; the engine pools every passage)."""
    passages = passages_of(encoder, texts)
    encoded = encoder.encode_tokens(passages.ids)
    return Encoded(text_features(passages, encoded, window), encoder.tokenize(texts))
