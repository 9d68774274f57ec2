"""The English direction cues: what moves, which way, and when they decide a label."""

from __future__ import annotations

import pytest
import torch

from models.direction import CUES, cue_counts, decide_by_direction, direction_features
from models.direction import direction_verdict as verdict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quarterly profit soared 40%, beating analyst expectations", "positive"),
        ("Net loss narrowed to $12 million in the quarter", "positive"),  # bad, going down
        ("The company cut its full-year revenue forecast", "negative"),
        ("Debt rose to $4 billion, the company told investors", "negative"),
        ("Analysts downgraded the stock to sell", "negative"),
        ("Shares did not recover after the recall", None),  # negated: the head decides
        ("Revenue rose, but the loss widened", None),  # both kinds: the head decides
        ("The annual meeting is on 3 May", None),
        ("we won the game tonight", None),  # no money talk: the head decides
    ],
)
def test_verdicts(text: str, expected: str | None) -> None:
    assert verdict(text) == expected


def test_counts_read_expectations_and_no_news() -> None:
    c = cue_counts("Results were better than expected; guidance unchanged")
    assert c["better"] == 1 and c["neutral"] == 1 and c["worse"] == 0


def test_features_are_capped_and_weighted() -> None:
    x = direction_features(["profit rose, sales rose, margins rose, orders rose", "", "no"])
    assert x.shape == (3, len(CUES))
    up = CUES.index("good_up")
    assert x[0, up] == x.max() and torch.all(x[1] == 0)
    assert x[2, CUES.index("negated")] == x[0, up]  # present is as strong as the cap


def test_a_verdict_decides_the_label_and_keeps_the_heads_doubt() -> None:
    labels = ["negative", "neutral", "positive"]
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1]])
    out = decide_by_direction(probs, ["profit jumped", "the meeting"], labels)
    assert out[0].argmax() == 2 and out[0, 2] == pytest.approx(0.55)
    assert torch.equal(out[1], probs[1])  # no verdict: the head's row unchanged
