"""Bulk writer: `create` with deterministic ids, 409 = already written, retries, per-item results.

The per-item decision (`classify_item`) is pure; `BulkWriter` is the thin async loop
around it. Requests are capped by count and by bytes, and one the server still finds too
large (HTTP 413) is split in halves until it fits: only a document too large on its own
fails. A request that cannot reach Elasticsearch at all is retried forever with
capped backoff: the caller is blocked, so its consumer commits nothing and Faust
pauses the stream once its buffers fill. Nothing is dropped, nothing is buffered
without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from indexer.actions import bulk_lines

log = logging.getLogger(__name__)

RETRIABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class Outcome(Enum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    FAILED = "failed"


class IndexingRefusedError(Exception):
    """Elasticsearch refuses the credentials or the permission (401/403).

    Marking the documents failed would dead-letter every record for a configuration
    fault, so the batch is retried, loudly, until an operator fixes the credentials.
    """


def classify_item(item: dict[str, Any]) -> tuple[Outcome, str]:
    """One bulk response item -> what to do with it, and why."""
    result = next(iter(item.values()))
    status = int(result.get("status", 0))
    if 200 <= status < 300:
        return Outcome.CREATED, ""
    error = result.get("error") or {}
    reason = (
        f"{error.get('type', 'error')}: {error.get('reason', '')}"
        if isinstance(error, dict)
        else str(error)
    )
    if status == 409:
        return Outcome.DUPLICATE, reason
    if status in RETRIABLE_STATUS:
        return Outcome.RETRY, f"HTTP {status} {reason}"
    return Outcome.FAILED, f"HTTP {status} {reason}"


def backoff_seconds(attempt: int, initial: float, cap: float) -> float:
    return float(min(cap, initial * (2**attempt)))


@dataclass
class BulkResult:
    created: int = 0
    duplicates: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # position in input -> reason

    @property
    def acknowledged(self) -> int:
        return self.created + self.duplicates


@dataclass
class BulkWriter:
    es: AsyncElasticsearch
    chunk_size: int = 500
    # Far below Elasticsearch's default http.max_content_length (100 MB): a request that
    # size holds the event loop while it is built and the server's heap while it is parsed.
    max_bytes: int = 10 * 1024 * 1024
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    max_item_retries: int = 6
    # Runs before the first request and again after the server was unreachable
    # (installs index templates, which a freshly started server lacks).
    setup: Callable[[], Awaitable[Any]] | None = None
    _needs_setup: bool = True

    async def write(self, actions: Sequence[dict[str, Any]]) -> BulkResult:
        result = BulkResult()
        lines = [bulk_lines(a) for a in actions]
        for chunk in chunk_positions([len(x) for x in lines], self.chunk_size, self.max_bytes):
            await self._write_chunk([(pos, lines[pos]) for pos in chunk], result)
        return result

    async def _write_chunk(self, pending: list[tuple[int, bytes]], result: BulkResult) -> None:
        item_attempts = 0
        outage_attempts = 0
        while pending:
            try:
                if self._needs_setup and self.setup is not None:
                    await self.setup()
                    self._needs_setup = False
                resp = await self.es.bulk(operations=b"".join(line for _, line in pending))
            except (TransportError, ApiError) as e:
                status = getattr(e, "status_code", None) or getattr(e, "status", None)
                if status in (401, 403):
                    raise IndexingRefusedError(f"Elasticsearch refused the request: {e}") from None
                if status == 413:
                    await self._split_too_large(pending, result, e)
                    return
                if isinstance(e, ApiError) and status not in RETRIABLE_STATUS:
                    for pos, _ in pending:
                        result.failed[pos] = f"bulk request rejected: HTTP {status} {e.message}"
                    return
                delay = backoff_seconds(outage_attempts, self.initial_backoff, self.max_backoff)
                log.warning(
                    "Elasticsearch unavailable (%s); retrying %d documents in %.1fs",
                    type(e).__name__,
                    len(pending),
                    delay,
                )
                outage_attempts += 1
                self._needs_setup = True
                await asyncio.sleep(delay)
                continue
            outage_attempts = 0
            retry: list[tuple[int, bytes]] = []
            for (pos, line), item in zip(pending, resp["items"], strict=True):
                outcome, reason = classify_item(item)
                if outcome is Outcome.CREATED:
                    result.created += 1
                elif outcome is Outcome.DUPLICATE:
                    result.duplicates += 1
                elif outcome is Outcome.RETRY and item_attempts < self.max_item_retries:
                    retry.append((pos, line))
                else:
                    result.failed[pos] = reason
            pending = retry
            if pending:
                await asyncio.sleep(
                    backoff_seconds(item_attempts, self.initial_backoff, self.max_backoff)
                )
                item_attempts += 1

    async def _split_too_large(
        self, pending: list[tuple[int, bytes]], result: BulkResult, error: Exception
    ) -> None:
        """HTTP 413: the halves are sent on their own; a single document is too large."""
        if len(pending) == 1:
            pos, line = pending[0]
            result.failed[pos] = (
                f"document too large for a bulk request ({len(line)} bytes): {error}"
            )
            return
        half = len(pending) // 2
        log.warning("bulk request of %d documents too large (HTTP 413); splitting", len(pending))
        await self._write_chunk(pending[:half], result)
        await self._write_chunk(pending[half:], result)


def chunk_positions(sizes: Sequence[int], max_count: int, max_bytes: int) -> list[list[int]]:
    """Consecutive positions, at most `max_count` and `max_bytes` per chunk (a larger item
    alone in its own)."""
    chunks: list[list[int]] = []
    current: list[int] = []
    used = 0
    for pos, size in enumerate(sizes):
        if current and (len(current) == max_count or used + size > max_bytes):
            chunks.append(current)
            current, used = [], 0
        current.append(pos)
        used += size
    if current:
        chunks.append(current)
    return chunks
