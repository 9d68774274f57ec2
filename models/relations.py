"""Relations between entities (issue #19): the relation set users extend (`relations.yaml`),
a pattern-only baseline extractor, and precision / recall / F1 on labelled sentences.

The baseline reads only the cues in the relation set; it is the bar a trained relation head
must clear on data/eval/relations_*.jsonl (annotation rules: data/eval/README-relations.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.datasets import read_examples
from models.loading import ModelLoadError
from streams.contracts.settings import ConfigError
from streams.contracts.yaml_files import load_yaml, require_unique

# The shipped set sits at the repository root, beside topics.yaml and watchlist.yaml.
SHIPPED_RELATIONS = Path(__file__).resolve().parent.parent / "relations.yaml"
GAP = "..."  # in a cue: any short span, often the other organisation


class RelationIllustration(BaseModel):
    """An example sentence in the relation file: documentation, never training or test data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: str
    text: str
    subject: str
    object: str
    en: str | None = None  # English gloss of a non-English example


class RelationType(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="The label in triples.")
    description: str = Field(min_length=1)
    symmetric: bool = False
    patterns_en: list[str] = Field(default_factory=list)
    patterns_zh: list[str] = Field(default_factory=list)
    examples: list[RelationIllustration] = Field(default_factory=list)

    @field_validator("patterns_en", "patterns_zh")
    @classmethod
    def _cues(cls, cues: list[str]) -> list[str]:
        for cue in cues:
            words = cue.strip()
            # A gap only means something between words; at an edge it would match anything.
            if not words.replace(GAP, "").strip() or words.startswith(GAP) or words.endswith(GAP):
                raise ValueError(f"cue {cue!r}: needs words, and '{GAP}' only between them")
        return cues


class RelationSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    relations: list[RelationType] = Field(min_length=1)

    @field_validator("relations")
    @classmethod
    def _unique(cls, relations: list[RelationType]) -> list[RelationType]:
        require_unique("relation", (r.name for r in relations))
        return relations

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.relations]

    def is_symmetric(self, name: str) -> bool:
        return any(r.name == name and r.symmetric for r in self.relations)


def read_relations(path: Path = SHIPPED_RELATIONS) -> RelationSet:
    """The relation set in `path`; a missing or invalid file is one ModelLoadError."""
    try:
        return load_yaml(path, RelationSet)
    except ConfigError as e:
        raise ModelLoadError(f"relation set: {e}") from None


class Triple(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    relation: str
    object: str
    score: float = Field(ge=0.0, le=1.0)
    sentence: str  # the evidence


class LabelledTriple(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str
    relation: str
    object: str


class RelationExample(BaseModel):
    """One line of a relation evaluation set (data/eval/README-relations.md, "Fields")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    entities: list[str]
    triples: list[LabelledTriple]  # empty: a negative
    en: str | None = None  # translation of a Chinese `text`; not scored


def read_relation_examples(path: Path) -> list[RelationExample]:
    """The labelled sentences of a JSON-lines file; a bad line is a DatasetError naming it."""
    return [example for _, example in read_examples(path, RelationExample)]


# --- The pattern baseline -------------------------------------------------------------------

# A sentence ends at . ! ? before a space and a non-lower-case letter ("Inc. said" stays
# whole), or right after a full-width mark (Chinese puts no space there).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z])|(?<=[。！？])|\n+")

# Cues whose subject is the entity AFTER the cue (or inside its gap), not the one before.
# relations.yaml has no direction field, so this is derived from the cue's words: an English
# cue ending in "by"/"from" names the agent or source next ("was sued by", "raised ... from",
# "buys ... from"), a Chinese cue starting with 被/由 is a passive, one ending in 自 means
# "from" (采购自). Lexical converses that no such rule catches are listed by hand.
_PASSIVE_EN = re.compile(r"\b(?:by|from)$")
# An active cue read as a passive where "by" follows it: headlines drop the "was" ("Beta sued
# by Alpha", "Beta acquired by Alpha").
_BY_NEXT = re.compile(r"\s+by\b", re.IGNORECASE)
_PASSIVE_ZH = re.compile(r"^[被由]|自$")
_CONVERSE_CUES = frozenset(
    {
        "took a licence to",  # the licensee takes a licence to the licensor's IP
        "royalties to use",  # the payer is the licensee
        "selected ... as its provider",  # the customer selects its supplier
    }
)
# Cues that state the relation both ways ("A and B signed a cross-licence": each licenses
# the other); README-relations.md rule 6.
_RECIPROCAL = re.compile(r"cross-|交叉")

# Agent markers before an entity that a plain cue follows: "A的咖啡豆由B供应" = B supplies A.
_AGENT_MARKER = re.compile(r"(?:\bby|被|由)\s*$", re.IGNORECASE)

# Entities joined by these act together ("A and B sued C", "A与B签署合作协议").
_CONJUNCTION = re.compile(
    r"\s*(?:,?\s*(?:and|or|&)|,|、|，|与|和|及|以及|同|跟)?\s*", re.IGNORECASE
)

# A sentence with any of these is dropped whole: the annotation rules make negated, rumoured,
# hypothetical, threatened and ended relations negatives (README-relations.md). Lexicons are
# written from those rules, not from the evaluation sets. English is matched as whole words.
_DROP_EN = {
    "negation": r"not|never|no|\w+n't|denied|denies|deny|false|no comment|declined to comment",
    "rumour": r"rumou?rs?|rumou?red|reportedly|(?:is|are|was|were) said to|people familiar"
    r"|according to (?:people|sources|reports)|sources said|speculation|speculated|unconfirmed"
    r"|talks|considering|considers|weighing|weighs|exploring|explores|interest(?:ed)? in",
    "hypothetical": r"if|whether|unless|could|might",
    "threat": r"threat|threatened|threatens|reserves? the right",
    "ended": r"dropped|drops|withdrew|withdrawn|withdraws|dismissed|settled|settles|settlement"
    r"|ended|ends|ending|terminated|terminates|expired|expires|lapsed|revoked|abandoned"
    r"|scrapped|called off|collapsed|blocked|unwound|wound (?:up|down)|dissolved|broke off"
    r"|pulled out|walked away|former|formerly|stopped|stops|ceased|halted|suspended|exited"
    r"|divested|sold (?:its|the|their|all) (?:\w+ )?(?:stake|holding|shares)",
}
_DROP_ZH = {
    "negation": r"未(?!来)|没有|不再|不会|不是|不存在|并不|并非|从未|否认|澄清|无意|拒不",
    "rumour": r"传闻|传言|据传|有报道称|据报道|报道称|消息人士|知情人士|猜测|或将|或许|可能|有望"
    r"|洽谈|谈判|商谈|磋商|接洽|考虑|有意",
    "hypothetical": r"如果|假如|倘若|若|一旦|是否",
    "threat": r"威胁|扬言|保留.{0,6}权利",
    "ended": r"终止|结束|撤回|撤诉|撤销|驳回|和解|到期|期满|失效|取消|放弃|叫停|停止|暂停|中止"
    r"|解除|解散|退出|清仓|出售所持|破裂|告吹|曾经|曾是|曾为|前供应商|原供应商",
}
_DROP = re.compile(
    "|".join(rf"(?<!\w)(?:{p})(?!\w)" for p in _DROP_EN.values())
    + "|"
    + "|".join(_DROP_ZH.values())
    + r"|[?？]",  # questions
    re.IGNORECASE,
)

_MASK = "\x00"  # entity names are blanked before cue matching: "Supply Co" is not a cue


@dataclass(frozen=True)
class _Cue:
    relation: str
    text: str
    regex: re.Pattern[str]
    passive: bool  # the subject comes after the cue
    reciprocal: bool  # both directions hold
    symmetric: bool


def _cue(relation: RelationType, text: str, english: bool) -> _Cue:
    words = text.strip().lower()
    parts = [re.escape(p.strip()).replace(r"\ ", r"\s+") for p in words.split(GAP)]
    # English words stay whole ("sued" is not in "issued"); Chinese has no word boundaries.
    gap, left, right = (r"\s.{1,60}?\s", r"(?<!\w)", r"(?!\w)") if english else (".{1,20}?", "", "")
    passive = bool((_PASSIVE_EN if english else _PASSIVE_ZH).search(words))
    return _Cue(
        relation=relation.name,
        text=words,
        regex=re.compile(left + gap.join(parts) + right, re.IGNORECASE),
        passive=passive or words in _CONVERSE_CUES,
        reciprocal=bool(_RECIPROCAL.search(words)),
        symmetric=relation.symmetric,
    )


Mention = tuple[int, int, str]  # start, end, entity


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def find_mentions(sentence: str, entities: Iterable[str]) -> list[Mention]:
    """Every occurrence of each entity; where names overlap, the longer one."""
    found = []
    for name in set(entities):
        start = sentence.find(name) if name else -1
        while start >= 0:
            found.append((start, start + len(name), name))
            start = sentence.find(name, start + 1)
    kept: list[Mention] = []
    for m in sorted(found, key=lambda m: (m[0], m[0] - m[1])):
        if not kept or m[0] >= kept[-1][1]:
            kept.append(m)
    return kept


def _groups(sentence: str, mentions: list[Mention]) -> list[list[Mention]]:
    groups: list[list[Mention]] = []
    for m in mentions:
        if groups and _CONJUNCTION.fullmatch(sentence[groups[-1][-1][1] : m[0]]):
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


class RelationExtractor(Protocol):
    """What evaluate_relations scores: the baseline here, a trained head later."""

    relation_set: RelationSet

    def extract(self, text: str, entities: Sequence[str]) -> list[Triple]: ...

    def extract_many(
        self, texts: Sequence[str], entities: Sequence[Sequence[str]]
    ) -> list[list[Triple]]:
        """A batch: the stream's way in (one encoder pass per batch for a trained head)."""
        ...


class PatternExtractor:
    """Cue matching: the baseline. Score 1.0 for every hit.

    Per sentence with two or more of the entities, unless it has a negation, rumour,
    hypothetical, threat or ended-relationship word (then nothing). For each cue match:
    the LEFT argument is the nearest group of entities before the cue (entities joined by
    "and", 与, ... form one group), the RIGHT argument the entities inside the cue's gap, or
    else the nearest group after it. The left is the subject unless the cue is passive
    (see _PASSIVE_EN). With no right argument, entities grouped on the left relate to each
    other in text order ("A and B formed a joint venture"), or, after an agent marker
    ("A的咖啡豆由B供应"), the marked one is the subject; a symmetric cue also pairs a group on
    the right ("a joint venture between A and B"). One relation per ordered pair: a
    directional relation beats a symmetric one (a sale called a partnership is supply), then the longer
    cue; a cue inside a longer match ("收购" in "被...收购") does not count. Symmetric
    triples are in text order; reciprocal cues (cross-licences) give both directions.
    """

    def __init__(self, relation_set: RelationSet) -> None:
        self.relation_set = relation_set
        self._cues = [
            _cue(r, text, english)
            for r in relation_set.relations
            for english, cues in ((True, r.patterns_en), (False, r.patterns_zh))
            for text in cues
        ]

    def extract_many(
        self, texts: Sequence[str], entities: Sequence[Sequence[str]]
    ) -> list[list[Triple]]:
        return [self.extract(t, e) for t, e in zip(texts, entities, strict=True)]

    def extract(self, text: str, entities: Sequence[str]) -> list[Triple]:
        out: dict[tuple[str, str, str], Triple] = {}
        for sentence in split_sentences(text):
            for subject, relation, obj in self._sentence(sentence, entities):
                if self.relation_set.is_symmetric(relation) and (obj, relation, subject) in out:
                    continue  # stated again, in the other order, in a later sentence
                out.setdefault(
                    (subject, relation, obj),
                    Triple(
                        subject=subject, relation=relation, object=obj, score=1.0, sentence=sentence
                    ),
                )
        return list(out.values())

    def _sentence(self, sentence: str, entities: Sequence[str]) -> list[tuple[str, str, str]]:
        mentions = find_mentions(sentence, entities)
        first: dict[str, int] = {}
        for _, _, name in mentions:
            first.setdefault(name, len(first))
        if len(first) < 2:
            return []
        masked = list(sentence)
        for start, end, _ in mentions:
            masked[start:end] = _MASK * (end - start)
        blank = "".join(masked)
        if _DROP.search(blank):
            return []
        groups = _groups(sentence, mentions)
        candidates = [
            (subject, cue, obj)
            for span, cue in self._matches(blank)
            for subject, obj in _pairs(sentence, groups, span, cue)
            if subject != obj
        ]
        return _resolve(candidates, first)

    def _matches(self, blank: str) -> list[tuple[tuple[int, int], _Cue]]:
        found = [(m.span(), cue) for cue in self._cues for m in cue.regex.finditer(blank)]
        # A match inside a longer one is part of a more specific cue.
        return [
            (span, cue)
            for span, cue in found
            if not any(
                o[0] <= span[0] and span[1] <= o[1] and o[1] - o[0] > span[1] - span[0]
                for o, _ in found
            )
        ]


def _names(mentions: list[Mention]) -> list[str]:
    return list(dict.fromkeys(m[2] for m in mentions))


def _pairs(
    sentence: str, groups: list[list[Mention]], span: tuple[int, int], cue: _Cue
) -> list[tuple[str, str]]:
    """(subject, object) pairs one cue match states, by the rules in PatternExtractor."""
    start, end = span
    before = [i for i, g in enumerate(groups) if g[-1][1] <= start]
    inside = [m for g in groups for m in g if start <= m[0] and m[1] <= end]
    after = [g for g in groups if g[0][0] >= end]
    left = groups[before[-1]] if before else []
    right = inside or (after[0] if after else [])
    pairs: list[tuple[str, str]] = []
    if left and right:
        pairs = [(a, b) for a in _names(left) for b in _names(right)]
        if cue.passive or _BY_NEXT.match(sentence, end):
            pairs = [(b, a) for a, b in pairs]
    elif left and not cue.passive:
        previous = groups[before[-1] - 1] if len(before) > 1 else []
        if previous and _AGENT_MARKER.search(sentence[previous[-1][1] : left[0][0]]):
            pairs = [(a, b) for a in _names(left) for b in _names(previous)]
        else:
            pairs = list(combinations(_names(left), 2))
    elif right and cue.symmetric:
        pairs = list(combinations(_names(right), 2))
    if cue.reciprocal:
        pairs += [(b, a) for a, b in pairs]
    return pairs


def _resolve(
    candidates: list[tuple[str, _Cue, str]], first: dict[str, int]
) -> list[tuple[str, str, str]]:
    """One relation per ordered pair: directional over symmetric, then the longer cue, then
    the first found."""
    directional = {frozenset((s, o)) for s, cue, o in candidates if not cue.symmetric}
    best: dict[tuple[str, str], _Cue] = {}
    for subject, cue, obj in candidates:
        if cue.symmetric:
            if frozenset((subject, obj)) in directional:
                continue
            subject, obj = sorted((subject, obj), key=first.__getitem__)  # text order
        held = best.get((subject, obj))
        if held is None or len(cue.text) > len(held.text):
            best[(subject, obj)] = cue
    return [(s, cue.relation, o) for (s, o), cue in best.items()]


# --- Scoring --------------------------------------------------------------------------------


class RelationScore(BaseModel):
    relation: str  # a relation name, or "overall" (micro-averaged)
    precision: float  # 0.0 when nothing was predicted
    recall: float  # 0.0 when nothing was expected
    f1: float
    support: int  # expected triples
    predicted: int
    correct: int


class RelationReport(BaseModel):
    per_relation: list[RelationScore]
    overall: RelationScore
    sentences: int
    negatives: int  # sentences with no expected triple
    negatives_with_predictions: int  # where cue matchers fail (README-relations.md, Scoring)

    def table(self) -> str:
        rows = [
            "| relation | precision | recall | F1 | support | predicted |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for s in [*self.per_relation, self.overall]:
            rows.append(
                f"| {s.relation} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} "
                f"| {s.support} | {s.predicted} |"
            )
        return "\n".join(rows)


def _score(relation: str, correct: int, predicted: int, support: int) -> RelationScore:
    precision = correct / predicted if predicted else 0.0
    recall = correct / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return RelationScore(
        relation=relation,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        predicted=predicted,
        correct=correct,
    )


def evaluate_relations(
    examples: Sequence[RelationExample], extractor: RelationExtractor
) -> RelationReport:
    """Micro-averaged P/R/F1 over (subject, relation, object); symmetric relations match as
    unordered pairs. Every triple predicted on a negative sentence is a false positive."""
    relations = extractor.relation_set

    def key(subject: str, relation: str, obj: str) -> tuple[str, str, str]:
        if relations.is_symmetric(relation):
            subject, obj = sorted((subject, obj))
        return relation, subject, obj

    correct: dict[str, int] = {}
    predicted: dict[str, int] = {}
    support: dict[str, int] = {}
    negatives = fooled = 0
    for example in examples:
        gold = {key(t.subject, t.relation, t.object) for t in example.triples}
        found = {
            key(t.subject, t.relation, t.object)
            for t in extractor.extract(example.text, example.entities)
        }
        for counts, keys in ((support, gold), (predicted, found), (correct, gold & found)):
            for relation, _, _ in keys:
                counts[relation] = counts.get(relation, 0) + 1
        if not gold:
            negatives += 1
            fooled += bool(found)
    names = relations.names + sorted((support.keys() | predicted.keys()) - set(relations.names))
    return RelationReport(
        per_relation=[
            _score(n, correct.get(n, 0), predicted.get(n, 0), support.get(n, 0)) for n in names
        ],
        overall=_score(
            "overall", sum(correct.values()), sum(predicted.values()), sum(support.values())
        ),
        sentences=len(examples),
        negatives=negatives,
        negatives_with_predictions=fooled,
    )
