"""The batch path's failure handling, with a stand-in engine (no Kafka, no models)."""

from __future__ import annotations

from types import SimpleNamespace

from streams.agents import ScoringPipeline
from streams.schemas import DeadLetter, Scores, SentimentScore, SocialPost, TopicScore

SCORES = Scores(
    topic=TopicScore(label="legal", score=1.0, probabilities={"legal": 1.0}),
    sentiment=SentimentScore(label="neutral", score=1.0, probabilities={"neutral": 1.0}),
    similarity=[],
)


class FlakyEngine:
    """Raises, like a CUDA out-of-memory error, for any batch holding a poisoned text."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def score(self, texts, novelty_ids=None):  # noqa: ANN001, ANN201 - stand-in
        self.calls.append(len(texts))
        if any("boom" in t for t in texts):
            raise RuntimeError("CUDA out of memory")
        return [SCORES for _ in texts]


def record(i: int, text: str) -> tuple[SimpleNamespace, SocialPost]:
    msg = SimpleNamespace(topic="argus.social", partition=0, offset=i, key=None, value=b"{}")
    post = SocialPost(id=f"p{i}", platform="x", author="a", text=text, created_at="2026-01-01")
    return SimpleNamespace(message=msg), post


async def test_failing_batch_is_split_until_the_culprit_is_alone() -> None:
    pipeline = object.__new__(ScoringPipeline)
    pipeline.engine = FlakyEngine()
    valid = [record(i, "boom" if i == 5 else f"fine {i}") for i in range(8)]
    letters: list[DeadLetter] = []
    scores = await pipeline._score("social", valid, letters)
    assert [s is None for s in scores] == [i == 5 for i in range(8)]
    assert len(letters) == 1
    letter = letters[0]
    assert letter.offset == 5 and letter.stage == "scoring" and "out of memory" in letter.reason
    assert pipeline.engine.calls[0] == 8 and max(pipeline.engine.calls[1:]) <= 4
