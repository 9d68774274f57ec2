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
from collections.abc import Iterable
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
        self._symbols = _alternation(self._tickers.keys(), 0, dollar=True)

    def __len__(self) -> int:
        return len(set(self._names.values()))

    def tag(self, text: str) -> list[str]:
        return sorted({name for _, _, name in self.mentions(text)})

    def mentions(self, text: str) -> list[tuple[int, int, str]]:
        """Each mention: (start, end, the entity's name), in text order."""
        folded = text.casefold()
        as_folded = len(folded) == len(text)
        searched = folded if as_folded else text
        # A name written with CJK needs a character beyond ASCII: most texts skip that scan
        # (a quarter of the tagging time, measured on the sample records).
        kinds = (self._latin,) if text.isascii() else (self._latin, self._cjk)
        found = [
            (*m.span(1), self._name_of(text[m.start(1) : m.end(1)]))
            for pair in kinds
            if (names := pair[0 if as_folded else 1]) is not None
            for m in names.finditer(searched)
        ]
        if self._symbols:
            found += [(*m.span(), self._tickers[m.group(1)]) for m in self._symbols.finditer(text)]
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
_CJK = re.compile(f"[{KANA}{HAN}{HANGUL}]")


def _alternation(
    terms: Iterable[str], flags: int, *, dollar: bool = False, boundaries: bool = True
) -> re.Pattern[str] | None:
    """`dollar`: a "$" may come first ("$VLTR"). `boundaries`: a word character on either
    side vetoes a match. Names written with CJK need none: "量子硅业CEO" holds "量子硅业"
    (and a CJK character is no word boundary to ask for: "宁德时代股价" holds "宁德时代")."""
    words = sorted(set(terms))
    if not words:
        return None
    # The names as a prefix tree, behind a lookahead for the characters they can start with:
    # most positions of a text then fail at that one test, before the lookbehinds and
    # without trying every name there.
    starts = "".join(sorted({re.escape(w[0]) for w in words} | ({r"\$"} if dollar else set())))
    name = f"({_trie(words)})"
    if not boundaries:
        return re.compile(f"(?=[{starts}]){name}", flags)
    before = rf"(?<![$])(?<!{_WORD})" + (r"\$?" if dollar else "")
    return re.compile(rf"(?=[{starts}]){before}{name}(?!{_WORD})", flags)


def _trie(words: list[str]) -> str:
    """A regex matching exactly `words`, as a prefix tree whose optional tails are greedy:
    where names share a start the longest is tried first ("Voltaris Energy" over "Voltaris"),
    and a shorter one only if the longer one's boundary fails."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _branches(root)


def _branches(node: dict[str, dict]) -> str:
    alternatives = [re.escape(ch) + _branches(rest) for ch, rest in sorted(node.items()) if ch]
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
