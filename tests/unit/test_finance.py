from __future__ import annotations

from models.finance import FINANCE_CUE, lexicon_label

POS = frozenset({"gain", "strong", "record"})
NEG = frozenset({"loss", "weak", "fraud"})


def test_labels_only_where_both_lexicons_agree() -> None:
    assert lexicon_label("Strong gain in profit", POS, NEG, vader_compound=0.7) == "positive"
    assert lexicon_label("Weak sales, a loss", POS, NEG, vader_compound=-0.6) == "negative"
    assert lexicon_label("Strong gain in profit", POS, NEG, vader_compound=-0.6) is None
    assert lexicon_label("Strong gain in profit", POS, NEG, vader_compound=0.2) is None
    assert lexicon_label("The report is due Monday", POS, NEG, vader_compound=0.0) == "neutral"
    assert lexicon_label("The report is due Monday", POS, NEG, vader_compound=0.3) is None


def test_finance_cue() -> None:
    assert FINANCE_CUE.search("Quarterly earnings beat forecasts")
    assert FINANCE_CUE.search("Shares fell") and not FINANCE_CUE.search("The weather was fine")
