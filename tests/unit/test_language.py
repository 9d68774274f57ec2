"""Language identification, and texts the encoder cannot read left unscored."""

from __future__ import annotations

from models.language import detect_languages, unknown_share, unread_reason
from streams.contracts.schemas import LanguageGuess


def test_languages_are_identified_offline() -> None:
    texts = [
        "Quarterly profit soared 40%, beating analyst expectations",
        "宁德时代股价暴跌，投资者担忧业绩下滑",  # lid.176 alone is unsure here: the script decides
        "Die Aktie fiel nach der Gewinnwarnung um fünf Prozent",
        "トヨタの株価が急落",
        "  ",
    ]
    codes = [g.code for g in detect_languages(texts)]
    assert codes == ["en", "zh", "de", "ja", "und"]


def test_what_the_encoder_cannot_read() -> None:
    english = LanguageGuess(code="en", score=0.9)
    german = LanguageGuess(code="de", score=0.98)
    unsure = LanguageGuess(code="pl", score=0.39)  # "$VLTR"
    assert unread_reason(english, 0.0, ["en"], "enc@1") is None
    assert unread_reason(unsure, 0.0, ["en"], "enc@1") is None
    assert unread_reason(german, 0.0, ["en", "de"], "enc@1") is None
    assert unread_reason(german, 0.0, ["*"], "e5@1") is None  # a multilingual encoder
    assert "its language is de" in (unread_reason(german, 0.0, ["en"], "enc@1") or "")
    why = unread_reason(english, 0.7, ["en"], "enc@1")
    assert why == (
        "sentiment and topic not scored: 70% of its tokens are unknown to the encoder enc@1, "
        "which reads en"
    )
    assert unknown_share([100, 1, 1, 7], 1) == 0.5 and unknown_share([], 1) == 0.0


def test_the_engine_leaves_unreadable_text_unscored(tiny_models) -> None:
    from tests.unit.test_engine import engine

    e = engine(tiny_models)
    english, chinese = e.score_texts(["shares of a battery maker", "宁德时代股价暴跌，投资者担忧"])
    assert english.sentiment is not None and english.topic is not None
    assert english.unscored is None and english.language.code == "en"
    assert chinese.sentiment is None and chinese.topic is None
    assert chinese.language.code == "zh" and "not scored" in (chinese.unscored or "")


def test_what_the_encoder_cannot_read_is_scored_by_the_multilingual_one(
    tiny_models, tmp_path
) -> None:
    """Routing: the Chinese texts go to the multilingual engine, with its own models (named
    on each text's scores), the others stay; the order of the batch is kept, merged batches
    included, and the portfolio is matched on both."""
    import json

    from models.engine import Routed
    from tests.tiny_models import build_encoder
    from tests.unit.test_engine import engine

    texts = [
        "宁德时代股价暴跌，投资者担忧",
        "shares of a battery maker",
        "电池专利诉讼",
        "a battery claim",
    ]
    portfolio = tmp_path / "portfolio.jsonl"
    portfolio.write_text(
        json.dumps({"id": "pf-1", "kind": "patent_claim", "text": "a battery claim"})
    )
    multilingual = build_encoder(tmp_path / "multilingual", 1, sorted(set("".join(texts))))
    (multilingual / "argus-encoder.json").write_text(json.dumps({"languages": ["*"]}))
    e = engine(tiny_models, multilingual_encoder_path=multilingual, portfolio_path=portfolio)
    assert e.multilingual is not None and e.multilingual.languages == ["*"]
    first, second = e.prepare(texts[:2]), e.prepare(texts[2:])
    assert first.other_rows == [0] and second.other_rows == [0]
    scores = e.score_batch(Routed.concat([first, second]))
    assert [s.unscored for s in scores] == [None] * 4
    assert [s.models["encoder"].split("@")[0] for s in scores] == [
        "multilingual",
        "encoder",
        "multilingual",
        "encoder",
    ]
    assert [s.language.code for s in scores] == ["zh", "en", "zh", "en"]
    assert scores[3].similarity and scores[3].similarity[0].item_id == "pf-1"
    (alone,) = e.score_texts(texts[:1])  # a batch the multilingual engine has to itself
    assert alone.sentiment == scores[0].sentiment
    again = e.score_texts(texts)  # one batch or two, the same scores
    assert [(s.sentiment, s.topic) for s in again] == [(s.sentiment, s.topic) for s in scores]
    e.close()


def test_a_multilingual_encoder_that_is_missing_is_a_clear_error(tiny_models, tmp_path) -> None:
    import pytest

    from models.loading import ModelLoadError
    from tests.unit.test_engine import engine

    with pytest.raises(ModelLoadError, match="argus models e5 --out"):
        engine(tiny_models, multilingual_encoder_path=tmp_path / "nowhere")
    assert engine(tiny_models, multilingual=False).multilingual is None


def test_items_the_encoder_cannot_read_are_compared_in_the_multilingual_space(
    tiny_models, tmp_path
) -> None:
    """The reverse direction: an English text against a Chinese claim is compared by the
    multilingual encoder; MiniLM's own portfolio holds only what it reads. A reload keeps it so."""
    import asyncio
    import json

    from models.portfolio import PortfolioItem
    from tests.tiny_models import build_encoder
    from tests.unit.test_engine import engine

    chinese = "电池专利诉讼，一种电池"
    multilingual = build_encoder(tmp_path / "multilingual", 1, sorted(set(chinese)))
    (multilingual / "argus-encoder.json").write_text(json.dumps({"languages": ["*"]}))
    portfolio = tmp_path / "portfolio.jsonl"
    items = [
        {"id": "pf-en", "kind": "patent_claim", "text": "a battery claim with a sensor"},
        {"id": "pf-zh", "kind": "patent_claim", "text": chinese},
    ]
    portfolio.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items))
    e = engine(tiny_models, multilingual_encoder_path=multilingual, portfolio_path=portfolio)
    assert [i.id for i in e.portfolio.items] == ["pf-en"]
    assert e.foreign is not None and [i.id for i in e.foreign.items] == ["pf-zh"]
    assert e.multilingual is not None and len(e.multilingual.portfolio.items) == 2
    english, zh = e.score_texts(["a battery claim with a sensor", chinese])
    assert {m.item_id for m in english.similarity} == {"pf-en", "pf-zh"}
    assert {m.item_id for m in zh.similarity} == {"pf-en", "pf-zh"}
    assert len(english.similarity) <= e.top_k
    asyncio.run(e.reload_portfolio([PortfolioItem.model_validate(items[0])]))
    assert e.foreign is None and [i.id for i in e.portfolio.items] == ["pf-en"]
    (english,) = e.score_texts(["a battery claim with a sensor"])
    assert [m.item_id for m in english.similarity] == ["pf-en"]
    e.close()
