from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.engine import ScoringEngine
from models.entity_sentiment import entity_units, verdicts
from streams.contracts.schemas import EntitySentiment
from streams.contracts.settings import Settings
from streams.watchlist import Entity, Watchlist

TAGGER = Watchlist(
    entities=[
        Entity(name="Quanta Silicon", aliases=["Quanta"]),
        Entity(name="Ledgemont Semiconductor", ticker="LDGM", aliases=["Ledgemont"]),
        Entity(name="宁德时代"),
        Entity(name="比亚迪"),
    ]
).tagger()


def test_each_entity_gets_the_clause_it_heads() -> None:
    text = (
        "Quanta rallied after record profit, while Ledgemont slumped on a profit warning. "
        "Analysts expect more volatility. Ledgemont also cut its dividend."
    )
    assert entity_units(text, TAGGER.mentions) == [
        ("Quanta Silicon", "Quanta rallied after record profit, while"),
        ("Ledgemont Semiconductor", "Ledgemont slumped on a profit warning."),
        ("Ledgemont Semiconductor", "Ledgemont also cut its dividend."),
    ]


def test_a_clause_too_short_to_judge_falls_back_to_its_sentence() -> None:
    text = "Quanta and $LDGM both fell 5% on the chip tariff news."
    assert entity_units(text, TAGGER.mentions) == [
        ("Quanta Silicon", text),
        ("Ledgemont Semiconductor", "$LDGM both fell 5% on the chip tariff news."),
    ]


def test_a_sentence_that_is_only_the_name_is_judged_with_its_neighbour() -> None:
    text = "Record orders again this quarter, and margins widened. Quanta Silicon."
    assert entity_units(text, TAGGER.mentions) == [("Quanta Silicon", text)]
    assert entity_units("Quanta Silicon.", TAGGER.mentions) == [
        ("Quanta Silicon", "Quanta Silicon.")
    ]


def test_chinese_sentences_and_clauses() -> None:
    text = "宁德时代股价暴跌，投资者担忧业绩。比亚迪季度利润大增，股价创新高。"
    assert entity_units(text, TAGGER.mentions) == [
        ("宁德时代", "宁德时代股价暴跌，投资者担忧业绩。"),
        ("比亚迪", "比亚迪季度利润大增，股价创新高。"),
    ]
    both = "宁德时代股价暴跌，比亚迪却大涨创新高。"
    assert entity_units(both, TAGGER.mentions) == [
        ("宁德时代", "宁德时代股价暴跌，"),
        ("比亚迪", "比亚迪却大涨创新高。"),
    ]


def test_verdicts_average_an_entitys_units_and_quote_the_surest() -> None:
    units = [("B", "b1"), ("A", "a1"), ("B", "b2")]
    probs = torch.tensor([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.9, 0.05, 0.05]])
    assert verdicts(units, probs, ["negative", "neutral", "positive"]) == [
        EntitySentiment(entity="A", label="positive", score=0.7, sentence="a1"),
        EntitySentiment(entity="B", label="negative", score=0.75, sentence="b2"),
    ]


def test_the_engine_scores_each_entity_on_its_own_units(tiny_models: dict[str, Path]) -> None:
    settings = Settings(encoder_path=tiny_models["encoder"], device="cpu")
    engine = ScoringEngine.from_settings(settings, find_mentions=TAGGER.mentions)
    texts = [
        "Quanta rallied after record profit, while Ledgemont slumped on a profit warning.",
        "Ledgemont slumped on a profit warning.",
        "no watched company here",
    ]
    first, alone, none = engine.score_texts(texts)
    assert [v.entity for v in first.entity_sentiment] == [
        "Ledgemont Semiconductor",
        "Quanta Silicon",
    ]
    # The same clause scores alike whether it is a whole text's passage or cut from one.
    assert first.entity_sentiment[0].sentence == alone.entity_sentiment[0].sentence
    assert first.entity_sentiment[0].score == pytest.approx(alone.entity_sentiment[0].score)
    assert none.entity_sentiment == []
    plain = ScoringEngine.from_settings(settings)  # no watch list: no per-entity sentiment
    assert plain.score_texts(texts[:1])[0].entity_sentiment == []
