"""Sentiment per entity, pure: which part of a text speaks about which entity, and the verdict.

A document's label is wrong for half of "X surged after record profit, while Y slumped on a
profit warning". Each entity is judged on the sentences that mention it; a sentence that
mentions several entities is cut where the next entity's mention starts, so each gets the
clause it heads ("X surged after record profit, while" / "Y slumped on a profit warning").
A cut too short to carry a verdict ("X and") falls back to the whole sentence. The clauses
are scored by the document's own sentiment head; the verdict is their mean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch

from models.matching import join_segments, split_segments
from models.scripts import HAN, KANA
from streams.contracts.schemas import EntitySentiment

Mention = tuple[int, int, str]  # start, end (characters of the text), the entity's name
MentionFinder = Callable[[str], list[Mention]]

# Words outside the entity's own name a clause needs to say something about it: ASCII-style
# words, or single CJK characters (Chinese has no spaces; one character is about a word).
_TOKEN = re.compile(rf"[{KANA}{HAN}]|[^\W\d_]+")
MIN_CLAUSE_TOKENS = 3


def entity_units(text: str, find: MentionFinder) -> list[tuple[str, str]]:
    """(entity, the sentence or clause about it) pairs, in text order, without repeats."""
    sentences = split_segments(text)
    units: list[tuple[str, str]] = []
    for i, sentence in enumerate(sentences):
        found = sorted(find(sentence))
        if not found:
            continue
        # A sentence that is little but the name ("Brightwell Coffee." signing a post) is
        # judged with the sentence before it (after it, when first).
        context = sentence
        if _own_words(sentence, found, 0, len(sentence)) < MIN_CLAUSE_TOKENS and len(sentences) > 1:
            context = join_segments(*(sentences[i - 1 : i + 1] if i else sentences[:2]))
        spans = clause_spans(found, len(sentence))
        if len(spans) == 1:
            units.append((spans[0][0], context))
            continue
        for entity, lo, hi in spans:
            enough = _own_words(sentence, found, lo, hi) >= MIN_CLAUSE_TOKENS
            units.append((entity, sentence[lo:hi].strip(" ,;") if enough else context))
    return list(dict.fromkeys(units))


def clause_spans(mentions: list[Mention], length: int) -> list[tuple[str, int, int]]:
    """(entity, start, end) of each clause: one starts at each mention of an entity other
    than the previous mention's; the first also holds what comes before it."""
    heads = [m for j, m in enumerate(mentions) if j == 0 or m[2] != mentions[j - 1][2]]
    if len({m[2] for m in heads}) == 1:
        return [(heads[0][2], 0, length)]
    ends = [m[0] for m in heads[1:]] + [length]
    return [(m[2], 0 if j == 0 else m[0], ends[j]) for j, m in enumerate(heads)]


def _own_words(sentence: str, mentions: list[Mention], lo: int, hi: int) -> int:
    """Words of sentence[lo:hi] outside the entity mentions."""
    chars = list(sentence[lo:hi])
    for start, end, _ in mentions:
        for k in range(max(start, lo), min(end, hi)):
            chars[k - lo] = " "
    return len(_TOKEN.findall("".join(chars)))


def verdicts(
    units: Sequence[tuple[str, str]], probabilities: torch.Tensor, labels: Sequence[str]
) -> list[EntitySentiment]:
    """One verdict per entity: the mean of its units' class probabilities; its evidence, the
    unit most sure of the winning label."""
    rows: dict[str, list[int]] = {}
    for i, (entity, _) in enumerate(units):
        rows.setdefault(entity, []).append(i)
    out = []
    for entity, idx in rows.items():
        mean = probabilities[idx].mean(0)
        best = int(mean.argmax())
        evidence = idx[int(probabilities[idx, best].argmax())]
        out.append(
            EntitySentiment(
                entity=entity,
                label=labels[best],
                score=round(float(mean[best]), 4),
                sentence=units[evidence][1],
            )
        )
    return sorted(out, key=lambda v: v.entity)
