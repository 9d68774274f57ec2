"""The data path for one micro-batch: validate → score | index → publish → ack.

Two stages per source (streams/stages.py): `score_batch` on the model's side, then
`write_batch` on the Kafka and Elasticsearch side, the next batch scored while the last
one is written.

Offsets: the agents consume with `noack_take`, so Faust commits nothing on its
own. An event is acked only once its document (or its dead letter) is
acknowledged and every message it caused was accepted by Kafka. Faust commits
the highest contiguous acked offset per partition, so a crash anywhere before
the ack replays the record, and the replay collides with its first copy (409).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from elasticsearch import AsyncElasticsearch
from faust.types import EventT

from indexer.actions import dead_letter_action, event_action, event_doc_id
from indexer.bulk_writer import BulkWriter
from indexer.prior_art import PriorArtIndex, filings_of
from indexer.templates import install_templates
from models.engine import ScoringEngine
from models.noop import NoopEngine
from models.novelty import novelty
from models.portfolio import explain_matches
from streams.contracts.schemas import (
    DLQ_VALUE_LIMIT,
    DeadLetter,
    InputRecord,
    KafkaPosition,
    LanguageGuess,
    PatentFiling,
    RuleHit,
    ScoredEvent,
    Scores,
    Source,
    Stage,
)
from streams.contracts.settings import Settings
from streams.contracts.topics import DLQ_TOPIC, INPUT_TOPICS, RULE_HITS_TOPIC, SCORED_TOPIC
from streams.masking import mask_bytes, mask_record, mask_text
from streams.metrics import Metrics
from streams.publisher import Publisher
from streams.retry import until_done
from streams.rules.files import RuleSet
from streams.rules.hits import batch_hits, hit_key
from streams.stages import two_stages
from streams.validation import Invalid, validate_record
from streams.watchlist import Tagger

log = logging.getLogger(__name__)


def dead_letter(event: EventT, reason: str, stage: Stage, *, mask: bool = False) -> DeadLetter:
    """The DLQ entry for a record. `mask` (its source is in ARGUS_MASK_PII): value, key and
    reason go through `mask_bytes`/`mask_text` first, as the record's text would have, since
    the reason may quote the record (a key that does not match, Elasticsearch's preview of a
    refused field's value). The whole value is masked before it is cut to DLQ_VALUE_LIMIT, so
    the cut cannot split an address into pieces the patterns no longer recognise."""
    msg = event.message
    value, key = msg.value or b"", msg.key
    size = len(value)
    if mask:
        value, reason = mask_bytes(value), mask_text(reason)
        key = mask_bytes(key) if key is not None else None
    return DeadLetter(
        reason=reason,
        stage=stage,
        source_topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
        value_b64=base64.b64encode(value[:DLQ_VALUE_LIMIT]).decode(),
        value_bytes=size,
        value_truncated=len(value) > DLQ_VALUE_LIMIT,
        value_masked=mask,
        failed_at=datetime.now(UTC),
    )


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
        self.prior_art: dict[str, PriorArtIndex] = {}  # by encoder version
        self.metrics = Metrics()
        engine.on_timing = lambda scorer, s: self.metrics.scorer_seconds.labels(scorer).observe(s)
        engine.on_forward_tokens = self.metrics.batch_tokens.observe

    async def score_batch(self, source: Source, events: Sequence[EventT]) -> ScoredBatch:
        """Validate and score: the model's side of a micro-batch. Bad records become dead
        letters here; nothing is written anywhere yet."""
        m = self.metrics
        m.records.labels(source, "consumed").inc(len(events))
        m.batch_size.labels(source).observe(len(events))
        letters: list[DeadLetter] = []
        valid: list[tuple[EventT, InputRecord]] = []
        for ev in events:
            checked = validate_record(
                source,
                ev.message.value,
                ev.message.key,
                self.settings.max_record_bytes,
                ev.message.headers,
            )
            if isinstance(checked, Invalid):
                letters.append(self._dead_letter(source, ev, checked.reason, "validation"))
            else:
                masked = mask_record(checked) if source in self.settings.mask_pii else checked
                valid.append((ev, masked))

        scored: list[tuple[EventT, ScoredEvent]] = []
        prior_art: list[dict[str, Any]] = []
        if valid:
            with m.model_seconds.labels(source).time():
                scores = await self._score(source, valid, letters)
            if source == "patents":
                prior_art = await self._compare_with_prior_art(valid, scores)
            now = datetime.now(UTC)
            for (ev, rec), sc in zip(valid, scores, strict=True):
                if sc is not None:
                    scored.append((ev, self._scored_event(source, ev, rec, sc, now)))
        # Records that failed validation have no id; those that failed later do.
        record_ids = {(ev.message.partition, ev.message.offset): r.record_id for ev, r in valid}
        return ScoredBatch(source, events, scored, letters, record_ids, prior_art)

    async def _compare_with_prior_art(
        self, valid: list[tuple[EventT, InputRecord]], scores: list[Scores | None]
    ) -> list[dict[str, Any]]:
        """Each filing's novelty and nearest earlier filings, in the prior art of the encoder
        that embedded it; returns the actions adding the filings to it."""
        by_encoder: dict[str, list[tuple[PatentFiling, Scores]]] = {}
        for (_, rec), sc in zip(valid, scores, strict=True):
            # The noop engine embeds nothing: no novelty there.
            if isinstance(rec, PatentFiling) and sc is not None and sc.embedding is not None:
                by_encoder.setdefault(sc.models["encoder"], []).append((rec, sc))
        actions = []
        for encoder, pairs in by_encoder.items():
            index = self.prior_art.setdefault(
                encoder, PriorArtIndex(self.es, encoder, self.settings.novelty_capacity)
            )
            filings = filings_of([(rec, sc.embedding) for rec, sc in pairs])
            with self.metrics.scorer_seconds.labels("novelty").time():
                found = await index.compare(filings)
            for (_, sc), nearest in zip(pairs, found, strict=True):
                sc.novelty, sc.prior_art = novelty(nearest), nearest
            actions += index.actions(filings)
        return actions

    async def write_batch(self, batch: ScoredBatch) -> BatchOutcome:
        """Index, publish scored events, rule hits and dead letters: the Kafka and
        Elasticsearch side. Safe to run again after a failure (documents collide with their
        first copies)."""
        m, source, scored = self.metrics, batch.source, batch.scored
        outcome = BatchOutcome(dead_letters=list(batch.dead_letters))
        actions = [event_action(e) for _, e in scored]
        with m.bulk_seconds.labels(source).time():
            failed = (await self.writer.write(actions)).failed if actions else {}
        m.bulk_failures.labels(source).inc(len(failed))
        for pos, reason in sorted(failed.items()):
            outcome.dead_letters.append(
                self._dead_letter(
                    source, scored[pos][0], f"indexing {actions[pos]['_id']}: {reason}", "indexing"
                )
            )
        if batch.prior_art:
            refused = (await self.writer.write(batch.prior_art)).failed
            for pos, reason in refused.items():  # later filings miss it: worth a warning
                log.warning("prior art %s not indexed: %s", batch.prior_art[pos]["_id"], reason)
        ok_events = [e for i, (_, e) in enumerate(scored) if i not in failed]
        hits = batch_hits(self.rules, ok_events)
        outcome.indexed = len(ok_events)
        outcome.rule_hits = len(hits)
        m.records.labels(source, "indexed").inc(outcome.indexed)
        m.records.labels(source, "dead_lettered").inc(len(outcome.dead_letters))
        for letter in outcome.dead_letters:
            m.dead_letters.labels(source, letter.stage).inc()
            log.info(
                "dead-lettered: %s",
                letter.reason,
                extra={
                    "source": source,
                    "record_id": batch.record_ids.get((letter.partition, letter.offset)),
                    "stage": letter.stage,
                    "partition": letter.partition,
                    "offset": letter.offset,
                },
            )
        for hit in hits:
            m.rule_hits.labels(hit.rule).inc()
        if outcome.dead_letters:
            await self._index_dead_letters(source, outcome.dead_letters)
        await self._publish(ok_events, hits, outcome.dead_letters)
        return outcome

    def _dead_letter(self, source: Source, ev: EventT, reason: str, stage: Stage) -> DeadLetter:
        return dead_letter(ev, reason, stage, mask=source in self.settings.mask_pii)

    async def _index_dead_letters(self, source: Source, letters: list[DeadLetter]) -> None:
        # For dashboards only: the Kafka DLQ is the record, so a refusal is logged, not retried.
        result = await self.writer.write([dead_letter_action(source, d) for d in letters])
        for pos, reason in result.failed.items():
            # The "dead-lettered" line for the same partition and offset has the record id.
            log.warning(
                "dead letter %d of %s not indexed: %s",
                pos,
                source,
                reason,
                extra={
                    "source": source,
                    "partition": letters[pos].partition,
                    "offset": letters[pos].offset,
                },
            )

    async def _score(
        self, source: Source, valid: list[tuple[EventT, InputRecord]], letters: list[DeadLetter]
    ) -> list[Scores | None]:
        """Score a batch; on failure split it, so only records that fail alone go to the DLQ."""
        texts = [rec.scoring_text() for _, rec in valid]
        try:
            return list(await self.engine.score(texts))
        except Exception as e:  # noqa: BLE001 - a model error must never stop the worker
            if len(texts) == 1:
                log.warning(
                    "scoring failed for one record: %r",
                    e,
                    extra={
                        "source": source,
                        "record_id": valid[0][1].record_id,
                        "partition": valid[0][0].message.partition,
                        "offset": valid[0][0].message.offset,
                    },
                )
                letters.append(
                    self._dead_letter(source, valid[0][0], f"scoring failed: {e!r}", "scoring")
                )
                return [None]
            mid = len(valid) // 2
            left = await self._score(source, valid[:mid], letters)
            right = await self._score(source, valid[mid:], letters)
            return left + right

    def _scored_event(
        self, source: Source, ev: EventT, rec: InputRecord, scores: Scores, now: datetime
    ) -> ScoredEvent:
        msg = ev.message
        explain_matches(scores.similarity, rec, self.engine.portfolio_item)
        return ScoredEvent(
            doc_id=event_doc_id(source, rec.record_id),
            source=source,
            record_id=rec.record_id,
            timestamp=rec.event_time,
            scored_at=now,
            text=rec.scoring_text(),
            language=rec.language or _identified(scores.language),
            language_declared=rec.language,
            entities=self.tagger.tag(rec.tagging_text()),
            record=rec.event_record(),
            scores=scores,
            models=scores.models or self.engine.versions,
            kafka=KafkaPosition(
                topic=msg.topic,
                partition=msg.partition,
                offset=msg.offset,
                timestamp=datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else None,
            ),
        )

    async def _publish(
        self, events: list[ScoredEvent], hits: list[RuleHit], dead: list[DeadLetter]
    ) -> None:
        send = self.publisher.send
        pending = [
            *[
                await send(SCORED_TOPIC, e.doc_id.encode(), e.model_dump_json().encode())
                for e in events
            ],
            *[await send(RULE_HITS_TOPIC, hit_key(h), h.model_dump_json().encode()) for h in hits],
        ]
        for d in dead:
            key = base64.b64decode(d.key_b64) if d.key_b64 else None
            pending.append(await send(DLQ_TOPIC, key, d.model_dump_json().encode()))
        for fut in pending:
            await fut


def _identified(guess: LanguageGuess | None) -> str:
    # An unsure guess (a ticker, a few words) names no language rather than a wrong one.
    return guess.code if guess is not None and guess.confident else "und"


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
