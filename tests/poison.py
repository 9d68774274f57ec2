"""A corpus of bad (and oddly good) records, generated: what producers get wrong.

Each case says where the record must end: "dlq" (with a reason containing `reason`) or
"accepted" (indexed, after the normalisation `reason` names; see docs/schemas.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from streams.contracts.schemas import Source


@dataclass(frozen=True)
class Case:
    name: str
    source: Source
    value: bytes
    expect: Literal["dlq", "accepted"]
    reason: str
    key: bytes | None = None


def _news(i: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"poison-{i:03d}",
        "url": f"https://example.com/p/{i}",
        "source": "example.com",
        "title": f"the company said record profit {i}",
        "body": "shares of the company",
        "published_at": "2026-11-01T10:00:00Z",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def _post(i: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"poison-post-{i:03d}",
        "platform": "mastodon",
        "author": "@a",
        "text": "shares of the drone company",
        "created_at": "2026-11-02T10:00:00Z",
    }
    base.update(changes)
    return base


def _j(d: Any) -> bytes:
    return json.dumps(d).encode()


def nested(depth: int) -> bytes:
    return b'{"id": "deep", "tags": ' + b"[" * depth + b"]" * depth + b"}"


def corpus() -> list[Case]:
    n = iter(range(1, 1000))
    c: list[Case] = [
        Case("not JSON", "news", b"not json at all", "dlq", "not JSON"),
        Case("truncated JSON", "news", b'{"id": "x", "title": ', "dlq", "not JSON"),
        Case("JSON array", "news", b"[1, 2, 3]", "dlq", "got list"),
        Case("JSON string", "news", b'"just text"', "dlq", "got str"),
        Case("JSON number", "news", b"42", "dlq", "got int"),
        Case("JSON null", "news", b"null", "dlq", "got NoneType"),
        Case("empty value", "news", b"", "dlq", "empty record"),
        Case("whitespace only", "news", b"  \n\t ", "dlq", "empty record"),
        Case("missing fields", "news", _j({"id": "x"}), "dlq", "Field required"),
        Case("extra field", "news", _j(_news(next(n), unexpected=1)), "dlq", "Extra inputs"),
        Case("title is a number", "news", _j(_news(next(n), title=123)), "dlq", "title"),
        Case(
            "date is a list",
            "news",
            _j(_news(next(n), published_at=["2026"])),
            "dlq",
            "published_at",
        ),
        Case("empty title", "news", _j(_news(next(n), title="")), "dlq", "title"),
        Case("blank title", "news", _j(_news(next(n), title="   ")), "dlq", "title"),
        Case("5 MB body", "news", _j(_news(next(n), body="x" * 5_000_000)), "dlq", "over the"),
        Case("invalid UTF-8", "news", b'{"id": "\xff\xfe", "title": "x"}', "dlq", "not UTF-8"),
        Case("raw control character", "news", b'{"id": "a\x01b"}', "dlq", "not JSON"),
        Case(
            "escaped control character",
            "news",
            _j(_news(next(n), title="bell \u0007 in title")),
            "accepted",
            "kept as sent",
        ),
        Case(
            "NUL in body", "news", _j(_news(next(n), body="a\u0000b")), "accepted", "kept as sent"
        ),
        Case("nested 100k deep", "news", nested(100_000), "dlq", "too deep"),
        Case("nested 50 deep", "news", nested(50), "dlq", "tags"),
        Case(
            "date without zone",
            "news",
            _j(_news(next(n), published_at="2026-11-01T10:00:00")),
            "accepted",
            "taken as UTC",
        ),
        Case(
            "date at +14:00",
            "news",
            _j(_news(next(n), published_at="2026-11-01T10:00:00+14:00")),
            "accepted",
            "to UTC",
        ),
        Case(
            "date as epoch seconds",
            "news",
            _j(_news(next(n), published_at=1793527200)),
            "accepted",
            "epoch",
        ),
        Case(
            "date only",
            "news",
            _j(_news(next(n), published_at="2026-11-01")),
            "accepted",
            "midnight UTC",
        ),
        Case(
            "US date format",
            "news",
            _j(_news(next(n), published_at="11/01/2026")),
            "dlq",
            "published_at",
        ),
        Case(
            "date in words",
            "news",
            _j(_news(next(n), published_at="yesterday")),
            "dlq",
            "published_at",
        ),
        Case(
            "negative count", "social", _j(_post(next(n), engagement={"likes": -5})), "dlq", "likes"
        ),
        Case(
            "huge count", "social", _j(_post(next(n), engagement={"likes": 10**30})), "dlq", "likes"
        ),
        Case(
            "fractional count",
            "social",
            _j(_post(next(n), engagement={"likes": 3.5})),
            "dlq",
            "likes",
        ),
        Case(
            "whole float count",
            "social",
            _j(_post(next(n), engagement={"likes": 3.0})),
            "accepted",
            "3.0 -> 3",
        ),
        Case("key differs from id", "news", _j(_news(next(n))), "dlq", "does not match", b"other"),
        Case("social post on news", "news", _j(_post(next(n))), "dlq", "not a valid news record"),
        Case("news on social", "social", _j(_news(next(n))), "dlq", "not a valid social record"),
        Case("id too long", "news", _j(_news(next(n), id="x" * 1000)), "dlq", "id"),
        Case("blank id", "news", _j(_news(next(n), id="   ")), "dlq", "id"),
        Case("bool as language", "news", _j(_news(next(n), language=True)), "dlq", "language"),
        Case(
            "claims not a list",
            "patents",
            _j(
                {
                    "publication_number": "US-X",
                    "title": "t",
                    "claims": "one",
                    "filing_date": "2025-01-01",
                    "publication_date": "2026-01-01",
                }
            ),
            "dlq",
            "claims",
        ),
        Case(
            "byte-order mark",
            "news",
            b"\xef\xbb\xbf" + _j(_news(next(n))),
            "accepted",
            "BOM dropped",
        ),
        Case(
            "emoji and CJK",
            "news",
            _j(_news(next(n), title="特許 侵害 🚀 record profit")),
            "accepted",
            "kept as sent",
        ),
    ]
    dup = _news(900)
    c.append(Case("duplicate id, first", "news", _j(dup), "accepted", "first version wins"))
    c.append(
        Case(
            "duplicate id, different content",
            "news",
            _j({**dup, "title": "a different title"}),
            "accepted",
            "409: already written",
        )
    )
    return c
