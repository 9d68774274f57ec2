from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from pathlib import Path

import pytest
import torch

from models.engine import MODEL_THREAD_SCORERS, Routed, ScoringEngine
from models.loading import ModelLoadError, same_tokenization
from models.portfolio import PortfolioError, read_portfolio
from streams.contracts.settings import Settings


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("pf") / "portfolio.jsonl"
    items = [
        {"id": "pf-1", "kind": "patent_claim", "owner": "Acme", "text": "a battery claim"},
        {"id": "pf-2", "kind": "trademark", "text": "drone brand launch"},
    ]
    p.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    return p


def engine(tiny_models: dict[str, Path], **kw: object) -> ScoringEngine:
    return ScoringEngine.from_settings(
        Settings(encoder_path=tiny_models["encoder"], device="cpu", **kw)
    )


def test_checkpoint_classifiers_and_similarity(tiny_models, portfolio) -> None:
    e = engine(
        tiny_models,
        topic_model_path=tiny_models["topic"],
        sentiment_model_path=tiny_models["sentiment"],
        portfolio_path=portfolio,
        similarity_top_k=2,
    )
    texts = ["a battery claim", "the shares of the company", "x " * 2000]  # last: truncated
    out = e.score_texts(texts)
    assert len(out) == 3
    assert out[0].similarity[0].item_id == "pf-1"
    assert out[0].similarity[0].score == pytest.approx(1.0, abs=1e-3)  # identical text
    for s in out:
        assert s.sentiment.label in {"negative", "neutral", "positive"}
        assert sum(s.sentiment.probabilities.values()) == pytest.approx(1, abs=1e-3)
        assert s.topic.label in {"markets", "legal", "technology"}
        assert len(s.similarity) == 2
    assert e.versions["sentiment"].startswith("sentiment@")


def test_batching_does_not_change_results(tiny_models) -> None:
    texts = [("the company " * n).strip() for n in range(1, 40)]
    e = engine(tiny_models, max_batch_tokens=64)
    small = e.encoder.embed(texts)
    large = engine(tiny_models, max_batch_tokens=100_000).encoder.embed(texts)
    alone = torch.cat([e.encoder.embed([t]) for t in texts])  # unbatched: no padding at all
    assert torch.allclose(small, large, atol=1e-5)
    assert torch.allclose(alone, large, atol=1e-5)


async def test_next_batch_is_tokenised_while_the_model_runs(tiny_models, portfolio) -> None:
    e = engine(tiny_models, portfolio_path=portfolio)
    batches = [[f"the company {n} " * 5, "shares"] for n in range(3)]
    expected = [e.score_texts(b) for b in batches]
    tokenised: list[str] = []
    second_tokenised = threading.Event()

    def on_timing(scorer: str, seconds: float) -> None:
        if scorer == "tokenize":
            tokenised.append(threading.current_thread().name)
            if len(tokenised) == 2:
                second_tokenised.set()

    def on_forward_tokens(padded: int) -> None:
        # The model thread holds the first batch until the second is tokenised: that only
        # happens if tokenising runs beside the model, not before it on the same thread.
        assert second_tokenised.wait(10)

    e.on_timing = on_timing
    e.on_forward_tokens = on_forward_tokens
    got = await asyncio.gather(*(e.score(b) for b in batches))
    assert got == expected
    assert all(name.startswith("argus-tokenize") for name in tokenised)
    e.close()


def test_prototype_heads_without_checkpoints(tiny_models) -> None:
    e = engine(tiny_models)
    assert "prototypes" in e.versions["topic"]
    assert e.score_texts(["record profit"])[0].sentiment.label in {
        "negative",
        "neutral",
        "positive",
    }


async def test_async_score_runs_off_the_loop(tiny_models) -> None:
    e = engine(tiny_models)
    out = await e.score(["hello", "world"])
    assert len(out) == 2
    e.close()


def test_hooks_time_every_scorer_and_count_padded_tokens(tiny_models, portfolio) -> None:
    e = engine(
        tiny_models,
        topic_model_path=tiny_models["topic"],
        sentiment_model_path=tiny_models["sentiment"],
        portfolio_path=portfolio,
        max_batch_tokens=64,
    )
    texts = ["a battery claim", ("the company " * 20).strip(), "shares"]
    assert len(e.score_texts(texts)) == 3  # no hooks: nothing breaks
    timings: list[tuple[str, float]] = []
    tokens: list[int] = []
    e.on_timing = lambda scorer, seconds: timings.append((scorer, seconds))
    e.on_forward_tokens = tokens.append
    e.score_texts(texts)
    assert [s for s, _ in timings] == ["tokenize", *MODEL_THREAD_SCORERS]
    assert all(seconds >= 0 for _, seconds in timings)
    # Encoder, both checkpoint classifiers and the portfolio's passages: several passes,
    # none above the budget, and the long text cannot share one.
    assert len(tokens) >= 6 and all(0 < n <= 64 for n in tokens)


def test_missing_model_is_a_clear_error(tmp_path: Path, tiny_models) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        ScoringEngine.from_settings(Settings(encoder_path=tmp_path / "none"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        ScoringEngine.from_settings(Settings(encoder_path=tmp_path / "empty"))
    with pytest.raises(ModelLoadError, match="must be exactly"):
        engine(tiny_models, sentiment_model_path=tiny_models["topic"])


def test_bad_portfolio(tmp_path: Path) -> None:
    p = tmp_path / "p.jsonl"
    p.write_text('{"id": "a", "kind": "trademark"}\n')
    with pytest.raises(PortfolioError, match=r"p.jsonl:1: text"):
        read_portfolio(p)


def test_strong_matches_carry_evidence(tiny_models, tmp_path: Path) -> None:
    p = tmp_path / "claims.jsonl"
    claim = "a battery claim with a sensor; the drone brand launch; the court ruling of the company"
    p.write_text(json.dumps({"id": "pc-1", "kind": "patent_claim", "text": claim}) + "\n")
    e = engine(tiny_models, portfolio_path=p, evidence_min_similarity=0.99)
    copy, other = e.score_texts([claim, "shares"])
    match = copy.similarity[0]
    assert match.coverage == 1.0 and match.infringement_score > 90
    assert {ev.element for ev in match.evidence} == {ev.passage for ev in match.evidence}
    assert other.similarity[0].evidence == [] and other.similarity[0].coverage is None


def test_checkpoint_classifiers_reuse_the_encoders_token_ids(tiny_models) -> None:
    e = engine(
        tiny_models,
        topic_model_path=tiny_models["topic"],
        sentiment_model_path=tiny_models["sentiment"],
    )
    assert e.topic.reuses_encoder_ids and e.sentiment.reuses_encoder_ids  # same tokenizer
    texts = ["a battery claim", "the shares of the company " * 30]
    shared = e.score_texts(texts)
    e.topic.reuses_encoder_ids = e.sentiment.reuses_encoder_ids = False
    assert e.score_texts(texts) == shared
    # Another truncation length makes other ids: no sharing.
    shorter = dataclasses.replace(e.encoder.loaded, max_length=8)
    assert not same_tokenization(shorter, e.topic.loaded)


def test_int8_on_cpu_is_named_and_close_to_float32(tiny_models) -> None:
    texts = ["a battery claim", "the shares of the company", "drone brand launch"]
    fp32 = engine(tiny_models, topic_model_path=tiny_models["topic"])
    int8 = engine(tiny_models, topic_model_path=tiny_models["topic"], int8=True)
    assert int8.versions["encoder"] == fp32.versions["encoder"] + "+int8"
    assert int8.versions["topic"] == fp32.versions["topic"] + "+int8"
    cos = torch.nn.functional.cosine_similarity(
        fp32.encoder.embed(texts), int8.encoder.embed(texts)
    )
    assert bool((cos > 0.95).all()), cos
    assert len(int8.score_texts(texts)) == 3


def assert_same_scores(got: list, expected: list) -> None:
    """Equal up to float noise: merged batches pad differently."""
    assert len(got) == len(expected)
    for g, x in zip(got, expected, strict=True):
        assert g.topic.label == x.topic.label and g.sentiment.label == x.sentiment.label
        assert g.sentiment.probabilities == pytest.approx(x.sentiment.probabilities, abs=1e-3)
        assert [m.item_id for m in g.similarity] == [m.item_id for m in x.similarity]


def test_merged_batches_score_as_they_would_alone(tiny_models, portfolio) -> None:
    e = engine(tiny_models, portfolio_path=portfolio)
    news = e.prepare(["the company results", "shares of a battery maker"])
    patents = e.prepare(["a battery claim with a sensor"])
    alone = engine(tiny_models, portfolio_path=portfolio)
    expected = alone.score_batch(news) + alone.score_batch(patents)
    got = e.score_batch(Routed.concat([news, patents]))
    assert_same_scores(got, expected)


def test_relations_between_the_entities_a_sentence_names(tiny_models) -> None:
    watched = {"Tidewater Bank", "Voltaris Energy"}

    def mentions(text: str) -> list[tuple[int, int, str]]:
        return sorted((text.find(n), text.find(n) + len(n), n) for n in watched if n in text)

    e = ScoringEngine.from_settings(
        Settings(encoder_path=tiny_models["encoder"], device="cpu", relations="patterns"),
        find_mentions=mentions,
    )
    text = "Tidewater Bank sued Voltaris Energy over a patent. Shares fell."
    others = "Kelmont Alloys agreed to acquire Brisk Tools Inc. for $40 million."
    sued, alone, unwatched = e.score_texts([text, "Tidewater Bank reported results.", others])
    [r] = sued.relations
    assert (r.subject, r.relation, r.object, r.watched) == (
        "Tidewater Bank",
        "litigation",
        "Voltaris Energy",
        True,
    )
    assert r.sentence == "Tidewater Bank sued Voltaris Energy over a patent."
    assert alone.relations == []
    # Organisations off the watch list are found in the text too.
    [bought] = unwatched.relations
    assert (bought.subject, bought.relation, bought.object, bought.watched) == (
        "Kelmont Alloys",
        "acquisition",
        "Brisk Tools Inc",
        False,
    )
    off = ScoringEngine.from_settings(
        Settings(encoder_path=tiny_models["encoder"], device="cpu", relations_path=None),
        find_mentions=mentions,
    )
    assert off.score_texts([text])[0].relations == []
