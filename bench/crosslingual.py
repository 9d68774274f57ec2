"""Cross-lingual infringement: are translated copies of portfolio items found?

Data: data/eval/crosslingual_matching.jsonl (frozen; data/eval/README-crosslingual.md).
Chinese translations, partial translations and translated paraphrases of the English
portfolio in data/samples/portfolio.jsonl, same-domain Chinese texts that copy nothing, and
unrelated texts; in reverse, English translations of five Chinese portfolio-like items.
A copy's score is its soft-coverage match (models.portfolio) against the item it copies; a
control's, its best match against any item. ROC-AUC of copies against controls, overall,
per kind of copy and per direction, for the encoder of ARGUS_ENCODER_PATH (default MiniLM).

The infringement score's calibration for cross-lingual matches is fitted on another, written
set (`--fit`: data/train/crosslingual_calibration.jsonl, other items, other copies), never on
this one; the report judges the encoder's calibration here (Brier score, precision and recall
where the calibrated probability reaches 0.5 and the shipped rule's threshold).

    python -m bench.crosslingual [--json FILE]
    ARGUS_ENCODER_PATH=.argus/encoders/multilingual-e5-small python -m bench.crosslingual
    ARGUS_ENCODER_PATH=.argus/encoders/multilingual-e5-small python -m bench.crosslingual --fit
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench.matching import fit_logistic, roc_auc
from models.matching import MINILM_CALIBRATION, infringement_score
from models.portfolio import Portfolio, PortfolioItem, read_portfolio
from models.train import load_encoder
from streams.contracts.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "data"
SET = DATA / "eval" / "crosslingual_matching.jsonl"
FIT_SET = DATA / "train" / "crosslingual_calibration.jsonl"
RULE_THRESHOLD = 90.0  # rules/portfolio-infringement.yaml: portfolio.infringement_score
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


def read_rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def calibration_report(probability: np.ndarray, copy: np.ndarray) -> dict[str, object]:
    """How well 0-100 infringement scores of labelled texts say which are copies."""
    out: dict[str, object] = {"brier": round(float(((probability / 100 - copy) ** 2).mean()), 4)}
    for at in (50.0, RULE_THRESHOLD):
        hit = probability >= at
        out[f"at_{at:g}"] = {
            "precision": round(float(copy[hit].mean()), 4) if hit.any() else None,
            "recall": round(float(hit[copy].mean()), 4),
        }
    return out


def fit(settings: Settings) -> dict[str, object]:
    """The logistic of P(copy) on the calibration set's soft coverage (copies: against their
    own item; controls: their best item), for `models.e5.MATCHING_CALIBRATION`."""
    rows = read_rows(FIT_SET)
    encoder = load_encoder(settings)
    items = [
        PortfolioItem(id=str(r["id"]), kind=str(r["item_kind"]), text=str(r["text"]))
        for r in rows
        if r["kind"] == "item"
    ]
    labelled = [r for r in rows if r["kind"] != "item"]
    own, best = scores(Portfolio(items, encoder), labelled)
    copy = np.array([r["item_id"] is not None for r in labelled])
    x = np.where(copy, own, best)
    a, b = fit_logistic(x, copy.astype(float))
    return {
        "encoder": encoder.version,
        "set": FIT_SET.name,
        "copies": int(copy.sum()),
        "controls": int((~copy).sum()),
        "roc_auc": round(roc_auc(own[copy], best[~copy]), 4),
        "slope": round(a, 2),
        "intercept": round(b, 2),
        "score_at_p50": round(-b / a, 3),
    }


def run(settings: Settings) -> dict[str, object]:
    rows = read_rows(SET)
    encoder = load_encoder(settings)
    calibration = encoder.loaded.matching_calibration or MINILM_CALIBRATION
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
            "calibration": calibration_report(
                np.array([infringement_score(v, calibration) for v in np.where(copy, own, best)]),
                copy,
            ),
        }
        out[direction] = result
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", metavar="FILE", help="also write the result here")
    p.add_argument("--fit", action="store_true", help=f"fit the calibration on {FIT_SET.name}")
    args = p.parse_args()
    result = fit(Settings()) if args.fit else run(Settings())
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
