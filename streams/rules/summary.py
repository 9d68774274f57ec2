"""The cause summary of an alert: its most representative texts and its top terms."""

from __future__ import annotations

import base64
import re
from collections import Counter

import numpy as np
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


def representatives(texts: list[str], embeddings: list[str | None], k: int = 3) -> list[str]:
    """The `k` texts nearest the centroid of their embeddings (float16, base64)."""
    vectors = [
        np.frombuffer(base64.b64decode(e), dtype=np.float16).astype(np.float32)
        for e in embeddings
        if e
    ]
    if not texts or len(vectors) != len(texts) or len({v.shape for v in vectors}) != 1:
        # No embeddings, or some from another encoder (a model swap): the newest texts.
        return list(dict.fromkeys(texts))[:k]
    matrix = np.stack(vectors)
    centroid = matrix.mean(axis=0)
    order = np.argsort(-(matrix @ centroid), kind="stable")
    return list(dict.fromkeys(texts[i] for i in order))[:k]


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
