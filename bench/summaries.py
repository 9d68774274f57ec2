"""Extractive summaries against lead-3: ROUGE-1/2/L F1 on aclsum and on written news.

Two sets:

- aclsum (PyPI `aclsum`, `pip install 'argus[data]'`): 250 ACL papers (abstract, introduction
  and conclusion, sentence-split by the set), each with three one-sentence summaries written by
  annotators (challenge, approach, outcome); their concatenation is the reference. Its train
  and validation splits (150 papers) are the only rows any choice is made on: the grid of
  methods below picks the default there; its test split (100) is reported;
- data/eval/news_summaries_en.jsonl (frozen, 38 articles, reference summaries written for the
  project): reported, never used to choose anything.

Each text is read as the worker reads it (title line, then body) and cut into the passages the
engine already encodes (`models.passages.passages_of`). Methods, each picking
`summary_length(n)` sentences (three on these sets but for the shortest articles):

- lead: the first sentences;
- centroid: the nearest the text's centroid (`Method(relevance=1, lead_bonus=0)`);
- mmr λ: greedy, λ·cosine to centroid − (1 − λ)·max cosine to a sentence already picked;
- + lead bonus b: b / (1 + position) added to the cosine (a position prior).

Units are compared for the default: the set's own sentences encoded one by one (an extra
encoder pass; news: split at sentence ends), the raw passages (claim elements and clauses at
`;`/`:`), and the engine's sentences rebuilt from passages (no extra pass).

ROUGE here is the plain kind, written out below: lower-cased word tokens ([a-z0-9]+), no
stemming, no stop words removed; ROUGE-L is the LCS of the whole summary and reference.

    python -m bench.summaries [--json FILE] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from models.engine import ScoringEngine
from models.passages import passages_of
from models.scorers import SentenceEncoder
from models.summaries import (
    DEFAULT,
    Method,
    headings,
    pick,
    sentences,
    summarise,
    summary_length,
)
from streams.contracts.settings import Settings

NEWS = Path(__file__).resolve().parent.parent / "data" / "eval" / "news_summaries_en.jsonl"
_TOKEN = re.compile(r"[a-z0-9]+")
# The news set's sentence ends: end punctuation (a closing quote may follow) before a capital.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”]))\s+(?=[A-Z\"“])")

# The grid the default is chosen from, on aclsum train + validation only.
RELEVANCE = (1.0, 0.9, 0.8, 0.7, 0.5)
LEAD_BONUS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _ngrams(words: list[str], n: int) -> dict[tuple[str, ...], int]:
    out: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        key = tuple(words[i : i + n])
        out[key] = out.get(key, 0) + 1
    return out


def _f1(overlap: float, found: int, wanted: int) -> float:
    if not overlap:
        return 0.0
    p, r = overlap / found, overlap / wanted
    return 2 * p * r / (p + r)


def _lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], diagonal + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def rouge(summary: str, reference: str) -> tuple[float, float, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of `summary` against one reference."""
    s, r = tokens(summary), tokens(reference)
    out = []
    for n in (1, 2):
        a, b = _ngrams(s, n), _ngrams(r, n)
        overlap = sum(min(c, b.get(g, 0)) for g, c in a.items())
        out.append(_f1(overlap, sum(a.values()), sum(b.values())))
    out.append(_f1(_lcs(s, r), len(s), len(r)))
    return out[0], out[1], out[2]


@dataclass(frozen=True)
class Doc:
    id: str
    text: str  # as the worker reads it: title line, then body
    own: list[str]  # the set's own sentences, title left out
    reference: str


@dataclass(frozen=True)
class Units:
    """A document's candidate sentences, their embeddings, which are headings (never
    picked; they count in the centroid)."""

    texts: list[str]
    embeddings: torch.Tensor
    heading: list[bool]

    def candidates(self) -> list[int]:
        return [i for i, h in enumerate(self.heading) if not h]


def aclsum_docs(split: str) -> list[Doc]:
    from aclsum import ACLSum

    docs = []
    for d in ACLSum(split):  # type: ignore[arg-type]
        own = d.get_all_sentences()
        reference = " ".join(d.summaries[a] for a in ("challenge", "approach", "outcome"))
        docs.append(Doc(d.id, f"{d.title}\n{' '.join(own)}", own, reference))
    return docs


def news_docs() -> list[Doc]:
    rows = [json.loads(x) for x in NEWS.read_text(encoding="utf-8").splitlines() if x]
    return [
        Doc(
            r["id"],
            f"{r['title']}\n{r['body']}",
            [s for s in _SENTENCE_END.split(r["body"].replace("\n\n", " ")) if s.strip()],
            r["summary"],
        )
        for r in rows
    ]


def units_of(encoder: SentenceEncoder, docs: list[Doc]) -> dict[str, list[Units]]:
    """Per way of cutting, each document's units. One encoder pass over the passages serves
    both passage-based ways (as in the engine); the set's sentences get a pass of their own."""
    passages = passages_of(encoder, [d.text for d in docs])
    flat = encoder.encode_tokens(passages.ids).embeddings
    own = encoder.encode([s for d in docs for s in d.own]).embeddings
    out: dict[str, list[Units]] = {"passages": [], "engine": [], "sentences": []}
    p = s = 0
    for d, cut in zip(docs, passages.per_text, strict=True):
        vectors = flat[p : p + len(cut)]
        p += len(cut)
        rebuilt = sentences(cut, vectors)
        out["engine"].append(Units(rebuilt.texts, rebuilt.embeddings, rebuilt.heading))
        out["passages"].append(Units(cut, vectors, headings(cut)))
        out["sentences"].append(Units(d.own, own[s : s + len(d.own)], [False] * len(d.own)))
        s += len(d.own)
    return out


Picker = Callable[[Units], list[int]]


def lead(u: Units) -> list[int]:
    rows = u.candidates()
    return rows[: summary_length(len(rows))]


def by(method: Method) -> Picker:
    def run(u: Units) -> list[int]:
        rows = u.candidates()
        return pick(u.embeddings, summary_length(len(rows)), method, rows)

    return run


def scores(picker: Picker, docs: Sequence[Doc], units: Sequence[Units]) -> list[list[float]]:
    out = []
    for d, u in zip(docs, units, strict=True):
        summary = " ".join(u.texts[i] for i in picker(u))
        out.append(list(rouge(summary, d.reference)))
    return out


def mean(rows: list[list[float]]) -> list[float]:
    return [round(sum(c) / len(rows), 4) for c in zip(*rows, strict=True)]


def named_methods(chosen: Method) -> dict[str, Picker]:
    return {
        "lead-3": lead,
        "centroid": by(Method(1.0, 0.0)),
        "mmr λ=0.85": by(Method(0.85, 0.0)),
        "mmr λ=0.7": by(Method(0.7, 0.0)),
        "mmr λ=0.5": by(Method(0.5, 0.0)),
        "centroid + lead bonus 0.1": by(Method(1.0, 0.1)),
        f"chosen: λ={chosen.relevance}, lead bonus {chosen.lead_bonus}": by(chosen),
    }


def run(settings: Settings, limit: int | None = None) -> dict[str, object]:
    engine = ScoringEngine.from_settings(settings, portfolio_items=[])
    encoder = engine.encoder
    sets = {
        "aclsum train+val": aclsum_docs("train") + aclsum_docs("val"),
        "aclsum test": aclsum_docs("test"),
        "news (written, 38)": news_docs(),
    }
    if limit:
        sets = {k: v[:limit] for k, v in sets.items()}
    units = {name: units_of(encoder, docs) for name, docs in sets.items()}
    tune = "aclsum train+val"

    # The default: the best of the grid on aclsum train+val, by the mean of the three F1s.
    grid = {
        (r, b): mean(scores(by(Method(r, b)), sets[tune], units[tune]["engine"]))
        for r in RELEVANCE
        for b in LEAD_BONUS
    }
    best = max(grid, key=lambda k: sum(grid[k]))
    chosen = Method(*best)
    out: dict[str, object] = {
        "encoder": encoder.version,
        "grid (aclsum train+val, engine units)": {
            f"λ={r}, bonus={b}": v for (r, b), v in grid.items()
        },
        "chosen": {"relevance": chosen.relevance, "lead_bonus": chosen.lead_bonus},
        "shipped default is the chosen one": chosen == DEFAULT,
    }
    table: dict[str, dict[str, list[float]]] = {}
    for label, picker in named_methods(chosen).items():
        table[label] = {
            name: mean(scores(picker, sets[name], units[name]["engine"])) for name in sets
        }
    out["methods (engine units)"] = table
    out["units (chosen method)"] = {
        cut: {name: mean(scores(by(chosen), sets[name], units[name][cut])) for name in sets}
        for cut in ("sentences", "passages", "engine")
    }
    out["units (lead-3)"] = {
        cut: {name: mean(scores(lead, sets[name], units[name][cut])) for name in sets}
        for cut in ("sentences", "passages", "engine")
    }
    # Bad rows: per set, how often the chosen method beats, ties or trails lead-3 (ROUGE-L),
    # and the news articles where it trails the most.
    news = "news (written, 38)"
    paired: dict[str, list[int]] = {}
    for name in sets:
        mine = scores(by(chosen), sets[name], units[name]["engine"])
        theirs = scores(lead, sets[name], units[name]["engine"])
        gaps = sorted(
            (round(m[2] - t[2], 4), d.id) for m, t, d in zip(mine, theirs, sets[name], strict=True)
        )
        paired[name] = [
            sum(g > 0 for g, _ in gaps),
            sum(g == 0 for g, _ in gaps),
            sum(g < 0 for g, _ in gaps),
        ]
        if name == news:
            out["news: chosen minus lead-3, ROUGE-L, worst five"] = gaps[:5]
    out["chosen beats / ties / trails lead-3 (ROUGE-L), per document"] = paired
    # The engine's own summaries are the module's on the same passages.
    texts = [d.text for d in sets[news]]
    scored = engine.score_texts(texts)
    cut = passages_of(encoder, texts)
    vectors = encoder.encode_tokens(cut.ids).embeddings
    expected, p = [], 0
    for own in cut.per_text:
        expected.append(summarise(own, vectors[p : p + len(own)]))
        p += len(own)
    out["news: engine summaries equal the module's"] = sum(
        s.summary == e for s, e in zip(scored, expected, strict=True)
    )
    engine.close()
    return out


def print_table(result: dict[str, object]) -> None:
    sets = None
    for section in ("methods (engine units)", "units (chosen method)", "units (lead-3)"):
        rows = result[section]
        assert isinstance(rows, dict)
        sets = sets or list(next(iter(rows.values())))
        print(f"\n{section}: ROUGE-1 / ROUGE-2 / ROUGE-L F1")
        print("| | " + " | ".join(sets) + " |")
        print("|---|" + "---|" * len(sets))
        for label, by_set in rows.items():
            cells = [" / ".join(f"{x:.3f}" for x in by_set[s]) for s in sets]
            print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", metavar="FILE", help="also write the result here")
    p.add_argument("--limit", type=int, help="only the first N documents of each set (a smoke run)")
    args = p.parse_args()
    result = run(Settings(), args.limit)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    print_table(result)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
