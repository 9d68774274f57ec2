"""The data path for one micro-batch: validate → score → index → publish → ack.

Offsets: the agents consume with `noack_take`, so Faust commits nothing on its
own. An event is acked only once its document (or its dead letter) is
acknowledged and every message it caused was accepted by Kafka. Faust commits
the highest contiguous acked offset per partition, so a crash anywhere before
the ack replays the record, and the replay collides with its first copy (409).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from elasticsearch import AsyncElasticsearch
from faust.types import EventT

from indexer.actions import alert_action, event_action, event_doc_id
from indexer.bulk_writer import BulkWriter, backoff_seconds
from indexer.templates import install_templates
from models.engine import ScoringEngine
from streams.alert_rules import similarity_alerts
from streams.masking import mask_record
from streams.metrics import Metrics
from streams.schemas import (
    DLQ_VALUE_LIMIT,
    Alert,
    DeadLetter,
    InputRecord,
    KafkaPosition,
    ScoredEvent,
    Scores,
    Source,
    Stage,
)
from streams.settings import Settings
from streams.topics import ALERTS_TOPIC, DLQ_TOPIC, INPUT_TOPICS, SCORED_TOPIC
from streams.validation import Invalid, validate_record

log = logging.getLogger(__name__)


def dead_letter(event: EventT, reason: str, stage: Stage) -> DeadLetter:
    msg = event.message
    value = msg.value or b""
    return DeadLetter(
        reason=reason,
        stage=stage,
        source_topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        key_b64=base64.b64encode(msg.key).decode() if msg.key is not None else None,
        value_b64=base64.b64encode(value[:DLQ_VALUE_LIMIT]).decode(),
        value_bytes=len(value),
        value_truncated=len(value) > DLQ_VALUE_LIMIT,
        failed_at=datetime.now(UTC),
    )


@dataclass
class BatchOutcome:
    indexed: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    alerts: int = 0


class ScoringPipeline:
    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        engine: ScoringEngine,
        es: AsyncElasticsearch,
    ) -> None:
        self.app = app
        self.settings = settings
        self.engine = engine
        self.es = es
        self.writer = BulkWriter(es, setup=lambda: install_templates(es))
        self.metrics = Metrics()

    async def process(self, source: Source, events: Sequence[EventT]) -> BatchOutcome:
        m = self.metrics
        m.records.labels(source, "consumed").inc(len(events))
        m.batch_size.labels(source).observe(len(events))
        outcome = BatchOutcome()
        valid: list[tuple[EventT, InputRecord]] = []
        for ev in events:
            checked = validate_record(
                source, ev.message.value, ev.message.key, self.settings.max_record_bytes
            )
            if isinstance(checked, Invalid):
                outcome.dead_letters.append(dead_letter(ev, checked.reason, "validation"))
            else:
                masked = mask_record(checked) if source in self.settings.mask_pii else checked
                valid.append((ev, masked))

        scored: list[tuple[EventT, ScoredEvent]] = []
        if valid:
            with m.model_seconds.labels(source).time():
                scores = await self._score(source, valid, outcome)
            now = datetime.now(UTC)
            for (ev, rec), sc in zip(valid, scores, strict=True):
                if sc is not None:
                    scored.append((ev, self._scored_event(source, ev, rec, sc, now)))

        threshold = self.settings.similarity_threshold
        alerts = [(ev, a) for ev, e in scored for a in similarity_alerts(e, threshold)]
        items = [(ev, event_action(e)) for ev, e in scored] + [
            (ev, alert_action(a)) for ev, a in alerts
        ]
        with m.bulk_seconds.labels(source).time():
            failed = (await self.writer.write([a for _, a in items])).failed if items else {}
        m.bulk_failures.labels(source).inc(len(failed))
        for pos, reason in sorted(failed.items()):
            ev, action = items[pos]
            if pos < len(scored):  # the event's own document: the record goes to the DLQ
                outcome.dead_letters.append(
                    dead_letter(ev, f"indexing {action['_id']}: {reason}", "indexing")
                )
            else:  # its event is stored; an alert that cannot be stored is an operator's problem
                log.error("alert %s could not be stored: %s", action["_id"], reason)
        ok_events = [e for i, (_, e) in enumerate(scored) if i not in failed]
        ok_alerts = [a for i, (_, a) in enumerate(alerts, len(scored)) if i not in failed]
        outcome.indexed = len(ok_events)
        outcome.alerts = len(ok_alerts)
        m.records.labels(source, "indexed").inc(outcome.indexed)
        m.records.labels(source, "dead_lettered").inc(len(outcome.dead_letters))
        for letter in outcome.dead_letters:
            m.dead_letters.labels(source, letter.stage).inc()
            log.info(
                "dead-lettered: %s",
                letter.reason,
                extra={
                    "source": source,
                    "stage": letter.stage,
                    "partition": letter.partition,
                    "offset": letter.offset,
                },
            )
        for alert in ok_alerts:
            m.alerts.labels(alert.rule).inc()

        await self._publish(ok_events, ok_alerts, outcome.dead_letters)
        return outcome

    async def _score(
        self, source: Source, valid: list[tuple[EventT, InputRecord]], outcome: BatchOutcome
    ) -> list[Scores | None]:
        """Score a batch; on failure split it, so only records that fail alone go to the DLQ."""
        texts = [rec.scoring_text() for _, rec in valid]
        novelty_ids = [rec.record_id for _, rec in valid] if source == "patents" else None
        try:
            return list(await self.engine.score(texts, novelty_ids))
        except Exception as e:  # noqa: BLE001 - a model error must never stop the worker
            if len(texts) == 1:
                log.warning(
                    "scoring failed for one record: %r",
                    e,
                    extra={"source": source, "record_id": valid[0][1].record_id},
                )
                outcome.dead_letters.append(
                    dead_letter(valid[0][0], f"scoring failed: {e!r}", "scoring")
                )
                return [None]
            mid = len(valid) // 2
            left = await self._score(source, valid[:mid], outcome)
            right = await self._score(source, valid[mid:], outcome)
            return left + right

    def _scored_event(
        self, source: Source, ev: EventT, rec: InputRecord, scores: Scores, now: datetime
    ) -> ScoredEvent:
        msg = ev.message
        return ScoredEvent(
            doc_id=event_doc_id(source, rec.record_id),
            source=source,
            record_id=rec.record_id,
            timestamp=rec.event_time,
            scored_at=now,
            text=rec.scoring_text(),
            language=rec.language,
            record=rec.model_dump(mode="json"),
            scores=scores,
            models=self.engine.versions,
            kafka=KafkaPosition(topic=msg.topic, partition=msg.partition, offset=msg.offset),
        )

    async def _publish(
        self, events: list[ScoredEvent], alerts: list[Alert], dead: list[DeadLetter]
    ) -> None:
        producer = self.app.producer
        pending = []
        for e in events:
            pending.append(
                await producer.send(
                    SCORED_TOPIC, e.doc_id.encode(), e.model_dump_json().encode(), None, None, None
                )
            )
        for a in alerts:
            pending.append(
                await producer.send(
                    ALERTS_TOPIC,
                    a.alert_id.encode(),
                    a.model_dump_json().encode(),
                    None,
                    None,
                    None,
                )
            )
        for d in dead:
            key = base64.b64decode(d.key_b64) if d.key_b64 else None
            pending.append(
                await producer.send(DLQ_TOPIC, key, d.model_dump_json().encode(), None, None, None)
            )
        for fut in pending:
            await fut


async def process_until_done(
    pipeline: ScoringPipeline, source: Source, events: Sequence[EventT]
) -> BatchOutcome:
    """Retry a batch that raised (a Kafka outage, a bug) with backoff; never skip it.

    Bad records cannot get here (they are dead-lettered), so what is left is transient or
    a defect an operator must see: the partition waits, visibly, instead of losing data
    or crashing the agent (Faust keeps a worker alive whose agent died, consuming nothing).
    Re-processing is safe: documents collide with their first copies (409).
    """
    attempt = 0
    while True:
        try:
            return await pipeline.process(source, events)
        except Exception:
            delay = backoff_seconds(attempt, initial=0.5, cap=30.0)
            log.exception("%s batch of %d failed; retrying in %.1fs", source, len(events), delay)
            await asyncio.sleep(delay)
            attempt += 1


def register_agents(app: faust.App, pipeline: ScoringPipeline, settings: Settings) -> None:
    within = settings.batch_max_wait_ms / 1000

    def make_agent(source: Source, topic_name: str) -> None:
        topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")

        async def score_source(stream: faust.StreamT) -> None:
            async for events in stream.noack_take(settings.batch_max_size, within):
                out = await process_until_done(pipeline, source, events)
                for ev in events:
                    await stream.ack(ev)
                log.info(
                    "%s batch: %d records, %d indexed, %d dead-lettered, %d alerts",
                    source,
                    len(events),
                    out.indexed,
                    len(out.dead_letters),
                    out.alerts,
                )

        app.agent(topic, name=f"argus.score.{source}")(score_source)

    for source, topic_name in INPUT_TOPICS.items():
        make_agent(source, topic_name)

    @app.on_before_shutdown.connect
    async def close_clients(app: faust.App, **kwargs: Any) -> None:
        await pipeline.es.close()
        pipeline.engine.close()
