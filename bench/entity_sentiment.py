"""Sentiment per entity on data/eval/entity_sentiment_en.jsonl (frozen, 143 judgments).

Three ways of judging an entity, by the engine's own sentiment head:

- document: the document's label for every entity it mentions (Argus before 2026-12-02);
- sentence: the mean over the sentences that mention the entity;
- clause (what workers run): as sentence, but a sentence naming several entities is cut
  where each entity's mention starts (models/entity_sentiment.py).

The set was frozen before this code was written and is used for measuring only.

    python -m bench.entity_sentiment [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path
from unittest import mock

import numpy as np

from models import entity_sentiment
from models.engine import ScoringEngine
from models.evaluate import evaluate
from models.scorers import SENTIMENT_LABELS
from streams.contracts.settings import Settings
from streams.watchlist import Entity, Tagger

SET = Path(__file__).resolve().parent.parent / "data" / "eval" / "entity_sentiment_en.jsonl"
TICKER = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")


def tagger_for(rows: list[dict[str, str]]) -> Tagger:
    """The judged entities as a watch list: names, and the aliases or tickers the texts use."""
    aliases: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        aliases[r["entity"]] |= {r["alias"]} if "alias" in r else set()
    entities = []
    for name, names in sorted(aliases.items()):
        tickers = sorted(a for a in names if TICKER.match(a))
        entities.append(
            Entity(
                name=name,
                ticker=tickers[0] if tickers else None,
                aliases=sorted(names - set(tickers)),
            )
        )
    return Tagger(entities)


def _whole_sentences(mentions: list[entity_sentiment.Mention], length: int):
    """The "sentence" variant of `clause_spans`: every entity gets the whole sentence."""
    return [(entity, 0, length) for entity in dict.fromkeys(m[2] for m in mentions)]


def run(settings: Settings) -> dict[str, object]:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]
    tagger = tagger_for(rows)
    engine = ScoringEngine.from_settings(
        settings, portfolio_items=[], find_mentions=tagger.mentions
    )
    texts = list(dict.fromkeys(r["text"] for r in rows))
    labels = list(SENTIMENT_LABELS)
    gold = np.array([labels.index(r["label"]) for r in rows])
    predicted: dict[str, dict[tuple[str, str], str]] = {}
    scores = engine.score_texts(texts)
    predicted["document"] = {
        (t, e): s.sentiment.label for t, s in zip(texts, scores, strict=True) for e in tagger.tag(t)
    }
    with mock.patch.object(entity_sentiment, "clause_spans", _whole_sentences):
        by_sentence = engine.score_texts(texts)
    for name, scored in (("sentence", by_sentence), ("clause", scores)):
        predicted[name] = {
            (t, v.entity): v.label
            for t, s in zip(texts, scored, strict=True)
            for v in s.entity_sentiment
        }
    out: dict[str, object] = {
        "set": SET.name,
        "judgments": len(rows),
        "sentiment_head": engine.versions["sentiment"],
    }
    for name, found in predicted.items():
        # An entity the tagger missed counts as wrong: scored neither way.
        guess = [found.get((r["text"], r["entity"])) for r in rows]
        probs = np.zeros((len(rows), len(labels)))
        for i, g in enumerate(guess):
            if g is not None:
                probs[i, labels.index(g)] = 1.0
        report = evaluate(gold, probs, labels)
        per_group = {}
        for group in sorted({r["group"] for r in rows}):
            idx = [i for i, r in enumerate(rows) if r["group"] == group]
            per_group[group] = round(float(np.mean([guess[i] == rows[i]["label"] for i in idx])), 3)
        out[name] = {
            "accuracy": report.accuracy,
            "macro_f1": report.macro_f1,
            "untagged": sum(g is None for g in guess),
            "accuracy_by_group": per_group,
        }
    engine.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", metavar="FILE", help="also write the result here")
    args = p.parse_args()
    text = json.dumps(run(Settings()), indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
