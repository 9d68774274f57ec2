"""Builds the Faust app; nothing else. Agents attach in `streams.agents`."""

from __future__ import annotations

from typing import Any

import faust

from streams import faust_shims
from streams.contracts.connections import Endpoints
from streams.contracts.settings import Settings
from streams.kafka_security import faust_credentials

# Room for a micro-batch's scored events in one batch per partition. At aiokafka's 16 KB a
# batch held six 2.4 KB events, and a full one made the next send wait for its drain: 8
# produce requests per micro-batch instead of 1. Against tansu, 62 messages of 2.4 KB sent
# over 12 partitions, no linger: 28-30 µs of producer CPU per message against 35-37, the
# broker's 17 against 20-24 (with 5 ms linger, as the embedded publisher had: 50-54 and
# 34-37). Kafka takes batches up to its default 1 MB `message.max.bytes`.
PRODUCER_BATCH_BYTES = 256 * 1024


def embedded_broker_shim(endpoints: Endpoints) -> dict[str, Any]:
    """Faust settings the embedded tansu broker needs.

    tansu completes a group join only after session_timeout/2, so a short session
    makes a worker ready in ~3.5 s instead of ~30 s. tansu reports a partition's end
    offset as its last batch's base offset + 1, which Faust trusts to recover a table
    from its changelog: batches of one record make that figure exact.
    """
    if not endpoints.embedded:
        return {}
    return {
        "broker_session_timeout": 4.0,
        "broker_heartbeat_interval": 1.0,
        "producer_max_batch_size": 64,
    }


def create_app(settings: Settings, endpoints: Endpoints) -> faust.App:
    faust_shims.install(allow_untested=settings.allow_untested_versions)
    return faust.App(
        settings.app_id,
        broker=endpoints.faust_broker,
        store="memory://",
        # tansu has no idempotent producer, so no exactly_once; duplicates are made
        # harmless by deterministic document ids instead.
        processing_guarantee="at_least_once",
        topic_partitions=settings.partitions,
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        stream_buffer_maxsize=max(4096, settings.batch_max_size * 4),
        broker_credentials=faust_credentials(settings),
        **({"producer_max_batch_size": PRODUCER_BATCH_BYTES} | embedded_broker_shim(endpoints)),
    )
