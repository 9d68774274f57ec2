"""The cause summary of an alert: what it shows of each event, its most representative
events and its top terms."""

from __future__ import annotations

import re
from collections import Counter

import rjieba

from models.scripts import HAN

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'+-]{2,}")
# Chinese has no spaces: its words come from a segmenter (rjieba, dictionary compiled in).
_CJK_RUN = re.compile(f"[{HAN}]+")
# Function words only: anything longer is worth showing to the person on call.
_STOP = frozenset(
    "the and for with that this from have has had was were are its it's not but they their "
    "them will would can could about after before into over than then there these those what "
    "when which while who why how all any our your you more most some such very just also "
    "been being said says say out off per via new one two".split()
    # The commonest two-character Chinese function words.
    + "我们 你们 他们 她们 它们 这个 那个 这些 那些 一个 没有 因为 所以 但是 已经 可以 进行 "
    "以及 或者 如果 虽然 表示 认为 目前 今天 昨天 今年 去年 公司 记者".split()
)


TEXT_CHARS = 300
# A summary is at most three sentences, but a sentence may be a whole patent claim.
SUMMARY_CHARS = 600


def excerpt(summary: str | None, text: str) -> str:
    """What alerts and notifications show of an event: its summary, else its start."""
    return summary[:SUMMARY_CHARS] if summary else text[:TEXT_CHARS]


def representatives(texts: list[str], k: int = 3) -> list[str]:
    """The `k` texts that share the most words with the others (mean Jaccard overlap), the
    earlier of two equals first: the typical events, not the odd one out. Texts, not
    embeddings: the rule state keeps only the evidence's ids, and its texts are read back."""
    unique = list(dict.fromkeys(texts))
    bags = [words(t) for t in unique]

    def typical(i: int) -> float:
        others = [b for j, b in enumerate(bags) if j != i]
        if not others:
            return 0.0
        return sum(len(bags[i] & b) / (len(bags[i] | b) or 1) for b in others) / len(others)

    order = sorted(range(len(unique)), key=lambda i: -typical(i))
    return [unique[i] for i in order][:k]


def words(text: str) -> set[str]:
    """The text's words worth counting: Latin-script words of three letters or more, and
    Chinese words of two characters or more (one character is mostly a function word)."""
    found = {w.lower() for w in _WORD.findall(text)}
    for run in _CJK_RUN.findall(text):
        found |= {w for w in rjieba.cut(run) if len(w) >= 2}
    return found - _STOP


def top_terms(texts: list[str], k: int = 5) -> list[str]:
    """The words that occur in the most texts (each text counts a word once)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words(text))
    return [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))[:k]]
