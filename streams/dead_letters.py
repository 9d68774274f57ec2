"""Dead letters: a record's DLQ entry, its log line and its copy in Elasticsearch.

The Kafka DLQ (published with the batch, streams/publisher.py) is the record of a dead letter;
the index `argus-deadletters-{source}` is a copy for the dashboards.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from faust.types import EventT

from indexer.actions import dead_letter_action
from indexer.bulk_writer import BulkWriter
from streams.contracts.schemas import DLQ_VALUE_LIMIT, DeadLetter, Source, Stage
from streams.masking import mask_bytes, mask_text

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


def log_dead_letters(
    source: Source, letters: list[DeadLetter], record_ids: Mapping[tuple[int, int], str]
) -> None:
    """One line per letter. `record_ids`: (partition, offset) -> record id, for the records
    that got as far as having one."""
    for letter in letters:
        log.info(
            "dead-lettered: %s",
            letter.reason,
            extra={
                "source": source,
                "record_id": record_ids.get((letter.partition, letter.offset)),
                "stage": letter.stage,
                "partition": letter.partition,
                "offset": letter.offset,
            },
        )


async def index_dead_letters(writer: BulkWriter, source: Source, letters: list[DeadLetter]) -> None:
    # For dashboards only: the Kafka DLQ is the record, so a refusal is logged, not retried.
    result = await writer.write([dead_letter_action(source, d) for d in letters])
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
