"""Scoring a batch's valid records: the engine, split on failure so only records that fail
alone are dead-lettered, and, for patent filings, the comparison with prior art."""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import AsyncElasticsearch
from faust.types import EventT

from indexer.prior_art import PriorArtIndex, filings_of
from models.engine import ScoringEngine
from models.noop import NoopEngine
from models.novelty import novelty
from streams.contracts.schemas import DeadLetter, InputRecord, PatentFiling, Scores, Source
from streams.dead_letters import dead_letter
from streams.metrics import Metrics

log = logging.getLogger(__name__)


async def score_records(
    engine: ScoringEngine | NoopEngine,
    source: Source,
    valid: list[tuple[EventT, InputRecord]],
    *,
    mask: bool,
) -> tuple[list[Scores | None], list[DeadLetter]]:
    """Each record's scores (None for one that failed) and the dead letters of those that
    failed, in input order. On failure the batch is split in halves until the culprits are
    alone. `mask`: the letters are masked (the source is in ARGUS_MASK_PII)."""
    texts = [rec.scoring_text() for _, rec in valid]
    try:
        return list(await engine.score(texts)), []
    except Exception as e:  # noqa: BLE001 - a model error must never stop the worker
        if len(texts) == 1:
            ev, rec = valid[0]
            log.warning(
                "scoring failed for one record: %r",
                e,
                extra={
                    "source": source,
                    "record_id": rec.record_id,
                    "partition": ev.message.partition,
                    "offset": ev.message.offset,
                },
            )
            return [None], [dead_letter(ev, f"scoring failed: {e!r}", "scoring", mask=mask)]
        mid = len(valid) // 2
        left, left_letters = await score_records(engine, source, valid[:mid], mask=mask)
        right, right_letters = await score_records(engine, source, valid[mid:], mask=mask)
        return left + right, left_letters + right_letters


class PriorArt:
    """The prior art of each encoder version: the patent filings it embedded, in
    Elasticsearch (indexer/prior_art.py)."""

    def __init__(self, es: AsyncElasticsearch, capacity: int, metrics: Metrics) -> None:
        self._es = es
        self._capacity = capacity
        self._metrics = metrics
        self._indexes: dict[str, PriorArtIndex] = {}  # by encoder version

    async def compare(
        self, valid: list[tuple[EventT, InputRecord]], scores: list[Scores | None]
    ) -> list[dict[str, Any]]:
        """Each filing's novelty and nearest earlier filings, in the prior art of the encoder
        that embedded it (set on its scores); returns the actions adding the filings to it."""
        by_encoder: dict[str, list[tuple[PatentFiling, Scores]]] = {}
        for (_, rec), sc in zip(valid, scores, strict=True):
            # The noop engine embeds nothing: no novelty there.
            if isinstance(rec, PatentFiling) and sc is not None and sc.embedding is not None:
                by_encoder.setdefault(sc.models["encoder"], []).append((rec, sc))
        actions = []
        for encoder, pairs in by_encoder.items():
            index = self._indexes.setdefault(
                encoder, PriorArtIndex(self._es, encoder, self._capacity)
            )
            filings = filings_of([(rec, sc.embedding) for rec, sc in pairs])
            with self._metrics.scorer_seconds.labels("novelty").time():
                found = await index.compare(filings)
            for (_, sc), nearest in zip(pairs, found, strict=True):
                sc.novelty, sc.prior_art = novelty(nearest), nearest
            actions += index.actions(filings)
        return actions
