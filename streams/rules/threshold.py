"""threshold: one event's field passes a bound; each such event is its own alert."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import model_validator

from streams.contracts.schemas import RuleHit
from streams.rules.base import BaseRule, Decision, State, describe, resolve_open, span_ms, to_ms


class ThresholdRule(BaseRule):
    """Fires when one event's field passes `gte`/`lte` (e.g. similarity >= 0.82)."""

    type: Literal["threshold"]
    field: str
    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _bound(self) -> ThresholdRule:
        if self.gte is None and self.lte is None:
            raise ValueError("a threshold rule needs gte or lte")
        return self

    def passes(self, value: float) -> bool:
        return (self.gte is not None and value >= self.gte) or (
            self.lte is not None and value <= self.lte
        )

    def fields(self) -> set[str]:
        return super().fields() | {self.field}

    def outcomes(self, view: dict[str, Any]) -> list[dict[str, Any]]:
        value = view.get(self.field)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return []
        return [{"matched": self.passes(value), "value": float(value)}]

    def update(self, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
        if not hit.matched:
            return resolve_open(state)
        ts = to_ms(hit.timestamp)
        last = state.get("last_fired")
        if last is not None and 0 <= ts - last < span_ms(self.realert):
            return []
        # Each event over the line is its own alert; a newer one supersedes the key's last.
        superseded = resolve_open(state)
        assert hit.value is not None  # threshold hits always carry their value
        bound = self.gte if self.gte is not None and hit.value >= self.gte else self.lte
        op = ">=" if bound == self.gte else "<="
        item, relation = hit.portfolio_item, hit.relation
        about = (
            f" ({item.kind} {item.item_id}{', ' + item.owner if item.owner else ''})"
            if item
            else ""
        )
        if relation is not None:
            about += f" ({relation.fact()})"
        return [
            *superseded,
            self._fire(
                state,
                hit,
                now,
                window=str(ts),
                figures={"value": hit.value, "threshold": float(bound or 0.0)},
                summary=f"{self.field} {hit.value:.2f} {op} {bound} for {describe(hit.group)}{about}",
                start=ts,
            ),
        ]
