"""The rule language, rule files, hits and the per-key state machine: all pure."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from streams.contracts.schemas import PriorArt, Relation, RuleHit
from streams.contracts.settings import ConfigError
from streams.rules.base import Fire, Resolve
from streams.rules.files import load_rule, load_rules
from streams.rules.flatline import flatline_due
from streams.rules.hits import Reads, batch_hits, hit_key, rule_hits
from streams.rules.matchers import Matcher, parse_duration
from streams.rules.models import Rule
from streams.rules.state import apply_hit, apply_hits
from streams.rules.summary import representatives, top_terms
from streams.watchlist import Entity, Watchlist, load_watchlist
from tests.events import T0, scored_event

REPO = Path(__file__).resolve().parents[2]
RULE = TypeAdapter(Rule)


def rule(**fields: Any) -> Rule:
    return RULE.validate_python({"name": "r", **fields})


def hit(
    at: datetime = T0,
    matched: bool = True,
    value: float | None = None,
    term: str | None = None,
    group: dict[str, str] | None = None,
    doc: str = "news:1",
    offset: int = 0,
    arrived: datetime | None = None,
) -> RuleHit:
    return RuleHit(
        rule="r",
        group=group if group is not None else {"entity": "Acme"},
        timestamp=at,
        matched=matched,
        value=value,
        term=term,
        doc_id=doc,
        source="news",
        position="argus.news:0",
        offset=offset,
        received_at=arrived,
        text=f"text of {doc}",
    )


class Feed:
    """Applies hits in input order, like the scoring agent publishes them."""

    def __init__(self, r: Rule) -> None:
        self.rule, self.state, self.offset = r, {}, 0

    def __call__(self, h: RuleHit) -> list[Fire | Resolve]:
        self.offset += 1
        return apply_hit(self.rule, self.state, h.model_copy(update={"offset": self.offset}), T0)


def fired(decisions: list[Fire | Resolve]) -> list[Fire]:
    return [d for d in decisions if isinstance(d, Fire)]


# The language.


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1.5d") == timedelta(hours=36)
    assert parse_duration(30) == timedelta(seconds=30)
    with pytest.raises(ValueError, match="duration"):
        parse_duration("soon")


def test_matcher_shorthands_and_lists() -> None:
    m = TypeAdapter(Matcher)
    assert m.validate_python("negative").test("negative")
    assert not m.validate_python("negative").test("positive")
    assert m.validate_python(["news", "social"]).test("social")
    assert m.validate_python({"gte": 0.8}).test(0.8) and not m.validate_python({"gte": 0.8}).test(
        0.7
    )
    assert not m.validate_python({"gte": 0.8}).test("0.9")  # a string is not a number
    assert m.validate_python({"prefix": "H01M"}).test(["G06N", "H01M"])  # any element
    assert m.validate_python({"exists": True}).test(["x"])
    assert not m.validate_python({"exists": True}).test([])
    assert not m.validate_python({"gte": 1}).test(None)


# Rule files.


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: r\ntype: surge\nmatch: {}\nwindow: 1q\nbaseline: 1d\n", ":4: window: Value error"),
        ("name: r\ntype: threshold\nfield: topic.score\ngte: x\n", ":4: gte: Input should be"),
        (
            "name: r\ntype: threshold\nfilter:\n  sentimnt: neg\nfield: topic\ngte: 1\n",
            ":4: filter: unknown field 'sentimnt'",
        ),
        (
            "name: r\ntype: threshold\nfield: topic.score\n",
            ":1: (top level): Value error, a threshold rule needs gte or lte",
        ),
        ("name: r\ntype: tresh\n", "does not match any of the expected tags"),
        (
            "name: r\ntype: flatline\nwindow: 1h\nnotify: [sms]\n",
            ":4: notify: unknown channel 'sms'",
        ),
        (
            "name: r\ntype: flatline\nwindow: 1h\nbogus: 1\n",
            ":4: bogus: Extra inputs are not permitted",
        ),
        ("name: r\ntype: flatline\n  window: [\n", "not valid YAML"),
        ("name: R!\ntype: flatline\nwindow: 1h\n", ":1: name: String should match pattern"),
    ],
)
def test_rule_file_errors_name_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_rule(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value)


def test_rule_set_rejects_duplicates_and_skips_disabled(tmp_path: Path) -> None:
    write(tmp_path, "name: a\ntype: flatline\nwindow: 1h\n", "a.yaml")
    write(tmp_path, "name: b\ntype: flatline\nwindow: 1h\nenabled: false\n", "b.yaml")
    rules = load_rules(tmp_path / "rules")
    assert [r.name for r in rules] == ["a"] and len(rules.files) == 2
    write(tmp_path, "name: a\ntype: flatline\nwindow: 2h\n", "c.yaml")
    with pytest.raises(ConfigError, match="also used by"):
        load_rules(tmp_path / "rules")
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules(tmp_path / "nowhere")


def test_shipped_rules_and_watchlist_load() -> None:
    rules = load_rules(REPO / "rules")
    assert {r.type for r in rules} == {"threshold", "surge", "frequency", "new_term", "flatline"}
    tagger = load_watchlist(REPO / "watchlist.yaml")
    assert tagger.tag("Cobalt Motors recalls the Aster sedan; $VLTR up") == [
        "Cobalt Motors",
        "Voltaris Energy",
    ]


def test_watchlist_tags_words_case_insensitively_and_tickers_in_capitals() -> None:
    tagger = Watchlist(
        entities=[
            Entity(name="Acme Corp", ticker="NOW", aliases=["Acme"]),
            Entity(name="Acme Corporation Holdings"),
        ]
    ).tagger()
    assert tagger.tag("ACME said so") == ["Acme Corp"]
    assert tagger.tag("acme corporation holdings filed") == ["Acme Corporation Holdings"]
    assert tagger.tag("buy now, NOW and $NOW") == ["Acme Corp"]
    assert tagger.tag("right now") == [] and tagger.tag("Acmeville") == []
    assert load_watchlist(None).tag("Acme") == []


def test_watchlist_spans_are_the_texts_own_where_casefolding_lengthens_it() -> None:
    tagger = Watchlist(entities=[Entity(name="Acme Corp", aliases=["Acme"])]).tagger()
    # "ß" casefolds to "ss": the text is then searched as written, ignoring case.
    for text in ("Die Straße: ACME CORP baut", "Die Strasse: ACME CORP baut"):
        start = text.index("ACME")
        assert tagger.mentions(text) == [(start, start + 9, "Acme Corp")]
    assert tagger.mentions("xAcme and Acme") == [(10, 14, "Acme Corp")]


def test_watchlist_names_ending_and_starting_in_punctuation_may_touch() -> None:
    # A name's last character is the next one's separator: both are found.
    tagger = Watchlist(
        entities=[
            Entity(name="Yahoo", aliases=["Yahoo!"]),
            Entity(name=".NET"),
            Entity(name="(RED)"),
        ]
    ).tagger()
    assert tagger.mentions("Yahoo!.NET") == [(0, 6, "Yahoo"), (6, 10, ".NET")]
    assert tagger.mentions("(RED)(RED)") == [(0, 5, "(RED)"), (5, 10, "(RED)")]
    assert tagger.mentions("x.NET y$.NET") == []  # a word character or "$" before vetoes


# Hits.


def test_hits_split_by_entity_and_carry_evidence_only_when_matching() -> None:
    r = rule(
        type="surge",
        filter={"source": "news"},
        group_by="entity",
        match={"sentiment": "negative"},
        window="1h",
        baseline="1d",
    )
    e = scored_event(entities=("Acme", "Beta"), sentiment="negative", text="bad news")
    hits = rule_hits(r, e)
    assert [(h.group, h.matched) for h in hits] == [
        ({"entity": "Acme"}, True),
        ({"entity": "Beta"}, True),
    ]
    assert hits[0].doc_id == e.doc_id  # the evidence is named; its text is read back later
    assert hit_key(hits[0]) == b"r\x1fentity=Acme"
    calm = rule_hits(r, scored_event(entities=("Acme",), sentiment="positive"))
    assert [h.matched for h in calm] == [False]
    assert rule_hits(r, scored_event(entities=())) == []  # no entity, no key
    assert rule_hits(r, scored_event(source="social", entities=("Acme",))) == []


def test_a_rules_filters_are_split_between_the_base_view_and_each_view() -> None:
    r = rule(
        type="threshold",
        filter={"source": "news", "relation": "litigation", "entity.sentiment": "negative"},
        group_by="entity",
        field="relation.score",
        gte=0.5,
    )
    reads = Reads.of(r)
    assert (reads.entities, reads.matches, reads.relations) == (True, False, True)
    assert [f for f, _ in reads.base_filter] == ["source"]
    assert [f for f, _ in reads.view_filter] == ["relation", "entity.sentiment"]


def test_entity_rules_count_each_entitys_own_sentiment() -> None:
    r = rule(
        type="surge",
        group_by="entity",
        match={"entity.sentiment": "negative"},
        window="1h",
        baseline="1d",
    )
    e = scored_event(
        entities=("Acme", "Beta", "Gamma"),
        sentiment="positive",  # the document's label is nobody's here
        entity_sentiment={"Acme": "positive", "Beta": "negative"},  # Gamma: no sentence
    )
    hits = rule_hits(r, e)
    assert [(h.group["entity"], h.matched) for h in hits] == [
        ("Acme", False),
        ("Beta", True),
        ("Gamma", False),
    ]


def test_watchlist_finds_chinese_names_inside_running_text() -> None:
    tagger = Watchlist(
        entities=[
            Entity(name="Voltaris Energy", ticker="VLTR", aliases=["Voltaris", "沃尔塔瑞斯"]),
            Entity(name="宁德时代"),
        ]
    ).tagger()
    text = "宁德时代股价暴跌，沃尔塔瑞斯上涨；关注$VLTR股价，Voltaris的订单"
    assert tagger.mentions(text) == [
        (0, 4, "宁德时代"),
        (9, 14, "Voltaris Energy"),
        (19, 24, "Voltaris Energy"),  # "$VLTR"
        (27, 35, "Voltaris Energy"),
    ]
    assert tagger.tag("Voltarisx and NOVLTR") == []  # Latin words still need boundaries
    # A Chinese name's edges need none, beside Latin letters either.
    assert tagger.mentions("CEO沃尔塔瑞斯的宁德时代ETF") == [
        (3, 8, "Voltaris Energy"),
        (9, 13, "宁德时代"),
    ]


def test_threshold_hits_per_portfolio_match_and_list_groups() -> None:
    r = rule(type="threshold", field="portfolio.score", gte=0.8, group_by=["portfolio.item_id"])
    hits = rule_hits(r, scored_event(sims=(0.9, 0.5)))
    assert [(h.group["portfolio.item_id"], h.matched, h.value) for h in hits] == [
        ("pf-0", True, 0.9),
        ("pf-1", False, 0.5),
    ]
    assert hits[0].portfolio_item and hits[0].portfolio_item.item_id == "pf-0"
    by_class = rule(
        type="new_term",
        field="record.assignee",
        learn="1d",
        filter={"cpc_class": {"prefix": ["H01M"]}},
        group_by="cpc_class",
    )
    patent = scored_event(
        source="patents",
        record={"assignee": "Acme", "cpc_codes": ["H01M 4/1", "G06N 3/0", "H01M 10/4"]},
    )
    hits = rule_hits(by_class, patent)
    assert [(h.group, h.term) for h in hits] == [({"cpc_class": "H01M"}, "Acme")]


def test_a_near_duplicate_filing_alerts_with_its_prior_art() -> None:
    r = rule(type="threshold", field="novelty", lte=0.05, group_by=["doc_id"])
    patent = scored_event(source="patents", record={"assignee": "Acme"})
    earlier = [PriorArt(record_id="US-1", similarity=0.98)]
    patent.scores.novelty, patent.scores.prior_art = 0.02, earlier
    (found,) = rule_hits(r, patent)
    assert found.matched and found.prior_art == earlier
    (decision,) = apply_hit(r, {}, found, T0)
    assert isinstance(decision, Fire) and decision.alert.prior_art == earlier


# State.


def test_a_replayed_hit_changes_nothing() -> None:
    r = rule(type="frequency", count=2, window="1h", group_by="entity")
    state: dict[str, Any] = {}
    assert apply_hit(r, state, hit(offset=5), T0) == []
    before = copy.deepcopy(state)
    # The same input record again: the rules agent or the scoring agent replayed.
    assert apply_hit(r, state, hit(offset=5), T0) == [] and state == before
    assert apply_hit(r, state, hit(offset=4), T0) == [] and state == before
    # Two hits of one record for one key (two new terms) are told apart by their rank.
    second = hit(offset=5).model_copy(update={"seq": 1})
    assert fired(apply_hit(r, state, second, T0))
    other_partition = hit(offset=1).model_copy(update={"position": "argus.social:3"})
    assert apply_hit(r, state, other_partition, T0) == []  # counted: the alert is open


def test_a_batch_of_hits_folds_like_its_hits_one_by_one() -> None:
    r = rule(type="frequency", count=2, window="1h", group_by="entity")
    batch = [hit(offset=o) for o in (3, 4, 5)]
    one_by_one: dict[str, Any] = {}
    decisions = [d for h in batch for d in apply_hit(r, one_by_one, h, T0)]
    state: dict[str, Any] = {}
    assert apply_hits(r, state, batch, T0) == decisions and len(fired(decisions)) == 1
    assert state == one_by_one
    assert apply_hits(r, state, batch, T0) is None  # the whole message replayed
    # A replayed input batch cut elsewhere: the hits already applied are skipped.
    later = apply_hits(r, state, [hit(offset=o) for o in (5, 6)], T0)
    assert later == [] and state["applied"]["argus.news:0"] == [6, 0]


def test_threshold_fires_per_event_respects_realert_and_resolves() -> None:
    feed = Feed(
        rule(type="threshold", field="sentiment.negative", gte=0.9, group_by="entity", realert="1h")
    )
    first = fired(feed(hit(value=0.95)))
    assert len(first) == 1 and first[0].alert.figures == {"value": 0.95, "threshold": 0.9}
    assert feed(hit(T0 + timedelta(minutes=10), value=0.97)) == []  # inside realert
    assert feed(hit(T0 + timedelta(minutes=20), matched=False, value=0.2)) == [
        Resolve(first[0].alert.alert_id)
    ]
    again = fired(feed(hit(T0 + timedelta(hours=2), value=0.99)))
    assert again and again[0].alert.alert_id != first[0].alert.alert_id


def test_frequency_counts_inside_the_window_only() -> None:
    feed = Feed(rule(type="frequency", count=3, window="1h", group_by="entity"))
    spread = [feed(hit(T0 + timedelta(hours=i), doc=f"n{i}")) for i in range(3)]
    assert not any(spread)  # 3 events, never 3 within an hour
    close = [feed(hit(T0 + timedelta(hours=5, minutes=i), doc=f"m{i}")) for i in range(3)]
    alert = fired(close[-1])[0].alert
    assert alert.figures["count"] == 3 and alert.evidence == ["m2", "m1", "m0"]
    assert alert.window_end == T0 + timedelta(hours=5, minutes=2)
    later = feed(hit(T0 + timedelta(hours=9), doc="x"))
    assert later == [Resolve(alert.alert_id)]  # the window moved on: the condition cleared


def test_surge_needs_the_ratio_and_the_minimum() -> None:
    surge = rule(
        type="surge",
        match={"sentiment": "negative"},
        group_by="entity",
        measure="count",
        window="1h",
        baseline="10h",
        ratio=3,
        min_count=3,
    )
    feed = Feed(surge)
    # Baseline: one negative event an hour for ten hours (a rate of 1 per window).
    for i in range(10):
        assert feed(hit(T0 + timedelta(hours=i, minutes=30), doc=f"b{i}")) == []
    burst = [feed(hit(T0 + timedelta(hours=10, minutes=40 + 5 * k), doc=f"s{k}")) for k in range(3)]
    assert not any(burst[:2])  # 2 in the hour: under 3x the baseline and under min_count
    alert = fired(burst[2])[0].alert
    assert alert.figures["matching"] == 3 and alert.figures["ratio"] == 3.0
    assert alert.evidence == ["s2", "s1", "s0"]

    quiet = Feed(surge)  # 2 of 3 is not a surge
    assert not any(quiet(hit(T0 + timedelta(minutes=k), doc=f"q{k}")) for k in range(2))


def test_surge_by_share_compares_shares() -> None:
    feed = Feed(
        rule(
            type="surge",
            match={"sentiment": "negative"},
            measure="share",
            window="1h",
            baseline="5h",
            ratio=2,
            min_count=2,
            min_baseline=4,
        )
    )
    for i in range(5):  # baseline share 0.2
        for k, neg in enumerate([True, False, False, False, False]):
            feed(hit(T0 + timedelta(hours=i, minutes=k), matched=neg, doc=f"b{i}{k}"))
    out = [
        feed(hit(T0 + timedelta(hours=6, minutes=k), matched=k < 2, doc=f"s{k}")) for k in range(3)
    ]
    alert = fired(out[1])[0].alert  # 2 of 2 negative: share 1.0 vs 0.2
    assert alert.figures["current"] == 1.0 and alert.figures["baseline"] == 0.2


def test_new_term_learns_then_fires_once_per_term() -> None:
    feed = Feed(rule(type="new_term", field="record.assignee", learn="30d", group_by="cpc_class"))
    g = {"cpc_class": "H01M"}
    assert feed(hit(T0, term="Acme", group=g)) == []
    assert feed(hit(T0 + timedelta(days=10), term="Beta", group=g)) == []  # still learning
    assert feed(hit(T0 + timedelta(days=40), term="Acme", group=g)) == []  # known
    new = fired(feed(hit(T0 + timedelta(days=41), term="Gamma", group=g, doc="p9")))
    assert len(new) == 1 and "'Gamma'" in new[0].alert.summary and new[0].alert.evidence == ["p9"]
    assert feed(hit(T0 + timedelta(days=42), term="Gamma", group=g)) == []


def test_flatline_fires_on_silence_and_resolves_on_the_next_event() -> None:
    r = rule(type="flatline", window="30s", group_by="source")
    state: dict[str, Any] = {}
    g = {"source": "news"}
    # Arrival in Kafka counts, not processing: a backlog read later is not a silence.
    apply_hit(r, state, hit(group=g, offset=1, arrived=T0), T0 + timedelta(minutes=5))
    assert flatline_due(r, state, g, T0 + timedelta(seconds=20)) is None
    alert = flatline_due(r, state, g, T0 + timedelta(seconds=45))
    assert alert is not None and alert.figures["silent_seconds"] == 45
    assert flatline_due(r, state, g, T0 + timedelta(seconds=90)).alert_id == alert.alert_id  # type: ignore[union-attr]
    back = apply_hit(r, state, hit(group=g, offset=2), T0 + timedelta(minutes=2))
    assert back == [Resolve(alert.alert_id)]


def test_alert_ids_are_the_same_on_a_replay() -> None:
    r = rule(type="frequency", count=2, window="1h", group_by="entity")
    ids = []
    for _ in range(2):
        feed = Feed(r)
        feed(hit(doc="a"))
        ids.append(fired(feed(hit(T0 + timedelta(minutes=1), doc="b")))[0].alert.alert_id)
    assert ids[0] == ids[1] and ids[0].startswith("r:")


# The cause summary.


def test_representatives_share_the_most_words_with_the_others() -> None:
    texts = [
        "Cobalt Motors recalls sedans over brakes",
        "weather is nice today",
        "brakes recall hits Cobalt Motors sedans",
        "Cobalt Motors brakes recall widens",
    ]
    assert representatives(texts, k=4) == [texts[2], texts[0], texts[3], texts[1]]
    assert representatives(texts[:1] * 3) == texts[:1]  # repeats count once
    assert representatives([]) == []


def test_top_terms_count_documents_not_repeats() -> None:
    texts = ["Recall recall recall of brakes", "the brakes failed", "brakes and recall"]
    assert top_terms(texts, k=2) == ["brakes", "recall"]


def test_a_batch_sends_one_message_per_key_and_one_flatline_hit() -> None:
    flat = rule(type="flatline", window="1m", group_by="source")
    freq = rule(name="f", type="frequency", count=9, window="1h", group_by="source")
    events = [scored_event(f"n{i}") for i in range(3)] + [scored_event("s", source="social")]
    by_key = batch_hits([flat, freq], events)
    assert {k: [h.doc_id for h in hits] for k, hits in by_key.items()} == {
        b"r\x1fsource=news": ["news:n2"],  # the last arrival of the news key
        b"f\x1fsource=news": ["news:n0", "news:n1", "news:n2"],  # counting rules see all
        b"r\x1fsource=social": ["social:s"],
        b"f\x1fsource=social": ["social:s"],
    }
    assert all(hit_key(h) == k for k, hits in by_key.items() for h in hits)


def test_hit_messages_are_rule_hits_split_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.contracts.schemas import RuleHits
    from streams.rules import hits as module

    many = [hit(offset=o) for o in range(10)]
    size = len(many[0].model_dump_json()) + 1
    monkeypatch.setattr(module, "MESSAGE_BYTES", 4 * size)
    messages = list(module.hit_messages({b"k": many, b"j": many[:1]}))
    read = [(k, RuleHits.model_validate_json(v).hits) for k, v in messages]
    assert [(k, len(h)) for k, h in read] == [(b"k", 4), (b"k", 4), (b"k", 2), (b"j", 1)]
    assert [h for k, hs in read if k == b"k" for h in hs] == many  # in order, none lost
    assert all(len(v) <= 4 * size + 12 for _, v in messages)


def test_rules_read_other_heads_by_name() -> None:
    from streams.contracts.schemas import HeadScore

    r = rule(type="threshold", field="head.risk.score", gte=0.5, filter={"head.risk": "high"})
    e = scored_event()
    e.scores.heads.append(HeadScore(name="risk", label="high", score=0.7, version="risk-head@1"))
    assert [(h.matched, h.value) for h in rule_hits(r, e)] == [(True, 0.7)]
    assert rule_hits(r, scored_event()) == []  # no such head: the filter fails


def test_top_terms_segment_chinese_text() -> None:
    texts = [
        "伏特瑞斯能源股价暴跌，投资者担忧",
        "股价暴跌之后 Voltaris shares fell",
        "我们认为股价会涨",
    ]
    assert top_terms(texts, 3) == ["股价", "暴跌", "fell"]  # 我们 / 认为: function words


def test_none_of_is_an_allow_list() -> None:
    m = TypeAdapter(Matcher).validate_python({"none_of": ["our-agency", "partner"]})
    assert m.test("someone") and m.test(None)  # a missing field passes
    assert not m.test("our-agency") and not m.test(["a", "partner"])
    assert m.test(["a", "b"])


def test_the_shipped_infringement_rule_skips_authorised_matches() -> None:
    rule = load_rule(Path(__file__).resolve().parents[2] / "rules" / "portfolio-infringement.yaml")
    event = scored_event(sims=(0.99,))
    event.scores.similarity[0].infringement_score = 99.0
    assert rule_hits(rule, event)
    event.scores.similarity[0].authorised = "licensee"
    assert not rule_hits(rule, event)


def test_the_shipped_litigation_rule_fires_once_per_watched_case() -> None:
    rule = load_rule(REPO / "rules" / "watched-litigation.yaml")
    event = scored_event()
    sentence = "Tidewater Bank sued Voltaris Energy over a patent."

    def relation(subject: str, name: str, obj: str, watched: bool) -> Relation:
        return Relation(
            subject=subject,
            relation=name,
            object=obj,
            score=0.9,
            sentence=sentence,
            watched=watched,
        )

    event.scores.relations = [
        relation("Tidewater Bank", "litigation", "Voltaris Energy", True),
        relation("Tidewater Bank", "partnership", "Voltaris Energy", True),
        relation("Kelmont Alloys", "litigation", "Brisk Tools", False),  # nobody watched
    ]
    [found] = rule_hits(rule, event)
    assert found.group == {
        "relation.subject": "Tidewater Bank",
        "relation.object": "Voltaris Energy",
    }
    assert found.relation is not None and found.relation.sentence == sentence
    [fire] = apply_hit(rule, {}, found, T0)
    assert isinstance(fire, Fire)
    assert fire.alert.relation == found.relation
    assert "Tidewater Bank -litigation-> Voltaris Energy" in fire.alert.summary
    assert rule_hits(rule, scored_event()) == []  # no relation: nothing to see
