"""The relation set, the pattern baseline and relation scoring (models/relations.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from models.datasets import DatasetError
from models.loading import ModelLoadError
from models.relations import (
    SHIPPED_RELATIONS,
    LabelledTriple,
    PatternExtractor,
    RelationExample,
    RelationSet,
    Triple,
    evaluate_relations,
    read_relation_examples,
    read_relations,
)

EVAL = Path(__file__).resolve().parents[2] / "data" / "eval"


@pytest.fixture(scope="module")
def extractor() -> PatternExtractor:
    return PatternExtractor(read_relations())


def facts(triples: Sequence[Triple]) -> list[tuple[str, str, str]]:
    return [(t.subject, t.relation, t.object) for t in triples]


def test_the_shipped_set_reads() -> None:
    relations = read_relations()
    assert relations.names == [
        "acquisition",
        "litigation",
        "licensing",
        "partnership",
        "investment",
        "supply",
    ]
    assert [r.name for r in relations.relations if r.symmetric] == ["partnership"]
    assert all(r.patterns_en and r.patterns_zh for r in relations.relations)
    assert read_relations(SHIPPED_RELATIONS) == relations


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"relation set: .*nope\.yaml: cannot read"):
        read_relations(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("relations: [\n", "not valid YAML"),
        ("relations: []\n", "relations: List should have at least 1 item"),
        (
            "relations:\n  - {name: a, description: x}\n  - {name: a, description: y}\n",
            "repeated: \\['a'\\]",
        ),
        (
            "relations:\n  - name: a\n    description: x\n    patterns_en: ['... sued']\n",
            ":4: relations.0.patterns_en: .*'... sued'",
        ),
        ("relations:\n  - {name: a, description: x, pattern_en: [sued]}\n", "pattern_en: Extra"),
    ],
)
def test_an_invalid_file_is_a_clear_error(tmp_path: Path, body: str, problem: str) -> None:
    path = tmp_path / "relations.yaml"
    path.write_text(body)
    with pytest.raises(ModelLoadError, match=problem):
        read_relations(path)


def test_a_relation_a_user_adds_is_extracted(tmp_path: Path) -> None:
    path = tmp_path / "relations.yaml"
    path.write_text(
        "relations:\n"
        "  - name: poaching\n"
        "    description: subject hires staff away from the object\n"
        "    patterns_en: ['poached ... from']\n"
        "    patterns_zh: ['挖走']\n"
    )
    found = PatternExtractor(read_relations(path)).extract(
        "Delta Foods poached three chemists from Kappa Labs.", ["Delta Foods", "Kappa Labs"]
    )
    # Ends in "from": the source of the chemists (Kappa) is not the one who poaches.
    assert facts(found) == [("Kappa Labs", "poaching", "Delta Foods")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alpha Corp agreed to acquire Beta Group for $2 billion.", [("A", "acquisition", "B")]),
        ("Alpha Corp was acquired by Beta Group last year.", [("B", "acquisition", "A")]),
        ("Alpha Corp sued by Beta Group over patents", [("B", "litigation", "A")]),  # headline
        ("Alpha Corp raised $30 million from Beta Group.", [("B", "investment", "A")]),
        ("Alpha Corp buys its steel from Beta Group.", [("B", "supply", "A")]),
        ("Alpha Corp took Beta Group to court in Texas.", [("A", "litigation", "B")]),
        (
            "Gamma Ltd sued Alpha Corp and Beta Group over a patent.",
            [("G", "litigation", "A"), ("G", "litigation", "B")],
        ),
        ("Beta Group teamed up with Alpha Corp on drones.", [("B", "partnership", "A")]),
        ("Alpha Corp and Beta Group set up a joint venture.", [("A", "partnership", "B")]),
        # Negation, rumour, hypothetical, threat, ended: the sentence says nothing (each
        # would give a triple without the lexicons).
        ("Alpha Corp never sued Beta Group.", []),
        ("Alpha Corp is said to be in talks to acquire Beta Group.", []),
        ("If Alpha Corp acquired Beta Group, prices would rise.", []),
        ("Alpha Corp threatened a patent-infringement suit against Beta Group.", []),
        ("Alpha Corp sued Beta Group in 2024 but dropped the case.", []),
        ("Could Alpha Corp be the next to acquire Beta Group?", []),
        # A cue word inside a name is no cue ("consortium" would pair Alpha with Beta).
        ("Alpha Corp beat Consortium Bank on price, Beta Group said.", []),
        ("Alpha Corp acquired a warehouse in Ohio.", []),
    ],
)
def test_english(extractor: PatternExtractor, text: str, expected: list[tuple[str, ...]]) -> None:
    entities = ["Alpha Corp", "Beta Group", "Gamma Ltd", "Consortium Bank"]
    short = {e[0]: e for e in entities}
    want = [(short[s], r, short[o]) for s, r, o in expected]
    assert facts(extractor.extract(text, entities)) == want


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("甲公司被乙集团收购。", [("乙", "acquisition", "甲")]),
        ("甲公司将向乙集团供应电池。", [("甲", "supply", "乙")]),
        ("甲公司的咖啡豆由乙集团供应。", [("乙", "supply", "甲")]),
        ("乙集团携手甲公司开拓海外市场。", [("乙", "partnership", "甲")]),
        (
            "甲公司与乙集团达成专利交叉许可。",
            [("甲", "licensing", "乙"), ("乙", "licensing", "甲")],
        ),
        ("甲公司否认将向乙集团供应电池。", []),
        ("市场传闻甲公司拟收购乙集团。", []),
        ("甲公司与乙集团已终止战略合作。", []),
        ("如果甲公司起诉乙集团，双方股价都将承压。", []),
    ],
)
def test_chinese(extractor: PatternExtractor, text: str, expected: list[tuple[str, ...]]) -> None:
    short = {"甲": "甲公司", "乙": "乙集团"}
    want = [(short[s], r, short[o]) for s, r, o in expected]
    assert facts(extractor.extract(text, list(short.values()))) == want


def test_sentences_a_symmetric_relation_once_and_the_evidence(extractor: PatternExtractor) -> None:
    text = (
        "Alpha Corp partnered with Beta Group in May. Later, Beta Group partnered with Alpha "
        "Corp again！甲公司被乙集团收购。Gamma Ltd reported results."
    )
    found = extractor.extract(text, ["Alpha Corp", "Beta Group", "Gamma Ltd", "甲公司", "乙集团"])
    assert facts(found) == [
        ("Alpha Corp", "partnership", "Beta Group"),
        ("乙集团", "acquisition", "甲公司"),
    ]
    assert [t.sentence for t in found] == [
        "Alpha Corp partnered with Beta Group in May.",
        "甲公司被乙集团收购。",
    ]
    assert {t.score for t in found} == {1.0}


def test_a_directional_relation_beats_a_symmetric_one(extractor: PatternExtractor) -> None:
    text = "Alpha Corp signed a supply agreement with Beta Group, a strategic partnership."
    assert facts(extractor.extract(text, ["Alpha Corp", "Beta Group"])) == [
        ("Alpha Corp", "supply", "Beta Group")
    ]


class Fixed:
    """An extractor that answers from a table, for the scoring arithmetic."""

    def __init__(self, relation_set: RelationSet, answers: dict[str, list[Triple]]) -> None:
        self.relation_set = relation_set
        self.answers = answers

    def extract(self, text: str, entities: Sequence[str]) -> list[Triple]:
        return self.answers[text]


def example(text: str, *triples: tuple[str, str, str]) -> RelationExample:
    return RelationExample(
        id=text,
        text=text,
        entities=sorted({e for s, _, o in triples for e in (s, o)}),
        triples=[LabelledTriple(subject=s, relation=r, object=o) for s, r, o in triples],
    )


def said(*triples: tuple[str, str, str]) -> list[Triple]:
    return [Triple(subject=s, relation=r, object=o, score=1.0, sentence="") for s, r, o in triples]


def test_the_scoring_arithmetic() -> None:
    examples = [
        example("one", ("A", "litigation", "B")),
        example("two", ("A", "partnership", "B")),
        example("three"),
        example("four", ("C", "litigation", "D")),
    ]
    answers = {
        "one": said(("A", "litigation", "B"), ("B", "litigation", "A")),  # one right, one wrong
        "two": said(("B", "partnership", "A")),  # symmetric: order-free, right
        "three": said(("C", "litigation", "D")),  # on a negative: wrong
        "four": said(),  # missed
    }
    report = evaluate_relations(examples, Fixed(read_relations(), answers))
    by = {s.relation: s for s in report.per_relation}
    lit = by["litigation"]
    assert (lit.correct, lit.predicted, lit.support) == (1, 3, 2)
    assert (lit.precision, lit.recall, lit.f1) == pytest.approx((1 / 3, 1 / 2, 0.4))
    assert (by["partnership"].precision, by["partnership"].recall) == (1.0, 1.0)
    assert (by["supply"].precision, by["supply"].f1, by["supply"].support) == (0.0, 0.0, 0)
    total = report.overall
    assert (total.correct, total.predicted, total.support) == (2, 4, 3)
    assert total.f1 == pytest.approx(4 / 7)
    assert (report.sentences, report.negatives, report.negatives_with_predictions) == (4, 1, 1)
    table = report.table().splitlines()
    assert table[0] == "| relation | precision | recall | F1 | support | predicted |"
    assert "| litigation | 0.333 | 0.500 | 0.400 | 2 | 3 |" in table
    assert table[-1] == "| overall | 0.500 | 0.667 | 0.571 | 3 | 4 |"


def test_a_bad_example_line_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "x", "text": "t", "entities": [], "triples": []}\n{"id": "y"}\n')
    with pytest.raises(DatasetError, match=r"set\.jsonl:2: text: Field required"):
        read_relation_examples(path)


# Measured 2026-12-02: overall F1 0.610 (en), 0.680 (zh). A regression guard, not a target:
# the frozen sets are never used to tune the cues or lexicons.
@pytest.mark.parametrize(("language", "floor"), [("en", 0.58), ("zh", 0.65)])
def test_the_baseline_on_the_frozen_sets(
    extractor: PatternExtractor, language: str, floor: float
) -> None:
    examples = read_relation_examples(EVAL / f"relations_{language}.jsonl")
    assert evaluate_relations(examples, extractor).overall.f1 >= floor


def test_argus_eval_reports_the_baseline_on_both_frozen_sets(capsys, tmp_path: Path) -> None:
    from streams import model_commands as commands
    from streams.contracts.settings import Settings

    settings = Settings(state_dir=tmp_path)  # no multilingual encoder: the baseline alone
    assert commands.cmd_eval(settings, "relations", None, None, True, False) == 0
    out = capsys.readouterr().out
    assert "relations_en.jsonl (sha256 5bae8c0662c2)" in out
    assert "relations_zh.jsonl (sha256 f06c6ff110d2)" in out
    assert "| overall |" in out
