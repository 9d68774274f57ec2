"""Does distant-supervision finance data help a sentiment head on plain financial headlines?

Trains the default sentiment head twice on the same encoder features — tweets only, and
tweets plus the lexicon-labelled finance sentences of `models.finance` — and evaluates
both on the held-out tweets and on data/finance_headlines.jsonl (45 plain headlines,
15 per class, written for this check).

    python -m bench.finance_sentiment [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from models.datasets import read_labelled_file, tweet_sentiment
from models.evaluate import evaluate
from models.finance import distant_finance_sentences
from models.heads import HeadSpec, train_head
from models.scorers import SENTIMENT_LABELS
from models.train import load_encoder, split_indices
from streams.progress import Progress
from streams.settings import Settings

HEADLINES = Path(__file__).resolve().parent.parent / "data" / "finance_headlines.jsonl"


def run() -> dict[str, object]:
    labels = list(SENTIMENT_LABELS)
    encoder = load_encoder(Settings())
    progress = Progress()
    tweets, finance, headlines = (
        tweet_sentiment(),
        distant_finance_sentences(),
        read_labelled_file(HEADLINES),
    )
    progress.update(f"encoding {len(tweets.texts)} tweets, {len(finance.texts)} finance sentences")
    x_t = encoder.encode(tweets.texts).features
    x_f = encoder.encode(finance.texts).features
    x_h = encoder.encode(headlines.texts).features
    y_t, y_f, y_h = (d.label_ids(labels) for d in (tweets, finance, headlines))
    split = split_indices(y_t)
    spec = HeadSpec(in_dim=x_t.shape[1], labels=labels)
    variants = {
        "tweets": (x_t[split.train], y_t[split.train]),
        "tweets+finance": (
            torch.cat([x_t[split.train], x_f]),
            np.concatenate([y_t[split.train], y_f]),
        ),
    }
    result: dict[str, object] = {
        "finance_sentences": {lab: int((y_f == i).sum()) for i, lab in enumerate(labels)},
    }
    for name, (x, y) in variants.items():
        head, _ = train_head(spec, x, y, x_t[split.val], y_t[split.val])
        on_tweets = evaluate(y_t[split.test], head.probabilities(x_t[split.test]).numpy(), labels)
        on_headlines = evaluate(y_h, head.probabilities(x_h).numpy(), labels)
        result[name] = {
            "tweets_macro_f1": on_tweets.macro_f1,
            "headlines_macro_f1": on_headlines.macro_f1,
            "headlines_accuracy": on_headlines.accuracy,
            "headlines_confusion": on_headlines.confusion,
        }
        progress.update(f"{name}: {result[name]}", final=True)
    return result


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
