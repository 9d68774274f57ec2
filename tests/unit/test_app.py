"""The Faust shims of streams/app.py that can be checked without a broker."""

from __future__ import annotations

import logging
from collections import defaultdict
from types import SimpleNamespace

import pytest
from faust.transport.consumer import Consumer
from faust.types import TP
from intervaltree import IntervalTree

from streams.app import warn_on_offset_gaps


async def test_a_gap_faust_commits_over_is_logged_with_its_range(
    caplog: pytest.LogCaptureFixture,
) -> None:
    warn_on_offset_gaps()
    warn_on_offset_gaps()  # idempotent: one warning per gap, not one per call
    tp = TP("argus.news", 3)
    consumer = SimpleNamespace(_committed_offset={tp: 57}, _gap=defaultdict(IntervalTree))
    with caplog.at_level(logging.WARNING, logger="streams.app"):
        await Consumer._add_gap(consumer, tp, 58, 483)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [
        "offsets 58..482 of argus.news[3] were never read; Faust will commit over them as a gap"
    ]
    assert consumer._gap[tp]  # Faust's own bookkeeping still happens
