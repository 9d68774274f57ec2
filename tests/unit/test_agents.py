"""The batch path's failure handling, with a stand-in engine (no Kafka, no models)."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from streams.agents import ScoringPipeline
from streams.contracts.schemas import (
    DLQ_VALUE_LIMIT,
    DeadLetter,
    Scores,
    SentimentScore,
    SocialPost,
    TopicScore,
)
from streams.contracts.settings import Settings
from streams.dead_letters import dead_letter
from streams.documents import scored_event
from streams.metrics import Metrics
from streams.scoring import score_records

SCORES = Scores(
    topic=TopicScore(label="legal", score=1.0, probabilities={"legal": 1.0}),
    sentiment=SentimentScore(label="neutral", score=1.0, probabilities={"neutral": 1.0}),
    similarity=[],
)


class FlakyEngine:
    """Raises, like a CUDA out-of-memory error, for any batch holding a poisoned text."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def score(self, texts):  # noqa: ANN001, ANN201 - stand-in
        self.calls.append(len(texts))
        if any("boom" in t for t in texts):
            raise RuntimeError("CUDA out of memory")
        return [SCORES for _ in texts]


def record(i: int, text: str) -> tuple[SimpleNamespace, SocialPost]:
    msg = SimpleNamespace(topic="argus.social", partition=0, offset=i, key=None, value=b"{}")
    post = SocialPost(id=f"p{i}", platform="x", author="a", text=text, created_at="2026-01-01")
    return SimpleNamespace(message=msg), post


async def test_failing_batch_is_split_until_the_culprit_is_alone() -> None:
    engine = FlakyEngine()
    valid = [record(i, "boom" if i == 5 else f"fine {i}") for i in range(8)]
    scores, letters = await score_records(engine, "social", valid, mask=False)
    assert [s is None for s in scores] == [i == 5 for i in range(8)]
    assert len(letters) == 1
    letter = letters[0]
    assert letter.offset == 5 and letter.stage == "scoring" and "out of memory" in letter.reason
    assert engine.calls[0] == 8 and max(engine.calls[1:]) <= 4
    assert not letter.value_masked and base64.b64decode(letter.value_b64) == b"{}"


PII = "write to ann.lee@example.com or call +1 (415) 555-0134, ping @ann_lee"
PII_MASKED = "write to [email] or call [phone], ping [handle]"


def event(value: bytes, key: bytes | None = None, offset: int = 0) -> SimpleNamespace:
    msg = SimpleNamespace(
        topic="argus.social", partition=1, offset=offset, key=key, value=value, headers=None
    )
    return SimpleNamespace(message=msg)


def unmasked(letter: DeadLetter) -> str:
    """Everything a reader of the letter sees, decoded."""
    key = base64.b64decode(letter.key_b64).decode() if letter.key_b64 else ""
    return f"{letter.reason} {key} {base64.b64decode(letter.value_b64).decode()}"


def test_dead_letter_of_a_masked_source_carries_masked_value_key_and_reason() -> None:
    raw = f"not json, {PII}".encode()
    letter = dead_letter(event(raw, b"ann@example.com"), f"bad: {PII}", "validation", mask=True)
    assert letter.value_masked and letter.value_bytes == len(raw)
    seen = unmasked(letter)
    for secret in ("ann.lee@example.com", "ann@example.com", "555-0134", "@ann_lee"):
        assert secret not in seen
    assert base64.b64decode(letter.key_b64) == b"[email]"
    assert base64.b64decode(letter.value_b64) == b"not json, " + PII_MASKED.encode()
    assert letter.reason == f"bad: {PII_MASKED}"
    # Unmasked: the bytes as they came.
    plain = dead_letter(event(raw, b"k"), "bad", "validation")
    assert not plain.value_masked and base64.b64decode(plain.value_b64) == raw


def test_a_masked_letter_is_masked_whole_then_cut() -> None:
    # An address across the cut: cut first, "ann@exam" would no longer look like one.
    raw = b"x" * (DLQ_VALUE_LIMIT - 4) + b" ann@example.com tail"
    letter = dead_letter(event(raw), "too big", "validation", mask=True)
    value = base64.b64decode(letter.value_b64)
    assert b"ann@" not in value and value.endswith(b" [em")
    assert letter.value_truncated and letter.value_bytes == len(raw)
    # Masking shrank it under the limit: complete, not truncated.
    short = b"x" * (DLQ_VALUE_LIMIT - 10) + b" " + b"a" * 60 + b"@example.com"
    whole = dead_letter(event(short), "r", "validation", mask=True)
    assert not whole.value_truncated and base64.b64decode(whole.value_b64).endswith(b"[email]")


@pytest.mark.parametrize("masked_sources", [["social"], []])
async def test_the_pipeline_masks_the_letters_of_masked_sources(masked_sources: list) -> None:
    pipeline = object.__new__(ScoringPipeline)
    pipeline.settings = Settings(mask_pii=masked_sources)
    pipeline.metrics = Metrics()
    pipeline.engine = FlakyEngine()
    pipeline.tagger = SimpleNamespace(tag=lambda text: [])
    post = {"id": "p1", "platform": "x", "author": "a", "created_at": "2026-01-01"}
    bad = json.dumps({**post, "text": PII, "engagement": {"likes": -5}}).encode()
    wrong_key = json.dumps({**post, "text": PII}).encode()
    # Scoring failures too.
    boom = json.dumps({**post, "id": "p2", "text": f"boom {PII}"}).encode()
    batch = await pipeline.score_batch(
        "social",
        [event(bad, b"p1", 0), event(wrong_key, b"ann@example.com", 1), event(boom, b"p2", 2)],
    )
    assert [d.stage for d in batch.dead_letters] == ["validation", "validation", "scoring"]
    assert not batch.scored
    for letter in batch.dead_letters:
        seen = unmasked(letter)
        assert letter.value_masked is bool(masked_sources)
        assert ("ann.lee@example.com" in seen) is not masked_sources, seen
        assert ("555-0134" in seen) is not masked_sources, seen
    key_reason = batch.dead_letters[1].reason
    assert ("ann@example.com" in key_reason) is not masked_sources, key_reason


async def test_an_owners_own_copy_is_marked_authorised() -> None:
    from models.noop import NoopEngine
    from models.portfolio import PortfolioItem
    from streams.contracts.schemas import PortfolioMatch

    item = PortfolioItem(
        id="tm-1",
        kind="trademark",
        text="slogan",
        owner="Brightwell Coffee",
        licensees=["Daybreak"],
    )
    engine = NoopEngine()
    await engine.reload_portfolio([item])

    def scored_by(author: str) -> str | None:
        ev, post = record(0, "slogan")
        ev.message.timestamp = None
        post = post.model_copy(update={"author": author})
        match = PortfolioMatch(item_id="tm-1", kind="trademark", score=0.99)
        scores = SCORES.model_copy(update={"similarity": [match]})
        event = scored_event(
            "social", ev, post, scores, post.created_at, engine=engine, entities=[]
        )
        return event.scores.similarity[0].authorised

    assert scored_by("@Brightwell_Coffee") == "owner"
    assert scored_by("daybreak") == "licensee"
    assert scored_by("someone") is None
