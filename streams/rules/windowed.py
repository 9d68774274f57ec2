"""frequency and surge: counts of matching events in an event-time window per key.

Counts are kept in buckets of a tenth of the window (a hopping window), dropped once older
than every window the rule reads; each type judges the counts its own way.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from streams.contracts.schemas import RuleHit
from streams.rules.base import BaseRule, Decision, State, describe, resolve_open, span_ms, to_ms
from streams.rules.matchers import Duration, Matchers, format_duration


@dataclass(frozen=True)
class Counts:
    """A key's counts: in the window, and in the baseline before it."""

    matching: int
    events: int
    baseline_matching: int
    baseline_events: int


Verdict = tuple[bool, dict[str, float], str]  # firing, figures, summary


class WindowedRule(BaseRule):
    """The bucket counting that frequency and surge share."""

    if TYPE_CHECKING:
        # Declared by each subclass, where they keep their place in its fields.
        match: Matchers
        window: timedelta

    def fields(self) -> set[str]:
        return super().fields() | set(self.match)

    def outcomes(self, view: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"matched": all(m.test(view.get(f)) for f, m in self.match.items())}]

    def _baseline_ms(self) -> int:
        """How far before the window the rule reads."""
        return 0

    @abstractmethod
    def _verdict(self, counts: Counts, group: dict[str, str]) -> Verdict: ...

    def update(self, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
        step = span_ms(self.window) // 10 or 1
        ts, latest = to_ms(hit.timestamp), state["now"]
        buckets: dict[str, list[int]] = state.setdefault("buckets", {})
        counts = buckets.setdefault(str(ts - ts % step), [0, 0])
        counts[0] += int(hit.matched)
        counts[1] += 1
        window_start = latest - span_ms(self.window)
        horizon = window_start - self._baseline_ms()
        for b in [b for b in buckets if int(b) + step <= horizon]:
            del buckets[b]
        inside = [c for b, c in buckets.items() if int(b) + step > window_start]
        before = [c for b, c in buckets.items() if int(b) + step <= window_start]
        firing, figures, summary = self._verdict(
            Counts(
                matching=sum(c[0] for c in inside),
                events=sum(c[1] for c in inside),
                baseline_matching=sum(c[0] for c in before),
                baseline_events=sum(c[1] for c in before),
            ),
            hit.group,
        )
        if not firing:
            return resolve_open(state)
        if not self._may_fire(state, latest):
            return []
        return [
            self._fire(
                state,
                hit,
                now,
                window=str(latest - latest % step),
                figures=figures,
                summary=summary,
                start=window_start,
            )
        ]


class FrequencyRule(WindowedRule):
    """Fires when at least `count` matching events fall in `window`."""

    type: Literal["frequency"]
    match: Matchers = Field(default_factory=dict, description="What counts; default: all.")
    count: int = Field(ge=1)
    window: Duration

    def _verdict(self, counts: Counts, group: dict[str, str]) -> Verdict:
        summary = (
            f"{counts.matching} matching events within {format_duration(self.window)} for "
            f"{describe(group)} (at least {self.count})"
        )
        figures = {"count": float(counts.matching), "threshold": float(self.count)}
        return counts.matching >= self.count, figures, summary


class SurgeRule(WindowedRule):
    """Fires when the matching count (or share) in `window` is `ratio` x its baseline rate.

    The baseline is the `baseline` period just before the window, scaled to the window's
    length. `min_count` keeps 2 of 3 from being a surge.
    """

    type: Literal["surge"]
    match: Matchers
    measure: Literal["count", "share"] = "share"
    window: Duration
    baseline: Duration
    ratio: float = Field(2.0, gt=1)
    min_count: int = Field(5, ge=1, description="Matching events the window needs at least.")
    min_baseline: int = Field(
        0, ge=0, description="Events (matching or not) the baseline needs at least."
    )

    def _baseline_ms(self) -> int:
        return span_ms(self.baseline)

    def _verdict(self, counts: Counts, group: dict[str, str]) -> Verdict:
        cur_m, cur_t = counts.matching, counts.events
        base_m, base_t = counts.baseline_matching, counts.baseline_events
        if self.measure == "count":
            current, base = float(cur_m), base_m * span_ms(self.window) / self._baseline_ms()
        else:
            current = cur_m / cur_t if cur_t else 0.0
            base = base_m / base_t if base_t else 0.0
        firing = (
            cur_m >= self.min_count and base_t >= self.min_baseline and current >= self.ratio * base
        )
        figures = {
            "current": round(current, 4),
            "baseline": round(base, 4),
            "matching": float(cur_m),
            "events": float(cur_t),
            "baseline_events": float(base_t),
        }
        if base:
            figures["ratio"] = round(current / base, 2)
        window = format_duration(self.window)
        if self.measure == "count":
            summary = f"{cur_m} matching events in the last {window} vs {base:.1f} per {window}"
        else:
            summary = f"{current:.0%} of events matching in the last {window} vs {base:.0%}"
        summary += f" before, for {describe(group)}"
        return firing, figures, summary
