"""Which training data gives a sentiment head a market-risk desk can alert on?

Each variant trains the default sentiment head (same encoder features, architecture and seed)
on another mix of data, stops early on the validation rows of what it trains on, and is
measured on:

- the held-out tweets (the social-text target: macro-F1 >= 0.77);
- the held-out fifth of data/train/finance_sentiment_en.jsonl, the project's written training
  set: the one figure a variant may be chosen by;
- data/eval/finance_sentiment_en.jsonl (frozen, 221 sentences) and data/finance_headlines.jsonl
  (the older 45-headline probe): reported, never used to choose anything.

    python -m bench.finance_sentiment [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from models.datasets import Dataset, read_labelled_file, tweet_sentiment
from models.evaluate import EvalReport, evaluate
from models.finance import distant_finance_sentences
from models.heads import HeadSpec, train_head
from models.scorers import SENTIMENT_LABELS
from models.train import WRITTEN_FINANCE, WRITTEN_TIMES, Part, encode_part, load_encoder, stack
from streams.contracts.settings import Settings
from streams.progress import Progress

DATA = Path(__file__).resolve().parent.parent / "data"
FROZEN = DATA / "eval" / "finance_sentiment_en.jsonl"
HEADLINES = DATA / "finance_headlines.jsonl"


def _summary(report: EvalReport) -> dict[str, object]:
    recall = {c.label: c.recall for c in report.per_class}
    return {
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "positive_recall": recall.get("positive"),
    }


def run() -> dict[str, object]:
    labels = list(SENTIMENT_LABELS)
    encoder = load_encoder(Settings())
    progress = Progress()
    sets: dict[str, Dataset] = {
        "tweets": tweet_sentiment(),
        "distant": distant_finance_sentences(),
        "written": read_labelled_file(WRITTEN_FINANCE),
        "frozen": read_labelled_file(FROZEN),
        "headlines": read_labelled_file(HEADLINES),
    }
    parts = {name: encode_part(encoder, ds, labels, progress.update) for name, ds in sets.items()}
    tweets, written, distant = parts["tweets"], parts["written"], parts["distant"]
    written_x = replace(written, times=WRITTEN_TIMES)
    variants: dict[str, list[Part]] = {
        "tweets (the head shipped before 2026-12-02)": [tweets],
        "tweets + distant": [tweets, distant],
        "tweets + written": [tweets, written],
        f"tweets + written x{WRITTEN_TIMES}": [tweets, written_x],
        f"tweets + distant + written x{WRITTEN_TIMES} (shipped)": [tweets, distant, written_x],
        "written only": [written],
    }
    spec = HeadSpec(in_dim=tweets.x.shape[1], labels=labels)
    rows: dict[str, object] = {
        "sizes": {name: len(ds.texts) for name, ds in sets.items()},
        "written_sha256": sets["written"].sha256,
        "frozen_sha256": sets["frozen"].sha256,
    }
    for name, mix in variants.items():
        head, _ = train_head(spec, *stack(mix, "train"), *stack(mix, "val"))

        def measure(xm: torch.Tensor, ym: np.ndarray, h=head) -> dict[str, object]:
            return _summary(evaluate(ym, h.probabilities(xm).numpy(), labels))

        rows[name] = {
            "tweets": measure(*tweets.rows("test")),
            "written_held_out": measure(*written.rows("test")),
            "frozen": measure(parts["frozen"].x, parts["frozen"].y),
            "headlines45": measure(parts["headlines"].x, parts["headlines"].y),
        }
        progress.update(f"{name}: {rows[name]}", final=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", metavar="FILE", help="also write the result here")
    args = p.parse_args()
    text = json.dumps(run(), indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
