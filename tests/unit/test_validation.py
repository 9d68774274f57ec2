"""streams/validation.py: what the headers of a record change."""

from __future__ import annotations

import json

from streams.contracts.schemas import NewsArticle
from streams.validation import UNDECODABLE_HEADER, Invalid, validate_record

GOOD = json.dumps(
    {
        "id": "n-1",
        "url": "https://example.com/1",
        "source": "example.com",
        "title": "the company said record profit",
        "published_at": "2026-11-01T10:00:00Z",
    }
).encode()
WHY = "batch of offsets 3..6 compressed with codec zstd could not be decoded: no zstd"


def test_a_placeholder_for_an_undecodable_batch_is_invalid_with_its_reason() -> None:
    for value in (b"\x00\x00\x00\x00\x00\x00\x00\x03raw batch", b"", None, GOOD):
        checked = validate_record("news", value, None, 100, [(UNDECODABLE_HEADER, WHY.encode())])
        assert checked == Invalid(WHY)  # before the size, emptiness or JSON checks
    assert validate_record("news", b"", None, 100, {UNDECODABLE_HEADER: b""}) == Invalid(
        "undecodable batch"
    )


def test_other_headers_change_nothing() -> None:
    headers = [("traceparent", b"00-4bf9-01"), ("empty", None), ("codec", b"zstd")]
    assert isinstance(validate_record("news", GOOD, b"n-1", 1 << 20, headers), NewsArticle)
    assert isinstance(validate_record("news", GOOD, b"n-1", 1 << 20, ()), NewsArticle)
    bad = validate_record("news", b"not json", None, 1 << 20, headers)
    assert isinstance(bad, Invalid) and bad.reason.startswith("not JSON")
