"""Retry until done: what a stream stage does with a failure it must not skip."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from indexer.bulk_writer import backoff_seconds

log = logging.getLogger(__name__)
T = TypeVar("T")


async def until_done(action: Callable[[], Awaitable[T]], what: str) -> T:
    """Run `action` until it succeeds, with capped backoff, logging each failure.

    Its input stays unacked meanwhile: the partition waits, visibly, instead of losing
    data or killing the agent (Faust keeps a worker alive whose agent died, consuming
    nothing). Callers make re-running safe (deterministic ids, delivery logs).
    """
    attempt = 0
    while True:
        try:
            return await action()
        except Exception:
            delay = backoff_seconds(attempt, initial=0.5, cap=30.0)
            log.exception("%s failed; retrying in %.1fs", what, delay)
            await asyncio.sleep(delay)
            attempt += 1
