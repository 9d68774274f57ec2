"""Pure: what a hit does to a rule's state for one group key.

The state is a JSON dict, so it lives in a Faust table as is. It records, per input
partition, the position (offset, rank) of the last hit applied: hits of one key arrive in
input order, so a hit seen again (the rules agent or the scoring agent replayed after a
crash) is skipped instead of counted twice. The rest of the state is the rule type's own
(its `update`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from streams.contracts.schemas import RuleHit
from streams.rules.base import Decision, State, to_ms
from streams.rules.models import Rule

# Matching events kept per key, as [doc id, event time]: an alert's evidence. Their texts are
# read back from the index when it fires (RuleStage.explained), so the state stays small.
RECENT = 10


def is_replay(state: State, hit: RuleHit) -> bool:
    """Whether `state` has applied `hit` already: apply_hit leaves it as it is."""
    applied = state.get("applied", {})
    return hit.position in applied and [hit.offset, hit.seq] <= applied[hit.position]


def apply_hit(rule: Rule, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
    """Fold `hit` into `state`, in place; return what to do."""
    if is_replay(state, hit):
        return []
    state.setdefault("applied", {})[hit.position] = [hit.offset, hit.seq]
    ts = to_ms(hit.timestamp)
    state["now"] = max(state.get("now", ts), ts)
    if hit.matched:
        recent = state.setdefault("recent", [])
        recent.append([hit.doc_id, ts])
        recent.sort(key=lambda r: r[1], reverse=True)
        del recent[RECENT:]
    return rule.update(state, hit, now)


def apply_hits(
    rule: Rule, state: State, hits: Iterable[RuleHit], now: datetime
) -> list[Decision] | None:
    """Fold one key's hits into `state` in order, in place; what to do, in order, or None
    when every hit was applied before (nothing changed)."""
    fresh = [h for h in hits if not is_replay(state, h)]
    if not fresh:
        return None
    return [d for h in fresh for d in apply_hit(rule, state, h, now)]
