"""Builds the Faust app; nothing else. Agents attach in `streams.agents`."""

from __future__ import annotations

from typing import Any

import faust

from streams import faust_shims
from streams.contracts.connections import Endpoints
from streams.contracts.settings import Settings
from streams.kafka_security import faust_credentials


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
        **(
            {"producer_max_batch_size": settings.kafka_batch_bytes}
            | embedded_broker_shim(endpoints)
        ),
    )
