"""Cross-lingual infringement: are translated copies of portfolio items found?

Data: data/eval/crosslingual_matching.jsonl (frozen; data/eval/README-crosslingual.md).
Chinese translations, partial translations and translated paraphrases of the English
portfolio in data/samples/portfolio.jsonl, same-domain Chinese texts that copy nothing, and
unrelated texts; in reverse, English translations of five Chinese portfolio-like items.
A copy's score is its soft-coverage match (models.portfolio) against the item it copies; a
control's, its best match against any item. ROC-AUC of copies against controls, overall,
per kind of copy and per direction, for the encoder of ARGUS_ENCODER_PATH (default MiniLM).

    python -m bench.crosslingual [--json FILE]
    ARGUS_ENCODER_PATH=.argus/encoders/multilingual-e5-small python -m bench.crosslingual
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench.matching import roc_auc
from models.portfolio import Portfolio, PortfolioItem, read_portfolio
from models.train import load_encoder
from streams.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "data"
SET = DATA / "eval" / "crosslingual_matching.jsonl"
PORTFOLIO = DATA / "samples" / "portfolio.jsonl"


def scores(portfolio: Portfolio, rows: list[dict[str, object]]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: its score against its own item (copies) and its best score (all rows)."""
    ids = [i.id for i in portfolio.items]
    matches = portfolio.match([str(r["text"]) for r in rows], len(ids), 2.0, 1.0)
    own, best = np.zeros(len(rows)), np.zeros(len(rows))
    for n, (row, found) in enumerate(zip(rows, matches, strict=True)):
        by_id = {m.item_id: m.score for m in found}
        best[n] = max(by_id.values())
        own[n] = by_id.get(str(row["item_id"]), 0.0) if row["item_id"] else 0.0
    return own, best


def run(settings: Settings) -> dict[str, object]:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]
    encoder = load_encoder(settings)
    out: dict[str, object] = {"encoder": encoder.version, "set": SET.name}
    zh_items = [
        PortfolioItem(id=str(r["id"]), kind="copyright", text=str(r["text"]))
        for r in rows
        if r["kind"] == "zh_portfolio_item"
    ]
    zh_ids = {i.id for i in zh_items}
    for direction, items, labelled in (
        (
            "en items, zh texts",
            read_portfolio(PORTFOLIO),
            [r for r in rows if r["language"] == "zh"],
        ),
        ("zh items, en texts", zh_items, [r for r in rows if r["language"] == "en"]),
    ):
        labelled = [r for r in labelled if r["label"] is not None]
        if direction.startswith("en"):
            labelled = [r for r in labelled if r["item_id"] not in zh_ids]
        own, best = scores(Portfolio(items, encoder), labelled)
        copy = np.array([r["label"] == 1 for r in labelled])
        kinds = np.array([r["kind"] for r in labelled])
        hard = kinds == "unrelated_same_domain"
        result: dict[str, object] = {
            "copies": int(copy.sum()),
            "controls": int((~copy).sum()),
            "roc_auc": round(roc_auc(own[copy], best[~copy]), 4),
            "roc_auc_vs_same_domain": round(roc_auc(own[copy], best[hard]), 4)
            if hard.any()
            else None,
            "by_kind": {
                str(k): round(roc_auc(own[kinds == k], best[~copy]), 4)
                for k in sorted(set(kinds[copy]))
            },
            "copy_score_median": round(float(np.median(own[copy])), 4),
            "control_score_median": round(float(np.median(best[~copy])), 4),
        }
        out[direction] = result
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", metavar="FILE", help="also write the result here")
    args = p.parse_args()
    text = json.dumps(run(Settings()), indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
