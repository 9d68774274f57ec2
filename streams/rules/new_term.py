"""new_term: the first appearance of a value of a field for a key, after a learning period."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from streams.contracts.schemas import RuleHit
from streams.rules.base import BaseRule, Decision, State, describe, span_ms, to_ms
from streams.rules.matchers import Duration


class NewTermRule(BaseRule):
    """Fires on the first appearance of a value of `field` for a key, after `learn`.

    For `learn` after the first event a key sees, values are learned, not alerted on.
    """

    type: Literal["new_term"]
    field: str
    learn: Duration
    max_terms: int = Field(10_000, ge=1, description="Terms kept per key (oldest dropped).")

    def fields(self) -> set[str]:
        return super().fields() | {self.field}

    def outcomes(self, view: dict[str, Any]) -> list[dict[str, Any]]:
        value = view.get(self.field)
        terms = value if isinstance(value, list) else [value]
        return [{"matched": True, "term": str(t)} for t in terms if t not in (None, "")]

    def update(self, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
        ts = to_ms(hit.timestamp)
        state["first"] = min(state.get("first", ts), ts)
        terms: dict[str, int] = state.setdefault("terms", {})
        term = hit.term or ""
        if term in terms:
            terms[term] = min(terms[term], ts)
            return []
        terms[term] = ts
        if len(terms) > self.max_terms:
            del terms[min(terms, key=terms.__getitem__)]
        learning = ts < state["first"] + span_ms(self.learn)
        if learning:
            return []
        state["recent"] = [r for r in state.get("recent", []) if r[0] == hit.doc_id]
        return [
            self._fire(
                state,
                hit,
                now,
                window=term,
                figures={"known_terms": float(len(terms) - 1)},
                summary=f"first {self.field} {term!r} for {describe(hit.group)}",
                start=ts,
                track=False,  # a first appearance stays a fact until someone resolves it
            )
        ]
