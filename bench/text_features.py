"""What the heads read: a pass over the whole text, or features pooled from its passages?

Issue #17: the engine encoded every text twice, once whole (for the heads) and once cut into
passages (for matching, entity sentiment and summaries). This measures, with the heads and
topic prototypes as shipped, three ways of giving a text its features:

- **text pass**: one forward pass over the text, truncated at the encoder's max length;
- **all passages** (what the engine runs): `models.passages.text_features` over every passage
  of the text;
- **first window**: the same, over the passages that begin within the text's first max-length
  tokens (what a pass over the text reads).

On the frozen sets (data/eval: financial sentiment, topics), on 37 of the 38 news bodies of
data/eval/news_summaries_en.jsonl read as topic items (their `category` mapped once to a
topics.yaml topic, below), and on the news-topic head's held-out split (1,119 long articles;
`--quick` leaves it out: it is most of the run). Where `argus models e5` has made the
multilingual encoder, its heads are measured too, on the Chinese sets as well. Nothing here
was tuned on any of these sets.

    python -m bench.text_features [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models.engine import ScoringEngine
from models.evaluate import evaluate
from models.passages import encode_texts
from models.scorers import Classifier, Encoded, SentenceEncoder
from models.train import DEFAULT_HEADS, split_indices
from streams.contracts.settings import Settings
from streams.watchlist import load_watchlist

EVAL = Path(__file__).resolve().parent.parent / "data" / "eval"
# news_summaries_en.jsonl's categories as topics.yaml topics; "contract" has none.
SUMMARY_TOPICS = {
    "litigation": "litigation-ip",
    "patent": "litigation-ip",
    "trademark": "litigation-ip",
    "earnings": "earnings-guidance",
    "guidance": "earnings-guidance",
    "regulation": "regulation-enforcement",
    "financing": "financing-credit",
    "capital_return": "financing-credit",
    "deal": "mergers-acquisitions",
    "product": "product-launch-recall",
    "recall": "product-launch-recall",
    "labour": "labour",
    "esg": "esg",
    "cyber": "cyber-outage",
    "management": "management-governance",
}
Features = Callable[[SentenceEncoder, list[str]], Encoded]


def by_text_pass(encoder: SentenceEncoder, texts: list[str]) -> Encoded:
    return encoder.encode(texts)


def first_window(encoder: SentenceEncoder, texts: list[str]) -> Encoded:
    return encode_texts(encoder, texts, window=encoder.loaded.max_length - 2)  # less [CLS], [SEP]


WAYS: dict[str, Features] = {
    "text pass": by_text_pass,
    "all passages (runs)": encode_texts,
    "first window": first_window,
}


def rows(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (EVAL / name).read_text().splitlines() if line.strip()]


def sets(
    engine: ScoringEngine, files: tuple[str, ...], quick: bool
) -> list[tuple[str, Classifier, list[str], list[str]]]:
    """(name, classifier, texts, gold labels) per set."""
    out = []
    for name in files:
        clf = engine.sentiment if name.startswith("finance_sentiment") else engine.topic
        data = rows(name)
        out.append((name, clf, [r["text"] for r in data], [r["label"] for r in data]))
    news = [r for r in rows("news_summaries_en.jsonl") if r["category"] in SUMMARY_TOPICS]
    out.append(
        (
            "news_summaries_en.jsonl as topics",
            engine.topic,
            [f"{r['title']}\n\n{r['body']}" for r in news],
            [SUMMARY_TOPICS[r["category"]] for r in news],
        )
    )
    head = engine.heads.get("news-topic")
    if not quick and head is not None:
        ds = DEFAULT_HEADS["news-topic"]()
        picked = [int(i) for i in split_indices(ds.label_ids(head.labels)).test]
        texts, labels = [ds.texts[i] for i in picked], [ds.labels[i] for i in picked]
        out.append(("news-topic held out", head, texts, labels))
    return out


def run(quick: bool) -> list[dict[str, object]]:
    """Each set with the default encoder, then with the multilingual one where `argus models
    e5` has made it (the Chinese sets too)."""
    settings = Settings(device="auto")
    # As a worker builds it: watch-list names masked in the topic prototypes' examples.
    tagger = load_watchlist(settings.watchlist_path)
    engine = ScoringEngine.from_settings(
        settings, portfolio_items=[], find_mentions=tagger.mentions
    )
    english = ("finance_sentiment_en.jsonl", "topics_en.jsonl")
    chinese = ("finance_sentiment_zh.jsonl", "topics_zh.jsonl")
    runs = [(engine, sets(engine, english, quick))]
    if engine.multilingual is not None:
        runs.append((engine.multilingual, sets(engine.multilingual, chinese + english, True)))
    results = []
    for scorer, scored_sets in runs:
        for name, clf, texts, gold in scored_sets:
            y = [clf.labels.index(label) for label in gold]
            for way, features in WAYS.items():
                started = time.perf_counter()
                encoded = engine.on_model_thread(
                    lambda f=features, t=texts, e=scorer.encoder: f(e, t)  # type: ignore[misc]
                )
                seconds = time.perf_counter() - started
                report = evaluate(y, np.asarray(clf.predict(texts, encoded)), clf.labels)
                row = {
                    "encoder": scorer.encoder.version,
                    "set": name,
                    "n": len(texts),
                    "features": way,
                    "accuracy": round(report.accuracy, 3),
                    "macro_f1": round(report.macro_f1, 3),
                    "encode_s": round(seconds, 1),
                }
                results.append(row)
                print(
                    f"{scorer.encoder.version.split('@')[0]:24} {name:34} {way:20} accuracy "
                    f"{report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}  ({len(texts)} texts, "
                    f"{seconds:.1f} s)",
                    flush=True,
                )
    engine.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="without the news-topic split")
    parser.add_argument("--json", type=Path, help="write the rows here as JSON")
    args = parser.parse_args()
    results = run(args.quick)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
