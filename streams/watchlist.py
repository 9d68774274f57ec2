"""The watch list: companies, brands and tickers that events are tagged with before scoring.

Names and aliases match case-insensitively on word boundaries; tickers match as written
in capitals ("VLTR", "$VLTR"), so a ticker that is also a word ("NOW") is not tagged
every time the word appears in lower case. Chinese and Japanese write words without spaces:
a CJK character next to a name is no word boundary to ask for ("宁德时代股价" holds
"宁德时代", "Voltaris的" holds "Voltaris"), nor is a Latin letter next to a name written in
CJK ("量子硅业CEO" holds "量子硅业").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.scripts import HAN, HANGUL, KANA
from streams.contracts.yaml_files import load_yaml


class Entity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="The name events are tagged with.")
    kind: Literal["company", "brand", "product", "person", "organisation"] = "company"
    ticker: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9.]{0,9}$")
    aliases: list[str] = Field(default_factory=list)


class Watchlist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: list[Entity] = Field(default_factory=list)

    def tagger(self) -> Tagger:
        return Tagger(self.entities)


class Tagger:
    """Finds the watch-list entities a text mentions, in one regex pass per kind of name:
    Latin-script names (any case), names written with CJK, tickers (in capitals)."""

    def __init__(self, entities: list[Entity]) -> None:
        self._names: dict[str, str] = {}
        self._tickers: dict[str, str] = {}
        for e in entities:
            for alias in (e.name, *e.aliases):
                self._names[alias.casefold()] = e.name
            if e.ticker:
                self._tickers[e.ticker] = e.name
        cjk = {t for t in self._names if _CJK.search(t)}
        latin = self._names.keys() - cjk
        # Names are matched in the casefolded text, case-sensitively: half the time of a
        # case-insensitive regex on the text. A text whose casefold is longer ("ß" -> "ss")
        # is matched as written, ignoring case, so that spans stay its own. Each pair:
        # (casefolded, as written).
        self._latin = (_alternation(latin, 0), _alternation(latin, re.IGNORECASE))
        self._cjk = (
            _alternation(cjk, 0, boundaries=False),
            _alternation(cjk, re.IGNORECASE, boundaries=False),
        )
        self._symbols = _ticker_pattern(self._tickers)

    def __len__(self) -> int:
        return len(set(self._names.values()))

    def tag(self, text: str) -> list[str]:
        return sorted({name for _, _, name in self.mentions(text)})

    def mentions(self, text: str) -> list[tuple[int, int, str]]:
        """Each mention: (start, end, the entity's name), in text order."""
        folded = text.casefold()
        as_folded = len(folded) == len(text)
        # Searched after a space: a name at the very start has a separator before it too
        # (`_alternation`); group 1 is the mention, one character later than in `text`.
        searched = " " + (folded if as_folded else text)
        # A name written with CJK needs a character beyond ASCII: most texts skip that scan
        # (a quarter of the tagging time, measured on the sample records).
        kinds = [(self._latin, _separated)]
        if not text.isascii():
            kinds.append((self._cjk, re.Pattern.finditer))
        found = [
            (m.start(1) - 1, m.end(1) - 1, self._name_of(text[m.start(1) - 1 : m.end(1) - 1]))
            for pair, matches in kinds
            if (names := pair[0 if as_folded else 1]) is not None
            for m in matches(names, searched)
        ]
        if self._symbols:
            found += [
                (*m.span(), self._tickers[m.group().removeprefix("$")])
                for m in self._symbols.finditer(text)
            ]
        return sorted(found)

    def _name_of(self, matched: str) -> str:
        # Case-insensitive matching and casefold() disagree on a few letters ("İ"), so a
        # match may miss the dictionary: find its alias the way the regex did.
        name = self._names.get(matched.casefold())
        if name is not None:
            return name
        return next(
            entity
            for alias, entity in self._names.items()
            if re.fullmatch(re.escape(alias), matched, re.IGNORECASE)
        )


# A word character that asks for a boundary: any but CJK ideographs, kana and hangul.
_WORD = rf"[^\W{KANA}{HAN}{HANGUL}]"
# What may come before a name: any other character ("$" is vetoed apart).
_SEPARATOR = rf"[\W{KANA}{HAN}{HANGUL}]"
_CJK = re.compile(f"[{KANA}{HAN}{HANGUL}]")


def _alternation(
    terms: Iterable[str], flags: int, *, boundaries: bool = True
) -> re.Pattern[str] | None:
    """Group 1: the mention. `boundaries`: a word character or a "$" before, or a word
    character after, vetoes a match; the text is then searched with a separator put before
    it (`Tagger.mentions`). Names written with CJK need none: "量子硅业CEO" holds "量子硅业"
    (and a CJK character is no word boundary to ask for: "宁德时代股价" holds "宁德时代")."""
    words = sorted(set(terms))
    if not words:
        return None
    # The names as a prefix tree: where names share a start, one test serves them all.
    name = _trie(words)
    if not boundaries:
        return re.compile(f"({name})", flags)
    # A match starts at the separator before the name, not at the name: re's search then
    # skips in C to the next such character (a space, a punctuation mark) rather than
    # trying a lookbehind at every letter of the text (names start with most letters).
    return re.compile(rf"{_SEPARATOR}(?<!\$)({name})(?!{_WORD})", flags)


def _separated(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)` for a pattern whose match starts at the separator before the
    mention: the next search starts at the mention's last character, which may be the next
    mention's separator ("Yahoo!.NET" holds "Yahoo!" and ".NET")."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        pos = m.end() - 1


def _ticker_pattern(tickers: Iterable[str]) -> re.Pattern[str] | None:
    """Tickers as written, a "$" before them or not ("$VLTR"), on word boundaries.

    Capitals are rare in running text: the search skips in C to the next capital or "$"
    that can start one (each alternative starts with its character), and only there looks
    behind for a boundary."""
    words = sorted({form for t in tickers for form in (t, f"${t}")})
    if not words:
        return None
    behind = rf"(?<!\$.)(?<!{_WORD}.)"  # looks at the character before the first one
    return re.compile(rf"{_trie(words, behind)}(?!{_WORD})")


def _trie(words: list[str], after_first: str = "") -> str:
    """A regex matching exactly `words`, as a prefix tree whose optional tails are greedy:
    where names share a start the longest is tried first ("Voltaris Energy" over "Voltaris"),
    and a shorter one only if the longer one's boundary fails. `after_first`: put after
    each first character."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _branches(root, after_first)


def _branches(node: dict[str, dict], after: str = "") -> str:
    alternatives = [
        re.escape(ch) + after + _branches(rest) for ch, rest in sorted(node.items()) if ch
    ]
    if not alternatives:
        return ""
    group = alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"
    if "" not in node:
        return group
    return f"(?:{group})?" if len(alternatives) == 1 else f"{group}?"


def load_watchlist(path: Path | None) -> Tagger:
    """The tagger for `path`; no file configured or present means no tagging."""
    if path is None or not path.exists():
        return Tagger([])
    return load_yaml(path, Watchlist).tagger()
