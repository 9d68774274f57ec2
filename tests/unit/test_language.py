"""Language identification, and texts the encoder cannot read left unscored."""

from __future__ import annotations

from models.language import detect_languages, unknown_share, unread_reason
from streams.schemas import LanguageGuess


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
