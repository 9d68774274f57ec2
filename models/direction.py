"""Direction words read against what moves: English financial cues a sentence encoder blurs.

Mean-pooled sentence embeddings hardly tell "profit rose" from "profit fell". Here a
metric's direction is read against what it is: profit, sales or a rating going up is good
news, a loss, debt or costs going up bad, and "beat", "downgraded", "recall" say it outright.
Two uses, both measured in docs/models.md (`python -m bench.finance_sentiment`): a few
numbers appended to a sentiment head's input, and a verdict where the cues agree, nothing
negates them and the text talks money, which then decides the head's label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import torch

_UP = (
    r"(rose|rise[sn]?|rising|jump(ed|s)?|surg(ed|es|ing)|soar(ed|s|ing)?|climb(ed|s)?|gain(ed|s)?|"
    r"rall(ied|ies)|increas(ed|es)|gr[eo]w(n|s)?|doubl(ed|es)|tripl(ed|es)|boost(ed|s)?|"
    r"expand(ed|s)?|widen(ed|s)?|higher|up|advanc(ed|es)|rebound(ed|s)?|recover(ed|s)?|"
    r"improv(ed|es)|strengthen(ed|s)?|raised?|raises|lift(ed|s)?|hik(ed|es))"
)
_DOWN = (
    r"(fell|fall(s|en|ing)?|drop(ped|s)?|plung(ed|es)|plummet(ed|s)?|slump(ed|s)?|tumbl(ed|es)|"
    r"sank|sinks?|slid(es)?|declin(ed|es)|decreas(ed|es)|shr[au]nk|shrinks?|halv(ed|es)|cut(s)?|"
    r"slash(ed|es)|lower(ed|s)?|reduc(ed|es)|narrow(ed|s)?|weaken(ed|s)?|down|dip(ped|s)?|"
    r"retreat(ed|s)?|eas(ed|es)|contract(ed|s)?|trimm?(ed|s)?)"
)
# What is good news when it goes up, and what is bad news when it does.
_GOOD = (
    r"(profits?|earnings|revenues?|sales|income|margins?|shares|stock|dividends?|guidance|"
    r"outlook|forecasts?|orders|bookings|demand|deliveries|price target|rating|market share|"
    r"ebitda|eps|cash flow|growth|output|subscribers|users|customers|volume)"
)
_BAD = (
    r"(loss(es)?|debt|costs?|deficit|expenses|churn|defaults?|delinquenc\w+|impairments?|"
    r"write-?downs?|charges?|layoffs|unemployment|inventor(y|ies)|leverage|borrowing)"
)
_GOOD_NEWS = (
    r"(beat|beats|beating|topp?(ed|s)|exceed(ed|s)|surpass(ed|es)|outperform(ed|s)?|"
    r"upgrad(ed|es)|won|wins|approv(ed|al))"
)
_BAD_NEWS = (
    r"(miss(ed|es)?|disappoint\w*|underperform\w*|downgrad(ed|es)|warn(ed|s)|recall(ed|s)?|"
    r"lawsuit|sued|fin(ed|es)|probe|investigation|bankrupt\w*|default(ed|s)?|layoffs?|"
    r"halt(ed|s)?|suspend(ed|s)?|outage|breach|cyberattack|ransomware|fraud|resign(ed|s))"
)
_NEGATION = r"(not|no|never|without|\w+n't)"
_WORD_TAGS = {
    tag: re.compile(pattern)
    for tag, pattern in [
        ("up", _UP),
        ("down", _DOWN),
        ("good", _GOOD),
        ("bad", _BAD),
        ("good_news", _GOOD_NEWS),
        ("bad_news", _BAD_NEWS),
        ("negation", _NEGATION),
    ]
}
_PAIR_TAGS = {
    ("price", "target"): "good",
    ("market", "share"): "good",
    ("cash", "flow"): "good",
    ("fell", "short"): "bad_news",
    ("profit", "warning"): "bad_news",
    ("job", "cuts"): "bad_news",
    ("all-time", "high"): "good_news",
    **{("record", w): "good_news" for w in ("high", "profit", "profits", "revenue", "sales")},
    **{(w, "to"): "negation" for w in ("failed", "fails", "unable")},
    ("did", "not"): "negation",
}
# Phrases read on the text itself: expectations stated outright, and what is no news.
_PHRASES = {
    "neutral": re.compile(
        r"\b(in ?line with|matching|as expected|unchanged|reaffirm(ed|s)?|maintain(ed|s)?|"
        r"steady|flat|scheduled|routine|regular|on schedule|as planned|held at|kept)\b"
    ),
    "better": re.compile(
        r"\b(better|stronger|higher|more|faster|bigger) than (expected|forecast|analysts|"
        r"estimated|estimates|feared|the market)|\b(less|smaller|lower|fewer) than feared"
    ),
    "worse": re.compile(
        r"\b(worse|weaker|lower|less|slower|smaller) than (expected|forecast|analysts|"
        r"estimated|estimates|the market)|\b(more|bigger|larger|higher|deeper|wider) than feared"
    ),
}
_WORD = re.compile(r"[a-z0-9$%]+(?:['-][a-z0-9]+)*")
# A metric and a direction make one cue within this many words: "profit for the third
# quarter rose" (direction after the metric), "cut its full-year forecast" (before).
_AFTER, _BEFORE = 5, 4
# The encoder reads 256 tokens, about 1,200 characters of English: cues further on would
# describe text the head never saw.
_READ_CHARS = 2000

# Money talk: the rules decide only where it is (news, filings, posts about a stock), so
# "we won the game" stays the head's call (7,513 of 7,632 held-out tweets carry no cue).
FINANCE_CUE = re.compile(
    r"\b(shares?|stocks?|profits?|revenues?|earnings|investors?|dividends?|sales|"
    r"margins?|forecasts?|guidance|quarter(ly)?|analysts?|bonds?|valuation|losses|"
    r"downgraded?|upgraded?|bankrupt\w*|market value)\b",
    re.IGNORECASE,
)

# The name a head's card records for these cues (HeadSpec.text_features and .rules).
FEATURES = "finance-direction-v1"
CUES = (
    "good_up", "good_down", "bad_up", "bad_down", "good_news", "bad_news",
    "negated", "neutral", "better", "worse",
)  # fmt: skip
# Appended to two L2-normalised 384-wide halves: at weight 1 the head hardly reads them
# (5-fold CV on the written training set, 5 of these cues: macro-F1 0.805 at 1, 0.812 at 3).
WEIGHT = 3.0


@lru_cache(maxsize=65536)
def _tags(word: str) -> frozenset[str]:
    return frozenset(tag for tag, rx in _WORD_TAGS.items() if rx.fullmatch(word))


def cue_counts(text: str) -> dict[str, int]:
    """How often each of CUES occurs in the part of `text` the encoder reads."""
    text = text[:_READ_CHARS].lower().replace("\u2019", "'")
    words = _WORD.findall(text)
    tags = [set(_tags(w)) for w in words]
    for i, pair in enumerate(zip(words, words[1:], strict=False)):
        if pair in _PAIR_TAGS:
            tags[i].add(_PAIR_TAGS[pair])
    at = {tag: [i for i, t in enumerate(tags) if tag in t] for tag in _WORD_TAGS}

    def moving(what: str, direction: str) -> int:
        moves = at[direction]
        return sum(any(-_BEFORE <= m - i <= _AFTER and m != i for m in moves) for i in at[what])

    counts = {
        "good_up": moving("good", "up"),
        "good_down": moving("good", "down"),
        "bad_up": moving("bad", "up"),
        "bad_down": moving("bad", "down"),
        "good_news": len(at["good_news"]),
        "bad_news": len(at["bad_news"]),
        "negated": len(at["negation"]),
    }
    counts |= {name: len(rx.findall(text)) for name, rx in _PHRASES.items()}
    return counts


def direction_features(texts: Sequence[str]) -> torch.Tensor:
    """[n, len(CUES)]: each cue's count capped at 3, over 3 (negation: present or not)."""
    rows = []
    for text in texts:
        counts = cue_counts(text)
        counts["negated"] = min(counts["negated"], 1) * 3
        rows.append([min(counts[c], 3) / 3 for c in CUES])
    return WEIGHT * torch.tensor(rows, dtype=torch.float32).reshape(len(rows), len(CUES))


def direction_verdict(text: str) -> str | None:
    """positive or negative where the text talks money, only one kind of direction cue is
    found and nothing is negated (right on 0.92 and 0.89 of the rows of the two written
    training sets where it fires, 18 % and 16 % of them)."""
    if not FINANCE_CUE.search(text):
        return None
    c = cue_counts(text)
    good = c["good_up"] + c["bad_down"] + c["good_news"]
    bad = c["good_down"] + c["bad_up"] + c["bad_news"]
    if c["negated"] or bool(good) == bool(bad):
        return None
    return "positive" if good else "negative"


def decide_by_direction(
    probabilities: torch.Tensor, texts: Sequence[str], labels: Sequence[str]
) -> torch.Tensor:
    """Where `direction_verdict` has one, it decides the label: the row becomes the mean of
    the head's probabilities and certainty in that label (so it wins, and the score still
    says how sure the head was)."""
    out = probabilities.clone()
    for i, text in enumerate(texts):
        verdict = direction_verdict(text)
        if verdict is not None:
            certain = torch.zeros(len(labels), dtype=out.dtype)
            certain[labels.index(verdict)] = 1.0
            out[i] = (out[i] + certain) / 2
    return out
