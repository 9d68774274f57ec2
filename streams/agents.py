"""The data path for one micro-batch, in order:

validate (streams/validation.py) → score (streams/scoring.py) → build the documents
(streams/documents.py) | write (streams/writing.py), dead letters (streams/dead_letters.py)
→ publish (streams/publisher.py) → ack.

Two stages per source (streams/stages.py): `ScoringPipeline.score_batch` on the model's side,
then `write_batch` on the Kafka and Elasticsearch side, the next batch scored while the last
one is written.

Offsets: the agents consume with `noack_take`, so Faust commits nothing on its
own. An event is acked only once its document (or its dead letter) is
acknowledged and every message it caused was accepted by Kafka. Faust commits
the highest contiguous acked offset per partition, so a crash anywhere before
the ack replays the record, and the replay collides with its first copy (409).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from elasticsearch import AsyncElasticsearch
from faust.types import EventT

from indexer.bulk_writer import BulkWriter
from indexer.templates import install_templates
from models.engine import ScoringEngine
from models.noop import NoopEngine
from streams.contracts.schemas import DeadLetter, ScoredEvent, Source
from streams.contracts.settings import Settings
from streams.contracts.topics import INPUT_TOPICS
from streams.dead_letters import index_dead_letters, log_dead_letters
from streams.documents import scored_events
from streams.metrics import Metrics
from streams.publisher import Publisher
from streams.retry import until_done
from streams.rules.files import RuleSet
from streams.rules.hits import batch_hits
from streams.scoring import PriorArt, score_records
from streams.stages import two_stages
from streams.validation import validate_batch
from streams.watchlist import Tagger
from streams.writing import write_events, write_prior_art

log = logging.getLogger(__name__)


@dataclass
class BatchOutcome:
    indexed: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    rule_hits: int = 0


@dataclass
class ScoredBatch:
    """A micro-batch validated and scored, waiting to be indexed."""

    source: Source
    events: Sequence[EventT]
    scored: list[tuple[EventT, ScoredEvent]]
    dead_letters: list[DeadLetter]  # so far: validation and scoring
    record_ids: dict[tuple[int, int], str]  # (partition, offset) -> record id, for the logs
    prior_art: list[dict[str, Any]]  # bulk actions adding this batch's patent filings


class ScoringPipeline:
    """Runs a micro-batch through the parts of the data path, in order, and counts it."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        engine: ScoringEngine | NoopEngine,
        es: AsyncElasticsearch,
        rules: RuleSet,
        tagger: Tagger,
        publisher: Publisher,
    ) -> None:
        self.app = app
        self.publisher = publisher
        self.settings = settings
        self.engine = engine
        self.es = es
        self.rules = rules
        self.tagger = tagger
        self.writer = BulkWriter(es, setup=lambda: install_templates(es))
        self.metrics = Metrics()
        self.prior_art = PriorArt(es, settings.novelty_capacity, self.metrics)
        engine.on_timing = lambda scorer, s: self.metrics.scorer_seconds.labels(scorer).observe(s)
        engine.on_forward_tokens = self.metrics.batch_tokens.observe

    async def score_batch(self, source: Source, events: Sequence[EventT]) -> ScoredBatch:
        """Validate and score: the model's side of a micro-batch. Bad records become dead
        letters here; nothing is written anywhere yet."""
        m, mask = self.metrics, source in self.settings.mask_pii
        m.records.labels(source, "consumed").inc(len(events))
        m.batch_size.labels(source).observe(len(events))
        valid, letters = validate_batch(source, events, self.settings.max_record_bytes, mask=mask)
        scored: list[tuple[EventT, ScoredEvent]] = []
        prior_art: list[dict[str, Any]] = []
        if valid:
            with m.model_seconds.labels(source).time():
                scores, failed = await score_records(self.engine, source, valid, mask=mask)
            letters += failed
            if source == "patents":
                prior_art = await self.prior_art.compare(valid, scores)
            now = datetime.now(UTC)
            scored = scored_events(
                source, valid, scores, now, engine=self.engine, tagger=self.tagger
            )
        # Records that failed validation have no id; those that failed later do.
        record_ids = {(ev.message.partition, ev.message.offset): r.record_id for ev, r in valid}
        return ScoredBatch(source, events, scored, letters, record_ids, prior_art)

    async def write_batch(self, batch: ScoredBatch) -> BatchOutcome:
        """Index, publish scored events, rule hits and dead letters: the Kafka and
        Elasticsearch side. Safe to run again after a failure (documents collide with their
        first copies)."""
        m, source = self.metrics, batch.source
        mask = source in self.settings.mask_pii
        written = await write_events(self.writer, source, batch.scored, m, mask=mask)
        await write_prior_art(self.writer, batch.prior_art)
        letters = [*batch.dead_letters, *written.dead_letters]
        hits = batch_hits(self.rules, written.events)
        m.records.labels(source, "indexed").inc(len(written.events))
        m.records.labels(source, "dead_lettered").inc(len(letters))
        for letter in letters:
            m.dead_letters.labels(source, letter.stage).inc()
        log_dead_letters(source, letters, batch.record_ids)
        for of_key in hits.values():
            m.rule_hits.labels(of_key[0].rule).inc(len(of_key))
        if letters:
            await index_dead_letters(self.writer, source, letters)
        await self.publisher.publish_batch(written, hits, letters)
        return BatchOutcome(
            indexed=len(written.events),
            dead_letters=letters,
            rule_hits=sum(len(of_key) for of_key in hits.values()),
        )


def register_agents(app: faust.App, pipeline: ScoringPipeline, settings: Settings) -> None:
    """One agent per input topic; in each, scoring and writing overlap (streams/stages.py).

    Bad records cannot fail a batch (they are dead-lettered): what is left is a Kafka or
    Elasticsearch outage or a defect, so either stage is retried, never skipped; re-running
    is safe because documents collide with their first copies (409).
    """
    within = settings.batch_max_wait_ms / 1000

    def make_agent(source: Source, topic_name: str) -> None:
        topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")

        async def score_source(stream: faust.StreamT) -> None:
            async def score(events: list[EventT]) -> ScoredBatch:
                what = f"scoring a {source} batch of {len(events)}"
                return await until_done(lambda: pipeline.score_batch(source, events), what)

            async def write(batch: ScoredBatch) -> None:
                what = f"writing a {source} batch of {len(batch.events)}"
                out = await until_done(lambda: pipeline.write_batch(batch), what)
                for ev in batch.events:
                    await stream.ack(ev)
                log.info(
                    "%s batch: %d records, %d indexed, %d dead-lettered, %d rule hits",
                    source,
                    len(batch.events),
                    out.indexed,
                    len(out.dead_letters),
                    out.rule_hits,
                )

            batches = stream.noack_take(settings.batch_max_size, within)
            await two_stages(batches, score, write, settings.pipeline_depth)

        app.agent(topic, name=f"argus.score.{source}")(score_source)

    for source, topic_name in INPUT_TOPICS.items():
        make_agent(source, topic_name)

    @app.on_before_shutdown.connect
    async def close_clients(app: faust.App, **kwargs: Any) -> None:
        await pipeline.es.close()
        await pipeline.publisher.close()
        pipeline.engine.close()
