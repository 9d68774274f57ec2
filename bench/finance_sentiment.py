"""Which training data gives a sentiment head a market-risk desk can alert on?

Each variant trains the default sentiment head (same encoder features, architecture and seed)
on another mix of data, stops early on the validation rows of what it trains on, and is
measured on:

- the held-out tweets (the social-text target: macro-F1 >= 0.77);
- the held-out fifths of data/train/finance_sentiment_en.jsonl and of its second batch
  finance_sentiment_en_b.jsonl, the project's written training sets: their union is the one
  figure a variant may be chosen by;
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
from models.direction import FEATURES as DIRECTION_CUES
from models.evaluate import EvalReport, evaluate
from models.finance import distant_finance_sentences
from models.heads import Head, HeadSpec, head_inputs, train_head
from models.scorers import SENTIMENT_LABELS
from models.train import (
    WRITTEN_FINANCE,
    WRITTEN_FINANCE_B,
    WRITTEN_TIMES,
    Part,
    Split,
    encode_part,
    load_encoder,
    stack,
)
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
        "written_b": read_labelled_file(WRITTEN_FINANCE_B),
        "frozen": read_labelled_file(FROZEN),
        "headlines": read_labelled_file(HEADLINES),
    }
    plain = {name: encode_part(encoder, ds, labels, progress.update) for name, ds in sets.items()}
    cued = {  # the same rows with the direction cues appended
        name: replace(p, x=head_inputs(DIRECTION_CUES, p.x, p.texts)) for name, p in plain.items()
    }

    def mix(parts: dict[str, Part], *names: str) -> list[Part]:
        """The named parts; "written" and "written_b" training rows WRITTEN_TIMES over
        except in the one row that shows what the repetition does."""
        return [
            replace(parts[n], times=WRITTEN_TIMES) if n in repeated else parts[n] for n in names
        ]

    repeated = {"written", "written_b"}
    before = ("tweets", "distant", "written")
    x8 = f"written x{WRITTEN_TIMES}"
    variants: dict[str, tuple[list[Part], str | None, bool]] = {
        "tweets (the head shipped before 2026-12-02)": (mix(plain, "tweets"), None, False),
        "tweets + distant": (mix(plain, "tweets", "distant"), None, False),
        "tweets + written": ([plain["tweets"], plain["written"]], None, False),
        f"tweets + {x8}": (mix(plain, "tweets", "written"), None, False),
        f"tweets + distant + {x8} (shipped before the cues)": (
            mix(plain, *before),
            None,
            False,
        ),
        "written only": ([plain["written"]], None, False),
        "the above + direction rules": (mix(plain, *before), None, True),
        "the above + direction features": (mix(cued, *before), DIRECTION_CUES, False),
        "the above + direction features and rules": (mix(cued, *before), DIRECTION_CUES, True),
        f"the above + written b x{WRITTEN_TIMES}, features and rules (shipped)": (
            mix(cued, *before, "written_b"),
            DIRECTION_CUES,
            True,
        ),
        f"the above + written b x{WRITTEN_TIMES}, features, no rules": (
            mix(cued, *before, "written_b"),
            DIRECTION_CUES,
            False,
        ),
        f"tweets + distant + {x8} + written b x{WRITTEN_TIMES}, no cues": (
            mix(plain, *before, "written_b"),
            None,
            False,
        ),
    }
    rows: dict[str, object] = {
        "sizes": {name: len(ds.texts) for name, ds in sets.items()},
        "sha256": {name: sets[name].sha256 for name in ("written", "written_b", "frozen")},
    }
    for name, (parts, cues, rules) in variants.items():
        spec = HeadSpec(
            in_dim=parts[0].x.shape[1],
            labels=labels,
            text_features=cues,
            rules=DIRECTION_CUES if rules else None,
        )
        head, _ = train_head(spec, *stack(parts, "train"), *stack(parts, "val"))
        sets_of = cued if cues else plain

        def measure(part: Part, which: str | None = None, h: Head = head) -> dict[str, object]:
            y = part.y if which is None else part.y[getattr(part.split, which)]
            return _summary(evaluate(y, part.predict(h, which), labels))

        written_both = _union_test(sets_of["written"], sets_of["written_b"])
        rows[name] = {
            "tweets": measure(sets_of["tweets"], "test"),
            "written_held_out": measure(sets_of["written"], "test"),
            "written_b_held_out": measure(sets_of["written_b"], "test"),
            "both_written_held_out": measure(written_both),
            "frozen": measure(sets_of["frozen"]),
            "headlines45": measure(sets_of["headlines"]),
        }
        progress.update(f"{name}: {rows[name]}", final=True)
    return rows


def _union_test(a: Part, b: Part) -> Part:
    """The held-out rows of both written sets as one part: what a variant is chosen by."""
    ia, ib = a.split.test, b.split.test
    n = len(ia) + len(ib)
    return Part(
        torch.cat([a.x[ia], b.x[ib]]),
        np.concatenate([a.y[ia], b.y[ib]]),
        Split(np.arange(0), np.arange(0), np.arange(n)),
        [a.texts[i] for i in ia] + [b.texts[i] for i in ib],
    )


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
