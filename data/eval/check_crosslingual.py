"""Validate data/eval/crosslingual_matching.jsonl (stdlib only).

    python data/eval/check_crosslingual.py

Checks: every line is a JSON object with the expected fields and allowed values; ids are
unique; every item_id exists in data/samples/portfolio.jsonl or among the zh_portfolio_item
rows; every English portfolio item has its three Chinese positives and a Chinese hard
negative; no duplicate texts; no Chinese row shares a run of 12+ characters (and no English
row a run of 8+ words) with the other files in data/eval/*.jsonl; no control shares a long
run with a positive or a portfolio item. Prints the counts as a markdown table and exits 1 on
any error.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

EVAL = Path(__file__).resolve().parent
ROOT = EVAL.parent.parent
DATA = EVAL / "crosslingual_matching.jsonl"
PORTFOLIO = ROOT / "data" / "samples" / "portfolio.jsonl"

CORE = ["id", "item_id", "language", "kind", "text", "label", "en"]
POSITIVE = {"translation", "partial_translation", "paraphrase_translation"}
CONTROL = {"unrelated_same_domain", "unrelated"}
PF_KIND = "zh_portfolio_item"
EXTRA = {  # fields allowed beyond CORE, by kind
    "unrelated_same_domain": {"near_item"},
    PF_KIND: {"item_kind", "owner", "title"},
}
ITEM_KINDS = {"patent_claim", "trademark", "copyright"}
ID_RE = re.compile(r"^(xl-\d{4}|zh-pf-[1-9])$")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
ZH_RUN = 12  # characters
EN_RUN = 8  # words
CONTROL_ZH_RUN = 10  # a control may not share this many characters with a positive
CONTROL_EN_RUN = 6  # ... or this many words
# Traditional forms whose simplified form is common: none should appear.
TRADITIONAL = set(
    "們這說個來為時會對於與後點開關電車馬號學體機發經過還進長間問題見聽讀寫萬黃線網際鐘錶鳥龍門雲風燈園藥壓層溫濕"
)


def grams(text: str, n: int) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def word_grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def main() -> int:
    errors: list[str] = []
    portfolio = {}
    for line in PORTFOLIO.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            portfolio[item["id"]] = item

    rows = []
    for n, line in enumerate(DATA.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: not JSON ({exc})")
            continue
        if not isinstance(row, dict):
            errors.append(f"line {n}: not an object")
            continue
        rows.append(row)

    ids = Counter(r.get("id") for r in rows)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    pf_ids = {r["id"] for r in rows if r.get("kind") == PF_KIND}

    for r in rows:
        rid = r.get("id")
        kind = r.get("kind")
        missing = [k for k in CORE if k not in r]
        extra = set(r) - set(CORE) - EXTRA.get(kind, set())
        if missing or extra:
            errors.append(f"{rid}: missing {missing} / unexpected {sorted(extra)}")
            continue
        if not isinstance(rid, str) or not ID_RE.match(rid):
            errors.append(f"{rid}: bad id")
        if r["language"] not in ("zh", "en"):
            errors.append(f"{rid}: bad language {r['language']!r}")
        if not isinstance(r["text"], str) or not r["text"].strip():
            errors.append(f"{rid}: empty text")
            continue
        text = r["text"]
        has_cjk = bool(CJK.search(text))
        if (r["language"] == "zh") != has_cjk:
            errors.append(f"{rid}: language {r['language']} but CJK={has_cjk}")
        if r["language"] == "zh":
            if not (isinstance(r["en"], str) and r["en"].strip()):
                errors.append(f"{rid}: Chinese row without an en gloss")
            trad = sorted(set(text) & TRADITIONAL)
            if trad:
                errors.append(f"{rid}: traditional characters {trad}")
        elif r["en"] is not None:
            errors.append(f"{rid}: English row should have en = null")

        if kind in POSITIVE:
            if r["label"] != 1:
                errors.append(f"{rid}: {kind} must have label 1")
            if r["item_id"] not in portfolio and r["item_id"] not in pf_ids:
                errors.append(f"{rid}: unknown item_id {r['item_id']!r}")
            elif r["language"] == "zh" and r["item_id"] not in portfolio:
                errors.append(f"{rid}: a Chinese positive must copy an English portfolio item")
            elif r["language"] == "en" and r["item_id"] not in pf_ids:
                errors.append(f"{rid}: an English positive must copy a zh-pf item")
            if not rid.startswith("xl-"):
                errors.append(f"{rid}: rows other than zh-pf items use xl- ids")
        elif kind in CONTROL:
            if r["label"] != 0 or r["item_id"] is not None:
                errors.append(f"{rid}: a control has label 0 and item_id null")
            if kind == "unrelated_same_domain":
                near = r.get("near_item")
                if near not in portfolio and near not in pf_ids:
                    errors.append(f"{rid}: near_item {near!r} unknown")
                elif (r["language"] == "zh") != (near in portfolio):
                    errors.append(f"{rid}: near_item {near} in the wrong direction")
        elif kind == PF_KIND:
            if r["label"] is not None or r["item_id"] != rid or r["language"] != "zh":
                errors.append(
                    f"{rid}: a zh_portfolio_item has label null, item_id = id, language zh"
                )
            if r.get("item_kind") not in ITEM_KINDS or not r.get("owner") or not r.get("title"):
                errors.append(f"{rid}: item_kind/owner/title missing or bad")
        else:
            errors.append(f"{rid}: bad kind {kind!r}")

    # Coverage: each English portfolio item has one of each Chinese positive and a hard
    # negative; each zh-pf item has an English translation and an English hard negative.
    have = Counter((r.get("item_id") or r.get("near_item"), r["kind"]) for r in rows if "kind" in r)
    for iid in portfolio:
        for kind in (*sorted(POSITIVE), "unrelated_same_domain"):
            if have[(iid, kind)] != 1:
                errors.append(f"{iid}: {have[(iid, kind)]} rows of {kind}, want 1")
    for pid in pf_ids:
        for kind in ("translation", "unrelated_same_domain"):
            if have[(pid, kind)] != 1:
                errors.append(f"{pid}: {have[(pid, kind)]} rows of {kind}, want 1")
    unrel = Counter(r["language"] for r in rows if r.get("kind") == "unrelated")
    if unrel["zh"] < 20 or unrel["en"] < 15:
        errors.append(f"too few unrelated rows: {dict(unrel)}")

    # Duplicates, exact and after removing spaces and punctuation.
    norm = Counter(
        re.sub(r"[\W_]+", "", r["text"].lower()) for r in rows if isinstance(r.get("text"), str)
    )
    errors += [f"duplicate text: {t[:40]}" for t, c in norm.items() if c > 1]

    # Overlap with the other evaluation files.
    other_zh: set[str] = set()
    other_en: set[tuple[str, ...]] = set()
    for path in sorted(EVAL.glob("*.jsonl")):
        if path == DATA:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            for s in strings(json.loads(line)):
                if CJK.search(s):
                    other_zh |= grams(s, ZH_RUN)
                else:
                    other_en |= word_grams(s, EN_RUN)
    for r in rows:
        if not isinstance(r.get("text"), str):
            continue
        if r.get("language") == "zh":
            hit = grams(r["text"], ZH_RUN) & other_zh
        else:
            hit = word_grams(r["text"], EN_RUN) & other_en
        if hit:
            errors.append(f"{r['id']}: shares a long run with another eval file: {sorted(hit)[0]}")

    # Controls must not copy any positive or portfolio item.
    copies = [r for r in rows if r.get("kind") in POSITIVE | {PF_KIND}]
    pos_zh = set().union(
        *(grams(r["text"], CONTROL_ZH_RUN) for r in copies if r["language"] == "zh")
    )
    pos_en = set().union(
        *(word_grams(r["text"], CONTROL_EN_RUN) for r in copies if r["language"] == "en")
    )
    for item in portfolio.values():
        pos_en |= word_grams(item["text"], CONTROL_EN_RUN)
    for r in rows:
        if r.get("kind") not in CONTROL:
            continue
        if r["language"] == "zh":
            hit = grams(r["text"], CONTROL_ZH_RUN) & pos_zh
        else:
            hit = word_grams(r["text"], CONTROL_EN_RUN) & pos_en
        if hit:
            errors.append(f"{r['id']}: control shares a run with a positive: {sorted(hit)[0]}")

    # Counts.
    counts = Counter((r.get("kind"), r.get("language"), r.get("label")) for r in rows)
    order = [
        "translation",
        "partial_translation",
        "paraphrase_translation",
        "unrelated_same_domain",
        "unrelated",
        PF_KIND,
    ]
    print("| kind | language | label | rows |")
    print("|---|---|---|---:|")
    for kind in order:
        for (k, lang, label), c in sorted(
            counts.items(), key=lambda x: (x[0][1] != "zh", str(x[0][2]))
        ):
            if k == kind:
                print(f"| {k} | {lang} | {'null' if label is None else label} | {c} |")
    labels = Counter(r.get("label") for r in rows)
    print(f"| **all** | | 1: {labels[1]}, 0: {labels[0]}, null: {labels[None]} | **{len(rows)}** |")

    if errors:
        print(f"\n{len(errors)} error(s):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
