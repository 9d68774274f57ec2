"""Extractive summaries (models/summaries.py), the bench's ROUGE, and the engine's summaries."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch

from bench.summaries import rouge
from models.engine import ScoringEngine
from models.summaries import (
    MAX_SENTENCES,
    Method,
    headings,
    pick,
    sentences,
    summarise,
    summary_length,
    wants_summary,
)
from streams.contracts.settings import Settings


def unit(*rows: list[float]) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


def test_rouge_of_the_reference_itself_is_one_and_of_other_words_zero() -> None:
    assert rouge("The profit rose.", "the profit ROSE") == pytest.approx((1.0, 1.0, 1.0))
    assert rouge("shares fell", "profit rose") == (0.0, 0.0, 0.0)
    # 2 of 3 unigrams both ways, 1 of 2 bigrams, LCS 2 of 3.
    r1, r2, rl = rouge("profit rose sharply", "profit rose again")
    assert (r1, r2, rl) == pytest.approx((2 / 3, 1 / 2, 2 / 3))


def test_centroid_picks_the_typical_sentences_and_mmr_skips_a_repeat() -> None:
    # Rows 0 and 1 say the same thing; 2 is near them; 3 is off topic.
    emb = unit([1, 0, 0], [1, 0, 0], [0.8, 0.6, 0], [0, 0, 1])
    plain = Method(relevance=1.0, lead_bonus=0.0)
    assert pick(emb, 2, plain) == [0, 1]  # both copies: nothing penalises the repeat
    assert pick(emb, 2, Method(relevance=0.7, lead_bonus=0.0)) == [0, 2]
    # A heavy penalty takes the off-topic sentence over a near repeat.
    assert pick(emb, 2, Method(relevance=0.5, lead_bonus=0.0)) == [0, 3]
    # The lead bonus breaks a tie toward the earlier sentence, and only candidates are picked.
    assert pick(emb, 1, Method(relevance=1.0, lead_bonus=0.1), candidates=[1, 2, 3]) == [1]
    assert pick(emb, 5, plain) == [0, 1, 2, 3]


def test_passages_cut_at_semicolons_are_one_sentence_again() -> None:
    passages = ["A device comprising:", "a sensor;", "and a battery.", "It works."]
    emb = unit([1, 0], [0, 1], [1, 1], [1, 0])
    found = sentences(passages, emb)
    assert found.texts == ["A device comprising: a sensor; and a battery.", "It works."]
    assert found.embeddings.shape == (2, 2)
    assert torch.allclose(found.embeddings.norm(dim=1), torch.ones(2))
    assert found.heading == [False, False]


def test_a_title_line_is_a_heading_never_a_summary() -> None:
    assert headings(["Cobalt Motors recalls SUVs", "It said so.", "last words"]) == [
        True,
        False,
        False,  # the last passage is a sentence cut short, not a heading
    ]
    title = "Cobalt Motors recalls 48,000 SUVs"
    body = [f"Sentence number {n} of the article." for n in range(6)]
    emb = unit(*[[1.0, float(n)] for n in range(7)])
    summary = summarise([title, *body], emb)
    assert summary is not None and title not in summary


def test_short_texts_get_no_summary_and_long_ones_a_third_of_their_sentences() -> None:
    three = ["Headline without a stop", "One.", "Two sentences here.", "Three of them."]
    assert not wants_summary(three)  # the heading does not count
    assert summarise(three, unit(*[[1.0, float(i)] for i in range(4)])) is None
    assert [summary_length(n) for n in (4, 5, 6, 8, 9, 40)] == [1, 1, 2, 2, 3, 3]
    body = [f"This is sentence {n} of a long text." for n in range(12)]
    summary = summarise(body, unit(*[[1.0, float(n % 3)] for n in range(12)]))
    assert summary is not None
    chosen = [s for s in body if s in summary]
    assert len(chosen) == MAX_SENTENCES
    assert summary == " ".join(chosen)  # in the text's order


LONG = (
    "Profit soared at the company. The court heard the patent claim. Shares rose on the "
    "record growth. The battery launch was new. The drone sensor market is growing. "
    "The lawsuit said the brand was copied."
)


def test_the_engine_summarises_long_texts_from_their_passages(
    tiny_models: dict[str, Path],
) -> None:
    # No portfolio and no watch list: the passages are encoded for the summary alone.
    engine = ScoringEngine.from_settings(
        Settings(encoder_path=tiny_models["encoder"], device="cpu"), portfolio_items=[]
    )
    try:
        long, short = engine.score_texts([LONG, "Shares rose. The court heard it."])
    finally:
        engine.close()
    assert short.summary is None
    assert long.summary is not None
    sentences_of_long = [s if s.endswith(".") else s + "." for s in LONG.split(". ")]
    picked = [s for s in sentences_of_long if s in long.summary]
    assert 1 <= len(picked) <= MAX_SENTENCES
    assert long.summary == " ".join(picked)
    assert "summary" in long.model_dump(mode="json")


def test_alert_evidence_carries_the_summary_else_the_start_of_the_text() -> None:
    from streams.rules.summary import SUMMARY_CHARS, TEXT_CHARS, excerpt
    from tests.events import scored_event

    long = "word " * 200
    plain = scored_event(text=long)
    assert excerpt(None, long) == long[:TEXT_CHARS]
    summarised = plain.model_copy(
        update={"scores": plain.scores.model_copy(update={"summary": "The gist."})}
    )
    assert excerpt("The gist.", long) == "The gist."
    assert "summary" in json.loads(summarised.to_json())["scores"]
    assert len(excerpt("x" * 2000, long)) == SUMMARY_CHARS


def test_argus_score_prints_the_summary(
    tiny_models: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streams import model_commands as commands

    settings = Settings(
        encoder_path=tiny_models["encoder"], model_store=tmp_path / "store", device="cpu"
    )
    lines = [json.dumps({"id": "long", "text": LONG}), json.dumps({"id": "short", "text": "a"})]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert commands.cmd_score(settings, None, text_mode=False) == 0
    out = {x["id"]: x for x in map(json.loads, capsys.readouterr().out.splitlines())}
    summary = out["long"]["summary"]
    assert summary and all(s.rstrip(".") in LONG for s in summary.split(". "))
    assert out["short"]["summary"] is None
