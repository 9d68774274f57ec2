"""Near-copy detection benchmark, reproducible from the packaged news corpus.

Portfolio: 150 article leads. Queries: three near copies of each (sentences shuffled;
half the sentences copied into an unrelated lead; 20% of the words substituted) and
900 unrelated leads. A query's score against an item is the soft coverage of `Portfolio.match` (mean over the
item's sentences of the best-matching passage's cosine); against the portfolio, its best.
The whole-text cosine is reported beside it as the baseline.
Reports ROC-AUC (copies vs unrelated, overall and per kind of copy), precision@3 per
item, and fits the logistic calibration used by `models.matching.infringement_score`
on one half of the queries, judging it on the other.

    python -m bench.matching [--json FILE]
    python -m bench.matching --one-pass   # passages pooled from the text's own forward pass

`--one-pass` measures the two ways issue #17 names of not encoding passages a second time:
span pooling ("late chunking": each passage's vector the mean of the text's token states over
its span) as the matching itself, and as a gate (the second pass only for texts whose
span-pooled or whole-text score could reach a copy's); docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time

import numpy as np
import torch

from models.datasets import news_topics
from models.matching import split_segments
from models.portfolio import Portfolio, PortfolioItem
from models.scorers import SentenceEncoder
from models.train import load_encoder
from streams.contracts.settings import Settings

N_ITEMS, N_UNRELATED, SEED = 150, 900, 0


def lead(text: str, sentences: int = 3) -> str:
    return " ".join(split_segments(text)[:sentences])


def variants(item: str, other: str, vocabulary: list[str], rng: random.Random) -> dict[str, str]:
    sents = split_segments(item)
    shuffled = sents[:]
    rng.shuffle(shuffled)
    half = sents[: max(1, len(sents) // 2)]
    host = split_segments(other)
    partial = host[:1] + half + host[1:]
    words = item.split()
    for i in rng.sample(range(len(words)), k=max(1, len(words) // 5)):
        words[i] = rng.choice(vocabulary)
    return {
        "shuffle": " ".join(shuffled),
        "partial": " ".join(partial),
        "substitute": " ".join(words),
    }


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random copy outscores a random unrelated text (ties count half)."""
    scores = np.concatenate([pos, neg])
    ranks = scores.argsort().argsort() + 1.0
    for v in np.unique(scores):  # average ranks over ties
        tie = scores == v
        ranks[tie] = ranks[tie].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """One-feature logistic regression by Newton's method: P(y=1) = sigmoid(a*x + b)."""
    a, b = 0.0, 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a * x + b)))
        w = p * (1 - p) + 1e-9
        grad = np.array([((p - y) * x).sum(), (p - y).sum()])
        hess = np.array([[(w * x * x).sum(), (w * x).sum()], [(w * x).sum(), w.sum()]])
        a, b = np.array([a, b]) - np.linalg.solve(hess + 1e-6 * np.eye(2), grad)
    return float(a), float(b)


def corpus() -> tuple[list[str], list[tuple[str, int, str]]]:
    """The portfolio's items, and the queries: (text, source item or -1, kind)."""
    rng = random.Random(SEED)
    texts = [lead(t) for t in news_topics().texts]
    texts = [t for t in dict.fromkeys(texts) if 200 <= len(t) <= 1200]  # unique, usable leads
    rng.shuffle(texts)
    items, hosts, unrelated = texts[:N_ITEMS], texts[N_ITEMS : 2 * N_ITEMS], texts[2 * N_ITEMS :]
    unrelated = unrelated[:N_UNRELATED]
    vocabulary = [w for t in unrelated[:200] for w in re.findall(r"[A-Za-z]{4,}", t)]
    queries: list[tuple[str, int, str]] = []  # (text, source item or -1, kind)
    for i, (item, host) in enumerate(zip(items, hosts, strict=True)):
        queries += [(text, i, kind) for kind, text in variants(item, host, vocabulary, rng).items()]
    queries += [(t, -1, "unrelated") for t in unrelated]
    return items, queries


def run() -> dict[str, object]:
    items, queries = corpus()
    encoder = load_encoder(Settings())
    started = time.monotonic()
    portfolio = Portfolio(
        [PortfolioItem(id=str(n), kind="copyright", text=t) for n, t in enumerate(items)], encoder
    )
    ranked = portfolio.match([q[0] for q in queries], len(items), evidence_at=2.0, covered_at=1.0)
    seconds = time.monotonic() - started
    sims = np.zeros((len(queries), len(items)))
    for qi, matches in enumerate(ranked):
        for m in matches:
            sims[qi, int(m.item_id)] = m.score
    # Baseline: one cosine between whole texts, as a plain sentence-embedding search does.
    whole = (encoder.embed([q[0] for q in queries]) @ encoder.embed(items).T).numpy()
    best = sims.max(1)
    source = np.array([q[1] for q in queries])
    kinds = np.array([q[2] for q in queries])
    copy = source >= 0
    rows = np.arange(len(queries))
    own = np.where(copy, sims[rows, np.maximum(source, 0)], 0)
    whole_own = np.where(copy, whole[rows, np.maximum(source, 0)], 0)
    found_own = copy & (sims.argmax(1) == source)

    per_kind = {
        k: round(roc_auc(own[kinds == k], best[~copy]), 4)
        for k in ("shuffle", "partial", "substitute")
    }
    top3 = np.argsort(-sims, axis=0)[:3]  # per item, the 3 queries most like it
    precision_at_3 = float(np.mean([(source[top3[:, i]] == i).mean() for i in range(len(items))]))

    half = np.random.default_rng(SEED).permutation(len(queries))
    fit_idx, test_idx = half[: len(half) // 2], half[len(half) // 2 :]
    a, b = fit_logistic(best[fit_idx], copy[fit_idx].astype(float))
    p_test = 1 / (1 + np.exp(-(a * best[test_idx] + b)))
    y_test = copy[test_idx]
    brier = float(((p_test - y_test) ** 2).mean())
    threshold_50 = -b / a  # score at which P(copy) = 0.5
    return {
        "items": len(items),
        "copies": int(copy.sum()),
        "unrelated": int((~copy).sum()),
        "roc_auc": round(roc_auc(own[copy], best[~copy]), 4),
        "roc_auc_whole_text_cosine": round(roc_auc(whole_own[copy], whole.max(1)[~copy]), 4),
        "roc_auc_by_kind": per_kind,
        "own_item_ranked_first": round(float(found_own[copy].mean()), 4),
        "precision_at_3": round(precision_at_3, 4),
        "calibration": {
            "slope": round(a, 2),
            "intercept": round(b, 2),
            "brier": round(brier, 4),
            "score_at_p50": round(threshold_50, 3),
        },
        "copy_score_p10": round(float(np.quantile(own[copy], 0.1)), 3),
        "unrelated_score_p99": round(float(np.quantile(best[~copy], 0.99)), 3),
        "encoder": encoder.version,
        "queries_per_second": round(len(queries) / seconds, 1),
    }


def span_pooled(encoder: SentenceEncoder, text: str) -> torch.Tensor:
    """[passages, d]: each passage of `text` as the L2-normalised mean of the text's own
    last-layer token states over its characters (one forward pass, truncated as the text is)."""
    loaded = encoder.loaded
    batch = loaded.tokenizer(
        text,
        truncation=True,
        max_length=loaded.max_length,
        return_offsets_mapping=True,
        return_tensors="pt",
    )
    offsets = batch.pop("offset_mapping")[0]
    with torch.no_grad():
        states = loaded.model(**batch).last_hidden_state[0]
    rows, start = [], 0
    for passage in split_segments(text):
        start = text.find(passage, start)
        end = start + len(passage)
        inside = (offsets[:, 0] >= start) & (offsets[:, 1] <= end) & (offsets[:, 1] > offsets[:, 0])
        start = end
        if inside.any():  # a passage past the truncation has no tokens
            rows.append(torch.nn.functional.normalize(states[inside].mean(0), dim=0))
    return torch.stack(rows) if rows else torch.zeros(1, encoder.dim)


def coverage(portfolio: Portfolio, passages: torch.Tensor) -> np.ndarray:
    """Soft coverage of every item by these passage vectors, as `Portfolio.match` scores."""
    best = (portfolio.element_matrix @ passages.T).max(1).values
    per_item = torch.zeros(len(portfolio.items)).index_add_(0, portfolio.owner, best)
    return (per_item / portfolio.counts).numpy()


def run_one_pass() -> dict[str, object]:
    items, queries = corpus()
    encoder = load_encoder(Settings())
    portfolio = Portfolio(
        [PortfolioItem(id=str(n), kind="copyright", text=t) for n, t in enumerate(items)], encoder
    )
    source = np.array([q[1] for q in queries])
    kinds = np.array([q[2] for q in queries])
    copy = source >= 0
    rows = np.arange(len(queries))

    def scored(vectors: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        sims = np.stack([coverage(portfolio, v) for v in vectors])
        return np.where(copy, sims[rows, np.maximum(source, 0)], 0), sims.max(1)

    texts = [q[0] for q in queries]
    separate = scored([encoder.embed(split_segments(t)) for t in texts])
    span = scored([span_pooled(encoder, t) for t in texts])
    whole = scored([encoder.embed([t]) for t in texts])

    def roc(own: np.ndarray, best: np.ndarray) -> dict[str, float]:
        out = {"all": round(roc_auc(own[copy], best[~copy]), 4)}
        for k in ("shuffle", "partial", "substitute"):
            out[k] = round(roc_auc(own[kinds == k], best[~copy]), 4)
        return out

    def gate(best: np.ndarray) -> dict[str, float]:
        """Share of unrelated texts a gate would send to the second pass, keeping every copy
        (or 99 %, 95 %) above its threshold."""
        return {
            f"keep_{int(100 * (1 - q))}pct": round(
                float((best[~copy] >= np.quantile(best[copy], q)).mean()), 3
            )
            for q in (0.0, 0.01, 0.05)
        }

    return {
        "roc_auc_separate_passages": roc(*separate),
        "roc_auc_span_pooled": roc(*span),
        "second_pass_share_span_gate": gate(span[1]),
        "second_pass_share_whole_text_gate": gate(whole[1]),
        "encoder": encoder.version,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", metavar="FILE", help="also write the result here")
    p.add_argument("--one-pass", action="store_true", help="span pooling and gates, measured")
    args = p.parse_args()
    torch.manual_seed(SEED)
    result = run_one_pass() if args.one_pass else run()
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
