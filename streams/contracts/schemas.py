"""Message schemas: what producers publish, what Argus emits.

Every message is a pydantic v2 model. Inputs are strict about shape (unknown
fields are rejected, so a record on the wrong topic fails loudly) and tolerant
about the obvious normalisations (ISO dates with any offset become UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    computed_field,
)
from pydantic.json_schema import SkipJsonSchema

Source = Literal["news", "social", "patents"]
Stage = Literal["validation", "scoring", "indexing"]

RecordId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# A language as the producer declares it (BCP 47, e.g. "en", "zh-Hans"): None lets Argus
# identify it from the text.
Language = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=35),
]


def _as_utc(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC; aware ones are converted, so that ids,
    # index routing and Kibana all see one clock.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


# A fragment joined to a passage is shorter than one (models.matching.MIN_SEGMENT_CHARS), plus
# the space that joins it.
_FRAGMENT = 13


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Fields of prose, where personal data may hide (see streams/masking.py).
    FREE_TEXT: ClassVar[tuple[str, ...]] = ()
    # Fields whose words are all in scoring_text(): a scored event carries them once, as its
    # `text`, not again in its `record`.
    IN_TEXT: ClassVar[tuple[str, ...]] = ()

    @property
    def record_id(self) -> str:
        raise NotImplementedError

    @property
    def event_time(self) -> datetime:
        raise NotImplementedError

    def scoring_text(self) -> str:
        """The text the models read."""
        raise NotImplementedError

    def event_record(self) -> dict[str, Any]:
        """The record as a scored event holds it: every field but those in its text."""
        return self.model_dump(mode="json", exclude=set(self.IN_TEXT))

    def tagging_text(self) -> str:
        """The text searched for watch-list entities."""
        return self.scoring_text()

    def parties(self) -> list[str]:
        """Who put the text out: compared with a portfolio item's owner and licensees."""
        raise NotImplementedError

    def sections(self) -> list[tuple[str, str]]:
        """(name, text) of the parts evidence is traced back to; none: the text is one part."""
        return []

    def section_of(self, passage: str) -> str | None:
        """The part a passage of `scoring_text()` comes from. A passage lies in one part,
        unless a fragment too short to stand alone was joined to a neighbour part: then the
        rest of it says where it is."""
        sections = self.sections()
        for cut in range(min(_FRAGMENT, len(passage) // 2) + 1):
            for needle in (passage[cut:], passage[: len(passage) - cut]):
                for name, text in sections:
                    if needle in text:
                        return name
        return None


class NewsArticle(_Input):
    FREE_TEXT: ClassVar[tuple[str, ...]] = ("title", "body")
    IN_TEXT: ClassVar[tuple[str, ...]] = ("body",)  # the title stays: Kibana lists show it

    id: RecordId
    url: str
    source: NonBlank = Field(description="Publisher name or domain.")
    title: NonBlank
    body: str = ""
    language: Language | None = None
    published_at: UtcDatetime
    authors: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @property
    def record_id(self) -> str:
        return self.id

    @property
    def event_time(self) -> datetime:
        return self.published_at

    def scoring_text(self) -> str:
        return f"{self.title}\n{self.body}".strip()

    def parties(self) -> list[str]:
        return [self.source, *self.authors]


# Counts must fit Elasticsearch's `long`; a larger one is a producer bug, not a fact.
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


class Engagement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    likes: Count = 0
    shares: Count = 0
    replies: Count = 0


class SocialPost(_Input):
    FREE_TEXT: ClassVar[tuple[str, ...]] = ("text",)
    IN_TEXT: ClassVar[tuple[str, ...]] = ("text",)

    id: RecordId
    platform: NonBlank
    author: NonBlank
    text: NonBlank
    created_at: UtcDatetime
    language: Language | None = None
    url: str | None = None
    engagement: Engagement = Field(default_factory=Engagement)

    @property
    def record_id(self) -> str:
        return self.id

    @property
    def event_time(self) -> datetime:
        return self.created_at

    def scoring_text(self) -> str:
        return self.text

    def parties(self) -> list[str]:
        return [self.author]


# A dependent claim names the claim it narrows in its preamble ("The scheduler of claim 1,
# wherein …", "根据权利要求1所述的方法，其中…"); a claim of another category that only uses
# one ("A method …, comprising operating the scheduler of claim 1") is independent.
_PREAMBLE_END = re.compile(
    r"[,;:，；：]|\b(?:comprising|wherein|characteri[sz]ed|including|consisting)\b", re.I
)
_CLAIM_REFERENCE = re.compile(r"\bclaims?\s+\d+|权利要求\s*\d+", re.I)


def is_dependent_claim(claim: str) -> bool:
    return bool(_CLAIM_REFERENCE.search(_PREAMBLE_END.split(claim, maxsplit=1)[0]))


class PatentFiling(_Input):
    FREE_TEXT: ClassVar[tuple[str, ...]] = ("title", "abstract", "claims")
    # The claims stay: the text holds only the independent ones.
    IN_TEXT: ClassVar[tuple[str, ...]] = ("abstract",)

    publication_number: RecordId
    title: NonBlank
    abstract: str = ""
    claims: list[str] = Field(default_factory=list)
    assignee: str | None = None
    inventors: list[str] = Field(default_factory=list)
    cpc_codes: list[str] = Field(default_factory=list)
    filing_date: UtcDatetime
    publication_date: UtcDatetime
    language: Language | None = None

    @property
    def record_id(self) -> str:
        return self.publication_number

    @property
    def event_time(self) -> datetime:
        return self.publication_date

    def independent_claims(self) -> list[tuple[int, str]]:
        """(number, text) of the claims that set the legal scope; claim 1 always does."""
        return [
            (n, claim)
            for n, claim in enumerate(self.claims, 1)
            if claim.strip() and (n == 1 or not is_dependent_claim(claim))
        ]

    def sections(self) -> list[tuple[str, str]]:
        # Dependent claims only narrow an independent one: comparing them adds no scope.
        parts = [("title", self.title), ("abstract", self.abstract)]
        parts += [(f"claim {n}", claim) for n, claim in self.independent_claims()]
        return [(name, text.strip()) for name, text in parts if text.strip()]

    def scoring_text(self) -> str:
        return "\n".join(text for _, text in self.sections())

    def tagging_text(self) -> str:
        return f"{self.scoring_text()}\n{self.assignee or ''}"

    def parties(self) -> list[str]:
        return [self.assignee] if self.assignee else []


InputRecord = NewsArticle | SocialPost | PatentFiling

SCHEMAS: dict[Source, type[_Input]] = {
    "news": NewsArticle,
    "social": SocialPost,
    "patents": PatentFiling,
}


class TopicScore(BaseModel):
    label: str
    score: float
    probabilities: dict[str, float]


class SentimentScore(BaseModel):
    label: Literal["negative", "neutral", "positive"]
    score: float
    probabilities: dict[str, float]


class EntitySentiment(BaseModel):
    entity: str = Field(description="A watch-list entity the text mentions.")
    label: Literal["negative", "neutral", "positive"] = Field(
        description="What the text says about this entity: its own sentences, not the document's."
    )
    score: float = Field(description="The label's probability, averaged over those sentences.")
    sentence: str = Field(description="The sentence or clause that says it most clearly.")


class HeadScore(BaseModel):
    name: str = Field(description="The head's task name in the model store.")
    label: str
    score: float = Field(description="The label's probability.")
    version: str = Field(description="The head that produced it.")


class Evidence(BaseModel):
    element: str = Field(description="A claim element or sentence of the portfolio item.")
    passage: str = Field(description="The event's passage that matches it best.")
    similarity: float
    section: str | None = Field(
        None,
        description='Where the passage is in a patent filing: "title", "abstract" or '
        '"claim N" (an independent claim).',
    )


# Why a match does not alert: the text is the owner's own, a licensee's, or allowed.
Authorised = Literal["owner", "licensee", "allowed"]


class PortfolioMatch(BaseModel):
    item_id: str
    kind: str
    owner: str | None = None
    title: str | None = None
    authorised: Authorised | None = Field(
        None,
        description="The text's author, publisher or assignee is the item's owner (or an "
        "alias), a licensee, or on its allow list: the match is kept, the shipped "
        "infringement rule does not alert on it.",
    )
    score: float = Field(
        description="Soft coverage, -1..1: mean over the item's elements of the best cosine "
        "between that element and a passage of the text."
    )
    infringement_score: float | None = Field(
        None, description="0-100: calibrated probability of a near copy (strong matches only)."
    )
    coverage: float | None = Field(
        None, description="Share of the item's elements that found a close passage."
    )
    evidence: list[Evidence] = Field(default_factory=list)


class PriorArt(BaseModel):
    record_id: str = Field(description="The earlier filing's publication number.")
    similarity: float = Field(description="Cosine of the two filings' embeddings.")


class Relation(BaseModel):
    """One relation a sentence states between two entities (relations.yaml names them)."""

    subject: str = Field(description="The party that does it: buyer, plaintiff, licensor, ...")
    relation: str = Field(
        description="acquisition, litigation, licensing, partnership, investment, supply, or a "
        "name added to relations.yaml."
    )
    object: str = Field(description="The party it is done to: target, defendant, licensee, ...")
    score: float = Field(description="The extractor's probability, 0-1 (1.0 for a cue match).")
    sentence: str = Field(description="The sentence that states it: the evidence.")
    watched: bool = Field(False, description="The subject or the object is a watch-list entity.")

    def fact(self) -> str:
        """In one line, as Kibana panels and notifications show it."""
        return f"{self.subject} -{self.relation}-> {self.object}"


class LanguageGuess(BaseModel):
    code: str = Field(
        description="ISO 639-1 code where there is one (en, zh, de, …); und: no text."
    )
    score: float = Field(
        description="The language identifier's probability for it, 0-1 (for text written "
        "mostly in Han, kana or Hangul: the share of its letters in that script)."
    )

    @property
    def confident(self) -> bool:
        # Below this the identifier is guessing (very short texts, tickers, numbers).
        return self.score >= 0.5


class Scores(BaseModel):
    topic: TopicScore | None = Field(
        description="None: not scored, the encoder does not read the text's language (`unscored`)."
    )
    sentiment: SentimentScore | None = Field(
        description="None: not scored, the encoder does not read the text's language (`unscored`)."
    )
    language: LanguageGuess | None = Field(
        None, description="The language identified from the text."
    )
    unscored: str | None = Field(
        None, description="Why sentiment and topic were not scored, when they were not."
    )
    entity_sentiment: list[EntitySentiment] = Field(
        default_factory=list,
        description="Per watch-list entity mentioned in the text, by entity name; empty when "
        "sentiment was not scored.",
    )
    heads: list[HeadScore] = Field(
        default_factory=list,
        description="Every other head of the model store trained on this encoder "
        "(`argus train --task NAME`), by name; empty when the text was not scored.",
    )
    similarity: list[PortfolioMatch]
    novelty: float | None = Field(
        None,
        description="Patents only: 1 - the highest similarity to a filing of an earlier "
        "filing date (the prior-art index all workers share).",
    )
    prior_art: list[PriorArt] = Field(
        default_factory=list,
        description="Patents only: the nearest filings of an earlier date, best first.",
    )
    relations: list[Relation] = Field(
        default_factory=list,
        description="Relations between the entities the text names, per sentence with two or "
        "more of them.",
    )
    summary: str | None = Field(
        None,
        description="One to three of the text's own sentences, picked by the encoder "
        "(models/summaries.py); None for a text of three sentences or fewer, or one whose "
        "language the encoder does not read.",
    )
    # The sentence embedding (float16 bytes), for a patent filing's prior art; never serialised.
    embedding: SkipJsonSchema[bytes | None] = Field(None, exclude=True, repr=False)
    # Scorer -> version of the models that scored this text (the multilingual encoder's for a
    # text routed to it): the event's `models`.
    models: SkipJsonSchema[dict[str, str]] = Field(default_factory=dict, exclude=True, repr=False)


class KafkaPosition(BaseModel):
    topic: str
    partition: int
    offset: int
    timestamp: datetime | None = Field(None, description="When the record reached Kafka.")


class ScoredEvent(BaseModel):
    """What lands in `argus.scored` and `argus-events-*`: one serialisation, the same bytes
    in both (`to_json`)."""

    # Written as Elasticsearch's `@timestamp`; read by either name.
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    doc_id: str = Field(description="`{source}:{record id}`: the Elasticsearch _id.")
    source: Source
    record_id: str
    timestamp: datetime = Field(alias="@timestamp", description="The record's event time (UTC).")
    scored_at: datetime
    text: str
    language: str = Field(
        description="The producer's declared language, else the one identified from the text."
    )
    language_declared: str | None = Field(None, description="What the producer declared, if any.")
    entities: list[str] = Field(
        default_factory=list, description="Watch-list entities the text mentions."
    )
    record: dict[str, Any] = Field(
        description="The validated input record, less the fields whose words are all in "
        "`text` (a news body, a post's text, a patent abstract)."
    )
    scores: Scores
    models: dict[str, str] = Field(description="Scorer name -> model version that produced it.")
    kafka: KafkaPosition

    @computed_field(description="Entity sentiment label -> the entities it was given to.")
    @property
    def entities_by_sentiment(self) -> dict[str, list[str]]:
        # A Kibana terms aggregation counts one field's values: in an array of objects an
        # entity and its label lose each other, so each label gets its list of entities.
        by_label: dict[str, list[str]] = {}
        for v in self.scores.entity_sentiment:
            by_label.setdefault(v.label, []).append(v.entity)
        return by_label

    @computed_field(description="Relations with a watched party, each as one term.")
    @property
    def watched_relations(self) -> list[str]:
        # Likewise a relation's parties and name, as one term for the relations panel.
        return [r.fact() for r in self.scores.relations if r.watched]

    def to_json(self) -> bytes:
        """The message on argus.scored and the event document, serialised once."""
        return self.model_dump_json().encode()


RuleType = Literal["threshold", "surge", "frequency", "new_term", "flatline"]
Severity = Literal["info", "low", "medium", "high", "critical"]
AlertStatus = Literal["firing", "acknowledged", "resolved"]


class RuleHit(BaseModel):
    """One event seen by one rule for one group key."""

    rule: str
    group: dict[str, str] = Field(description="The rule's group_by fields and their values.")
    timestamp: datetime = Field(description="The event's own time (UTC).")
    matched: bool = Field(description="Whether the event meets the rule's condition.")
    value: float | None = Field(None, description="The compared figure (threshold rules).")
    term: str | None = Field(None, description="The watched value (new_term rules).")
    doc_id: str
    source: Source
    position: str = Field(description="The input record's topic:partition.")
    offset: int = Field(description="The input record's offset.")
    seq: int = Field(0, description="The hit's rank among its event's hits for the rule.")
    received_at: datetime | None = Field(
        None, description="When the input record reached Kafka (its timestamp)."
    )
    portfolio_item: PortfolioMatch | None = None
    relation: Relation | None = Field(
        None, description="The relation a rule on relation.* fields matched."
    )
    prior_art: list[PriorArt] = Field(
        default_factory=list, description="A patent filing's nearest earlier filings."
    )


class RuleHits(BaseModel):
    """What lands in `argus.rule-hits`: a micro-batch's hits for one rule and group key.

    Keyed by rule and group key, so that every hit of a key reaches the same partition,
    and so the same worker and the same table partition, in order. One message per key and
    batch, so that the rules agent reads and writes the key's state once for all of them.
    """

    hits: list[RuleHit] = Field(min_length=1, description="In input order.")


class Alert(BaseModel):
    """What lands in `argus.alerts` and `argus-alerts-*`."""

    alert_id: str = Field(description="Derived from rule, group key and window: replays collide.")
    rule: str
    rule_type: RuleType
    severity: Severity
    status: AlertStatus = "firing"
    timestamp: datetime = Field(description="Event time of the event that fired it (UTC).")
    fired_at: datetime = Field(description="Wall-clock time it fired.")
    group: dict[str, str] = Field(description="The rule's group_by fields and their values.")
    window_start: datetime | None = None
    window_end: datetime | None = None
    figures: dict[str, float] = Field(description="The numbers that met the condition.")
    summary: str
    evidence: list[str] = Field(
        default_factory=list, description="Doc ids of the events behind it, newest first."
    )
    representatives: list[str] = Field(
        default_factory=list,
        description="Summaries (else the opening text) of the evidence events that share the "
        "most words with the others.",
    )
    top_terms: list[str] = Field(default_factory=list)
    source: Source | None = Field(None, description="Source of the event that fired it.")
    portfolio_item: PortfolioMatch | None = None
    relation: Relation | None = Field(
        None, description="The relation of the event that fired it (rules on relation.*)."
    )
    prior_art: list[PriorArt] = Field(
        default_factory=list,
        description="Patents: the nearest earlier filings of the event that fired it.",
    )
    notify: list[str] = Field(default_factory=list, description="Channels to notify.")
    resolved_at: datetime | None = None

    def labels(self) -> dict[str, str]:
        """What silences and notification grouping match on."""
        labels = {"rule": self.rule, "rule_type": self.rule_type, "severity": self.severity}
        if self.source:
            labels["source"] = self.source
        return labels | self.group

    def to_document(self) -> dict[str, Any]:
        # Group keys are rule-defined ("entity", "portfolio.item_id"): as object fields they
        # could clash in the mapping across rules, so they are searched as "key=value" labels.
        # The id also stays a field: lists sort on it to break time ties.
        doc = self.model_dump(mode="json")
        doc["@timestamp"] = doc.pop("timestamp")
        doc["labels"] = [f"{k}={v}" for k, v in self.labels().items()]
        return doc


# A dead letter must itself fit in a Kafka message (1 MiB by default, base64 adds a third).
DLQ_VALUE_LIMIT = 512 * 1024


class DeadLetter(BaseModel):
    """What lands in `argus.dlq`: enough to understand and replay the record."""

    reason: str
    stage: Stage
    source_topic: str
    partition: int
    offset: int
    key_b64: str | None
    value_b64: str = Field(
        description="The original record bytes, base64 (masked when `value_masked`); only "
        "the first DLQ_VALUE_LIMIT bytes when `value_truncated`."
    )
    value_bytes: int = Field(description="Size of the original record.")
    value_truncated: bool = False
    value_masked: bool = Field(
        False,
        description="The record's source is in ARGUS_MASK_PII: e-mail addresses, phone "
        "numbers and @handles in the value, the key and the reason are masked, as in the "
        "record's text; the value is UTF-8 (a JSON document re-serialised with every string "
        "masked) and no longer a byte-exact copy of the record.",
    )
    failed_at: datetime


EXPORTED_SCHEMAS: dict[str, type[BaseModel]] = {
    "news-article": NewsArticle,
    "social-post": SocialPost,
    "patent-filing": PatentFiling,
    "scored-event": ScoredEvent,
    "rule-hits": RuleHits,
    "alert": Alert,
    "dead-letter": DeadLetter,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every message, as committed under docs/schemas/: of an input, what it
    may hold; of what Argus writes, what it holds (computed fields and aliases included)."""
    inputs = set(SCHEMAS.values())
    return {
        name: model.model_json_schema(mode="validation" if model in inputs else "serialization")
        for name, model in EXPORTED_SCHEMAS.items()
    }


def describe_validation_error(err: ValidationError, limit: int = 5) -> str:
    parts = []
    for e in err.errors()[:limit]:
        where = ".".join(str(p) for p in e["loc"]) or "record"
        parts.append(f"{where}: {e['msg']}")
    more = err.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
