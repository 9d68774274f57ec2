"""Pure: a scored event -> the rule hits it causes, one per rule and group key.

Rules read a flat view of the event (field names in docs/alerting.md). An event that
mentions two watched entities is two views for a rule that reads `entity`, one per
entity; likewise one view per portfolio match for a rule that reads `portfolio.*`, and one
per relation for a rule that reads `relation.*`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from indexer.bulk_writer import chunk_positions
from streams.contracts.schemas import (
    EntitySentiment,
    PortfolioMatch,
    Relation,
    RuleHit,
    ScoredEvent,
)
from streams.rules.base import group_key
from streams.rules.matchers import Matcher
from streams.rules.models import Rule

# Far below Kafka's default message limit (1 MiB), whatever ARGUS_BATCH_MAX_SIZE is: a
# portfolio hit carries its evidence passages, a patent's its prior art.
MESSAGE_BYTES = 256 * 1024

STATIC_FIELDS = {
    "doc_id": "the event's document id",
    "source": "news, social or patents",
    "record_id": "the record's own id",
    "language": "the declared language, else the identified one",
    "language.detected": "the language identified from the text (ISO 639-1)",
    "entity": "one watch-list entity the text mentions (one view per entity)",
    "entity.sentiment": "that entity's own sentiment label, from the sentences that mention it",
    "entity.sentiment.score": "that label's probability",
    "entities": "all watch-list entities the text mentions",
    "topic": "the topic label (unset when not scored: a language the encoder does not read)",
    "topic.score": "the topic's probability",
    "sentiment": "the sentiment label (unset when not scored)",
    "sentiment.score": "the sentiment label's probability",
    "novelty": "patents: 1 - the highest similarity to a filing of an earlier date",
    "similarity.max": "the best portfolio match score",
    "domain": "the host of record.url",
    "cpc_class": "patents: the CPC classes (first 4 characters of record.cpc_codes)",
    "relations": "the names of the relations the text states (litigation, acquisition, ...)",
    "relation": "one relation the text states, by name (one view per relation)",
    "relation.subject": "that relation's subject (buyer, plaintiff, licensor, ...)",
    "relation.object": "that relation's object (target, defendant, licensee, ...)",
    "relation.score": "that relation's probability (1.0 from the cue baseline)",
    "relation.watched": "true when its subject or object is on the watch list",
}
PREFIX_FIELDS = {
    "sentiment.": "a sentiment label's probability, e.g. sentiment.negative",
    "portfolio.": "one portfolio match (one view per match): "
    + ", ".join(f"portfolio.{f}" for f in PortfolioMatch.model_fields if f != "evidence"),
    "record.": "a field of the input record, e.g. record.assignee, record.author",
    "head.": "another head's label, e.g. head.news-topic (head.<name>.score: its probability)",
}


def is_known_field(name: str) -> bool:
    if name in STATIC_FIELDS:
        return True
    if name.startswith("portfolio."):
        return name.removeprefix("portfolio.") in PortfolioMatch.model_fields
    return any(name.startswith(p) and len(name) > len(p) for p in PREFIX_FIELDS)


def hit_key(hit: RuleHit) -> bytes:
    """The Kafka key: every hit of one rule and group key goes to one partition."""
    return f"{hit.rule}\x1f{group_key(hit.group)}".encode()


def rule_of_key(key: str) -> str:
    """The rule name of a `hit_key` (decoded)."""
    return key.split("\x1f", 1)[0]


def base_view(event: ScoredEvent) -> dict[str, Any]:
    s = event.scores
    record = event.record
    view: dict[str, Any] = {
        "doc_id": event.doc_id,
        "source": event.source,
        "record_id": event.record_id,
        "language": event.language,
        "entities": event.entities,
        # None when not scored (a language the encoder does not read): no rule matches it.
        "topic": s.topic.label if s.topic else None,
        "topic.score": s.topic.score if s.topic else None,
        "sentiment": s.sentiment.label if s.sentiment else None,
        "sentiment.score": s.sentiment.score if s.sentiment else None,
        "language.detected": s.language.code if s.language else None,
        "novelty": s.novelty,
        "similarity.max": max((m.score for m in s.similarity), default=None),
        "domain": urlsplit(record["url"]).hostname if record.get("url") else None,
        "cpc_class": sorted({c[:4] for c in record.get("cpc_codes", [])}),
        "relations": sorted({r.relation for r in s.relations}),
    }
    if s.sentiment:
        view |= {f"sentiment.{k}": p for k, p in s.sentiment.probabilities.items()}
    for h in s.heads:
        view |= {f"head.{h.name}": h.label, f"head.{h.name}.score": h.score}
    for k, v in record.items():
        if isinstance(v, dict):
            view |= {f"record.{k}.{kk}": vv for kk, vv in v.items()}
        else:
            view[f"record.{k}"] = v
    return view


View = tuple[dict[str, Any], PortfolioMatch | None, Relation | None]


def _per_entity(field: str) -> bool:
    return field == "entity" or field.startswith("entity.")


def _per_relation(field: str) -> bool:
    return field == "relation" or field.startswith("relation.")


def _per_match(field: str) -> bool:
    return field.startswith("portfolio.")


def _per_view(field: str) -> bool:
    return _per_entity(field) or _per_match(field) or _per_relation(field)


@dataclass(frozen=True)
class Reads:
    """The views of an event a rule needs, and its filters split by where they can be
    tested: on the base view, before any view is made, or on each view."""

    entities: bool
    matches: bool
    relations: bool
    base_filter: tuple[tuple[str, Matcher], ...]
    view_filter: tuple[tuple[str, Matcher], ...]

    @classmethod
    def of(cls, rule: Rule) -> Reads:
        fields = rule.fields()
        return cls(
            entities=any(map(_per_entity, fields)),
            matches=any(map(_per_match, fields)),
            relations=any(map(_per_relation, fields)),
            base_filter=tuple((f, m) for f, m in rule.filter.items() if not _per_view(f)),
            view_filter=tuple((f, m) for f, m in rule.filter.items() if _per_view(f)),
        )


def views(event: ScoredEvent, reads: Reads, base: dict[str, Any]) -> Iterator[View]:
    """`base`: the event's base_view."""
    entity_views = [base]
    if reads.entities:
        own = {v.entity: v for v in event.scores.entity_sentiment}
        entity_views = [base | _entity_fields(e, own.get(e)) for e in event.entities]
    matches: list[PortfolioMatch | None] = [None]
    if reads.matches:
        matches = list(event.scores.similarity)
    relations: list[Relation | None] = [None]
    if reads.relations:
        relations = list(event.scores.relations)
    for v in entity_views:
        for m in matches:
            with_match = v | _match_fields(m)
            for r in relations:
                yield with_match | _relation_fields(r), m, r


def _match_fields(match: PortfolioMatch | None) -> dict[str, Any]:
    if match is None:
        return {}
    return {f"portfolio.{k}": v for k, v in match.model_dump(exclude={"evidence"}).items()}


def _relation_fields(relation: Relation | None) -> dict[str, Any]:
    if relation is None:
        return {}
    return {
        "relation": relation.relation,
        "relation.subject": relation.subject,
        "relation.object": relation.object,
        "relation.score": relation.score,
        "relation.watched": relation.watched,
    }


def _entity_fields(entity: str, verdict: EntitySentiment | None) -> dict[str, Any]:
    # None where the entity has no sentence of its own (named only in a patent's assignee).
    return {
        "entity": entity,
        "entity.sentiment": verdict.label if verdict else None,
        "entity.sentiment.score": verdict.score if verdict else None,
    }


def _groups(view: dict[str, Any], rule: Rule) -> Iterator[dict[str, str]]:
    """One group per combination of group_by values; a list field gives one per element."""
    groups: list[dict[str, str]] = [{}]
    for name in rule.group_by:
        value = view.get(name)
        values = value if isinstance(value, list) else [value]
        matcher = rule.filter.get(name)
        values = [v for v in values if v is not None and (matcher is None or matcher.test(v))]
        groups = [g | {name: str(v)} for g in groups for v in values]
    yield from groups


def rule_hits(
    rule: Rule,
    event: ScoredEvent,
    base: dict[str, Any] | None = None,
    reads: Reads | None = None,
) -> list[RuleHit]:
    """The hits `event` causes for `rule`: at most one per group key (and term). `base`: the
    event's base_view, and `reads`: the rule's, made once for all the events of a batch."""
    reads = Reads.of(rule) if reads is None else reads
    base = base_view(event) if base is None else base
    if not all(m.test(base.get(f)) for f, m in reads.base_filter):
        return []
    # Per key: how strong its best hit is, and that hit's fields.
    found: dict[tuple[str, str | None], tuple[tuple[bool, float], dict[str, Any]]] = {}
    for view, match, relation in views(event, reads, base):
        if not all(m.test(view.get(f)) for f, m in reads.view_filter):
            continue
        for outcome in rule.outcomes(view):
            strength = (outcome["matched"], outcome.get("value") or 0.0)
            for group in _groups(view, rule):
                key = (group_key(group), outcome.get("term"))
                # Two views of one event can land on one key: keep the stronger one.
                if key in found and strength <= found[key][0]:
                    continue
                # Only matching events become evidence: the others travel without it.
                evidence = outcome["matched"] and rule.evidence
                found[key] = (
                    strength,
                    {
                        "group": group,
                        "portfolio_item": match,
                        "relation": relation,
                        "prior_art": event.scores.prior_art if evidence else [],
                        **outcome,
                    },
                )
    position = f"{event.kafka.topic}:{event.kafka.partition}"
    # Ranked, so that (offset, seq) orders the hits of one key and a replay is recognised.
    return [
        RuleHit(
            rule=rule.name,
            timestamp=event.timestamp,
            doc_id=event.doc_id,
            source=event.source,
            position=position,
            offset=event.kafka.offset,
            received_at=event.kafka.timestamp,
            seq=seq,
            **fields,
        )
        for seq, (_, fields) in enumerate(found.values())
    ]


def batch_hits(rules: Iterable[Rule], events: Iterable[ScoredEvent]) -> dict[bytes, list[RuleHit]]:
    """The hits of a micro-batch by Kafka key (`hit_key`), each key's in input order: one
    message per key, so that the rules agent reads and writes a key's state once a batch.

    A rule that reads only a key's last hit (`last_hit_only`: flatline, the last arrival)
    gets only the last of a batch's hits for one key.
    """
    by_key: dict[bytes, list[RuleHit]] = {}
    plans = [(rule, Reads.of(rule)) for rule in rules]
    for event in events:
        base = base_view(event)
        for rule, reads in plans:
            for hit in rule_hits(rule, event, base, reads):
                key = hit_key(hit)
                if rule.last_hit_only:
                    by_key[key] = [hit]
                else:
                    by_key.setdefault(key, []).append(hit)
    return by_key


def hit_messages(by_key: dict[bytes, list[RuleHit]]) -> Iterator[tuple[bytes, bytes]]:
    """The Kafka (key, value) of each `RuleHits` message: a key's hits in order, split where
    they would pass MESSAGE_BYTES (a hit alone is never split). Each hit is serialised once."""
    for key, hits in by_key.items():
        parts = [h.model_dump_json().encode() for h in hits]
        sizes = [len(p) + 1 for p in parts]
        for chunk in chunk_positions(sizes, len(parts), MESSAGE_BYTES):
            yield key, b'{"hits":[' + b",".join(parts[i] for i in chunk) + b"]}"
