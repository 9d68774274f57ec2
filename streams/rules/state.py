"""Pure: a rule's state for one group key, and what a hit does to it.

The state is a JSON dict, so it lives in a Faust table as is. It records, per input
partition, the position (offset, rank) of the last hit applied: hits of one key arrive in
input order, so a hit seen again (the rules agent or the scoring agent replayed after a
crash) is skipped instead of counted twice. Windowed rules keep counts in buckets of a
tenth of the window (a hopping window), dropped once older than every window the rule reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.contracts.schemas import Alert, RuleHit
from streams.rules.hits import group_key
from streams.rules.models import (
    FlatlineRule,
    FrequencyRule,
    NewTermRule,
    Rule,
    SurgeRule,
    ThresholdRule,
    format_duration,
)
from streams.rules.summary import representatives, top_terms

State = dict[str, Any]
RECENT = 10  # matching events kept per key, for evidence and the cause summary


@dataclass(frozen=True)
class Fire:
    alert: Alert


@dataclass(frozen=True)
class Resolve:
    alert_id: str


Decision = Fire | Resolve


def alert_id(rule: str, group: dict[str, str], window: str) -> str:
    digest = hashlib.sha256(f"{rule}\x1f{group_key(group)}\x1f{window}".encode()).hexdigest()
    return f"{rule}:{digest[:32]}"


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _span_ms(d: timedelta) -> int:
    return max(1, int(d.total_seconds() * 1000))


def is_replay(state: State, hit: RuleHit) -> bool:
    """Whether `state` has applied `hit` already: apply_hit leaves it as it is."""
    applied = state.get("applied", {})
    return hit.position in applied and [hit.offset, hit.seq] <= applied[hit.position]


def apply_hit(rule: Rule, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
    """Fold `hit` into `state`, in place; return what to do."""
    if is_replay(state, hit):
        return []
    state.setdefault("applied", {})[hit.position] = [hit.offset, hit.seq]
    ts = _ms(hit.timestamp)
    state["now"] = max(state.get("now", ts), ts)
    if hit.matched:
        recent = state.setdefault("recent", [])
        recent.append([hit.doc_id, ts, hit.text, hit.embedding_b64])
        recent.sort(key=lambda r: r[1], reverse=True)
        del recent[RECENT:]
    if isinstance(rule, ThresholdRule):
        return _threshold(rule, state, hit, now)
    if isinstance(rule, FrequencyRule | SurgeRule):
        return _windowed(rule, state, hit, now)
    if isinstance(rule, NewTermRule):
        return _new_term(rule, state, hit, now)
    return _flatline_seen(rule, state, hit, now)


def _may_fire(rule: Rule, state: State, ts: int) -> bool:
    last = state.get("last_fired")
    return state.get("open") is None and (last is None or ts - last >= _span_ms(rule.realert))


def _fire(
    rule: Rule,
    state: State,
    hit: RuleHit,
    now: datetime,
    *,
    window: str,
    figures: dict[str, float],
    summary: str,
    start: int | None = None,
    track: bool = True,
) -> Fire:
    ts = _ms(hit.timestamp)
    evidence = [r for r in state.get("recent", []) if start is None or r[1] >= start] or [
        [hit.doc_id, ts, hit.text, hit.embedding_b64]
    ]
    texts = [r[2] for r in evidence]
    aid = alert_id(rule.name, hit.group, window)
    if track:
        state["open"] = aid
    state["last_fired"] = ts
    return Fire(
        Alert(
            alert_id=aid,
            rule=rule.name,
            rule_type=rule.type,
            severity=rule.severity,
            timestamp=hit.timestamp,
            fired_at=now,
            group=hit.group,
            window_start=_dt(start) if start is not None else hit.timestamp,
            window_end=_dt(state["now"]),
            figures=figures,
            summary=summary,
            evidence=[r[0] for r in evidence],
            representatives=representatives(texts, [r[3] for r in evidence]),
            top_terms=top_terms(texts),
            source=hit.source,
            portfolio_item=hit.portfolio_item,
            relation=hit.relation,
            prior_art=hit.prior_art,
            notify=rule.notify,
        )
    )


def _resolve_open(state: State) -> list[Decision]:
    open_id = state.pop("open", None)
    return [Resolve(open_id)] if open_id else []


def _describe(group: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "all events"


def _threshold(rule: ThresholdRule, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
    if not hit.matched:
        return _resolve_open(state)
    ts = _ms(hit.timestamp)
    last = state.get("last_fired")
    if last is not None and 0 <= ts - last < _span_ms(rule.realert):
        return []
    # Each event over the line is its own alert; a newer one supersedes the key's last.
    superseded = _resolve_open(state)
    assert hit.value is not None  # threshold hits always carry their value
    bound = rule.gte if rule.gte is not None and hit.value >= rule.gte else rule.lte
    op = ">=" if bound == rule.gte else "<="
    item, relation = hit.portfolio_item, hit.relation
    about = (
        f" ({item.kind} {item.item_id}{', ' + item.owner if item.owner else ''})" if item else ""
    )
    if relation is not None:
        about += f" ({relation.fact()})"
    return [
        *superseded,
        _fire(
            rule,
            state,
            hit,
            now,
            window=str(ts),
            figures={"value": hit.value, "threshold": float(bound or 0.0)},
            summary=f"{rule.field} {hit.value:.2f} {op} {bound} for {_describe(hit.group)}{about}",
            start=ts,
        ),
    ]


def _windowed(
    rule: FrequencyRule | SurgeRule, state: State, hit: RuleHit, now: datetime
) -> list[Decision]:
    step = _span_ms(rule.window) // 10 or 1
    ts, latest = _ms(hit.timestamp), state["now"]
    baseline = _span_ms(rule.baseline) if isinstance(rule, SurgeRule) else 0
    buckets: dict[str, list[int]] = state.setdefault("buckets", {})
    counts = buckets.setdefault(str(ts - ts % step), [0, 0])
    counts[0] += int(hit.matched)
    counts[1] += 1
    window_start = latest - _span_ms(rule.window)
    horizon = window_start - baseline
    for b in [b for b in buckets if int(b) + step <= horizon]:
        del buckets[b]
    cur_m = sum(c[0] for b, c in buckets.items() if int(b) + step > window_start)
    cur_t = sum(c[1] for b, c in buckets.items() if int(b) + step > window_start)
    window_key = str(latest - latest % step)
    if isinstance(rule, FrequencyRule):
        firing = cur_m >= rule.count
        figures = {"count": float(cur_m), "threshold": float(rule.count)}
        summary = (
            f"{cur_m} matching events within {format_duration(rule.window)} for "
            f"{_describe(hit.group)} (at least {rule.count})"
        )
    else:
        base_m = sum(c[0] for b, c in buckets.items() if int(b) + step <= window_start)
        base_t = sum(c[1] for b, c in buckets.items() if int(b) + step <= window_start)
        if rule.measure == "count":
            current, base = float(cur_m), base_m * _span_ms(rule.window) / baseline
        else:
            current = cur_m / cur_t if cur_t else 0.0
            base = base_m / base_t if base_t else 0.0
        firing = (
            cur_m >= rule.min_count and base_t >= rule.min_baseline and current >= rule.ratio * base
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
        window = format_duration(rule.window)
        if rule.measure == "count":
            summary = f"{cur_m} matching events in the last {window} vs {base:.1f} per {window}"
        else:
            summary = f"{current:.0%} of events matching in the last {window} vs {base:.0%}"
        summary += f" before, for {_describe(hit.group)}"
    if not firing:
        return _resolve_open(state)
    if not _may_fire(rule, state, latest):
        return []
    return [
        _fire(
            rule,
            state,
            hit,
            now,
            window=window_key,
            figures=figures,
            summary=summary,
            start=window_start,
        )
    ]


def _new_term(rule: NewTermRule, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
    ts = _ms(hit.timestamp)
    state["first"] = min(state.get("first", ts), ts)
    terms: dict[str, int] = state.setdefault("terms", {})
    term = hit.term or ""
    if term in terms:
        terms[term] = min(terms[term], ts)
        return []
    terms[term] = ts
    if len(terms) > rule.max_terms:
        del terms[min(terms, key=terms.__getitem__)]
    learning = ts < state["first"] + _span_ms(rule.learn)
    if learning:
        return []
    state["recent"] = [r for r in state.get("recent", []) if r[0] == hit.doc_id]
    return [
        _fire(
            rule,
            state,
            hit,
            now,
            window=term,
            figures={"known_terms": float(len(terms) - 1)},
            summary=f"first {rule.field} {term!r} for {_describe(hit.group)}",
            start=ts,
            track=False,  # a first appearance stays a fact until someone resolves it
        )
    ]


def _flatline_seen(rule: FlatlineRule, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
    # When the record reached Kafka, not when it was processed: a backlog after a restart
    # is not a silent feed.
    arrived = _ms(hit.received_at or now)
    previous = state.get("seen")
    state["seen"] = max(previous or arrived, arrived)
    if previous is not None and arrived - previous > _span_ms(rule.window):
        return [Resolve(flatline_id(rule, hit.group, previous))]
    return []


def flatline_id(rule: FlatlineRule, group: dict[str, str], seen_ms: int) -> str:
    return alert_id(rule.name, group, f"silent-after-{seen_ms}")


def flatline_due(
    rule: FlatlineRule, state: State, group: dict[str, str], now: datetime
) -> Alert | None:
    """The alert for a key silent for longer than the window (the timer's check)."""
    seen = state.get("seen")
    if seen is None or _ms(now) - seen <= _span_ms(rule.window):
        return None
    silent_for = (_ms(now) - seen) / 1000
    return Alert(
        alert_id=flatline_id(rule, group, seen),
        rule=rule.name,
        rule_type=rule.type,
        severity=rule.severity,
        timestamp=_dt(seen),
        fired_at=now,
        group=group,
        window_start=_dt(seen),
        window_end=now,
        figures={
            "silent_seconds": round(silent_for, 1),
            "window_seconds": rule.window.total_seconds(),
        },
        summary=f"no events for {_describe(group)} for {silent_for:.0f}s "
        f"(window {format_duration(rule.window)})",
        evidence=[r[0] for r in state.get("recent", [])[:1]],
        notify=rule.notify,
    )
