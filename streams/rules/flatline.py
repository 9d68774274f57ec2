"""flatline: a key that was seen goes silent for longer than a window of wall-clock time.

Hits only record the key's last arrival (and resolve a silence it ends); the alert itself
comes from a timer (streams.alerting), which calls `flatline_due`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from streams.contracts.schemas import Alert, RuleHit
from streams.rules.base import (
    BaseRule,
    Decision,
    Resolve,
    State,
    alert_id,
    describe,
    span_ms,
    to_dt,
    to_ms,
)
from streams.rules.matchers import Duration, format_duration


class FlatlineRule(BaseRule):
    """Fires when a key that was seen gets no event for longer than `window` (wall clock)."""

    type: Literal["flatline"]
    window: Duration

    # An arrival is not evidence of anything, and only a key's last one counts.
    evidence: ClassVar[bool] = False
    last_hit_only: ClassVar[bool] = True

    def update(self, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
        # When the record reached Kafka, not when it was processed: a backlog after a restart
        # is not a silent feed.
        arrived = to_ms(hit.received_at or now)
        previous = state.get("seen")
        state["seen"] = max(previous or arrived, arrived)
        if previous is not None and arrived - previous > span_ms(self.window):
            return [Resolve(flatline_id(self, hit.group, previous))]
        return []


def flatline_id(rule: FlatlineRule, group: dict[str, str], seen_ms: int) -> str:
    return alert_id(rule.name, group, f"silent-after-{seen_ms}")


def flatline_due(
    rule: FlatlineRule, state: State, group: dict[str, str], now: datetime
) -> Alert | None:
    """The alert for a key silent for longer than the window (the timer's check)."""
    seen = state.get("seen")
    if seen is None or to_ms(now) - seen <= span_ms(rule.window):
        return None
    silent_for = (to_ms(now) - seen) / 1000
    return Alert(
        alert_id=flatline_id(rule, group, seen),
        rule=rule.name,
        rule_type=rule.type,
        severity=rule.severity,
        timestamp=to_dt(seen),
        fired_at=now,
        group=group,
        window_start=to_dt(seen),
        window_end=now,
        figures={
            "silent_seconds": round(silent_for, 1),
            "window_seconds": rule.window.total_seconds(),
        },
        summary=f"no events for {describe(group)} for {silent_for:.0f}s "
        f"(window {format_duration(rule.window)})",
        evidence=[r[0] for r in state.get("recent", [])[:1]],
        notify=rule.notify,
    )
