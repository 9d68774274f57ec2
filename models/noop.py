"""A scoring engine that runs no model: for measuring the pipeline's own ceiling.

`ARGUS_SCORING=noop` puts it in a worker, so `argus bench` can show what Kafka, validation,
indexing and the rules cost without the models (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from models.portfolio import PortfolioItem
from streams.contracts.schemas import Scores, SentimentScore, TopicScore
from streams.contracts.settings import Settings

NOOP_SCORES = Scores(
    topic=TopicScore(label="none", score=1.0, probabilities={"none": 1.0}),
    sentiment=SentimentScore(label="neutral", score=1.0, probabilities={"neutral": 1.0}),
    similarity=[],
)


@dataclass
class NoopPortfolio:
    items: list[PortfolioItem] = field(default_factory=list)

    @property
    def item_by_id(self) -> dict[str, PortfolioItem]:
        return {i.id: i for i in self.items}


class NoopEngine:
    versions = {"encoder": "noop", "topic": "noop", "sentiment": "noop"}

    def __init__(self) -> None:
        self.portfolio = NoopPortfolio()
        # The measuring hooks of ScoringEngine: set by the pipeline, never called here.
        self.on_timing: Callable[[str, float], None] | None = None
        self.on_forward_tokens: Callable[[int], None] | None = None

    async def score(self, texts: Sequence[str]) -> list[Scores]:
        return [NOOP_SCORES] * len(texts)

    async def reload_portfolio(self, items: list[PortfolioItem]) -> None:
        self.portfolio = NoopPortfolio(items)

    async def reload_models(self, settings: Settings) -> list[str]:
        return []

    def portfolio_item(self, item_id: str) -> PortfolioItem | None:
        return self.portfolio.item_by_id.get(item_id)

    def close(self) -> None:
        pass
