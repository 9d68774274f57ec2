"""Writing a scored batch to Elasticsearch: its event documents, then the prior art its patent
filings add. A document refused for good becomes a dead letter; a refused prior-art filing
only a warning."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from faust.types import EventT

from indexer.actions import event_action
from indexer.bulk_writer import BulkWriter
from streams.contracts.schemas import DeadLetter, ScoredEvent, Source
from streams.dead_letters import dead_letter
from streams.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass
class Written:
    events: list[ScoredEvent]  # indexed, or already there (a replay)
    documents: list[bytes]  # their JSON, as indexed: what argus.scored carries too
    dead_letters: list[DeadLetter]  # refused (stage "indexing"), in input order


async def write_events(
    writer: BulkWriter,
    source: Source,
    scored: list[tuple[EventT, ScoredEvent]],
    metrics: Metrics,
    *,
    mask: bool,
) -> Written:
    """Index the event documents. `mask`: the letters are masked (ARGUS_MASK_PII)."""
    documents = [e.to_json() for _, e in scored]
    actions = [event_action(e, doc) for (_, e), doc in zip(scored, documents, strict=True)]
    with metrics.bulk_seconds.labels(source).time():
        failed = (await writer.write(actions)).failed if actions else {}
    metrics.bulk_failures.labels(source).inc(len(failed))
    letters = [
        dead_letter(
            scored[pos][0], f"indexing {actions[pos]['_id']}: {reason}", "indexing", mask=mask
        )
        for pos, reason in sorted(failed.items())
    ]
    kept = [i for i in range(len(scored)) if i not in failed]
    return Written([scored[i][1] for i in kept], [documents[i] for i in kept], letters)


async def write_prior_art(writer: BulkWriter, actions: list[dict[str, Any]]) -> None:
    if not actions:
        return
    refused = (await writer.write(actions)).failed
    for pos, reason in refused.items():  # later filings miss it: worth a warning
        log.warning("prior art %s not indexed: %s", actions[pos]["_id"], reason)
