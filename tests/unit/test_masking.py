from __future__ import annotations

import json
import time

import pytest

from streams.contracts.schemas import PatentFiling, SocialPost
from streams.contracts.settings import load_settings
from streams.masking import mask_bytes, mask_record, mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to ann.lee+x@example.co.uk today", "write to [email] today"),
        ("thanks @ann_lee and @bob!", "thanks [handle] and [handle]!"),
        ("call +1 (415) 555-0134 now", "call [phone] now"),
        ("call 030 1234567", "call [phone]"),
        ("revenue rose 12% to 4,500 units in 2026", "revenue rose 12% to 4,500 units in 2026"),
        ("claim 1, US-2026-0123456-A1", "claim 1, US-2026-0123456-A1"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_only_free_text_is_masked() -> None:
    post = SocialPost(
        id="p1",
        platform="x",
        author="@ann",
        created_at="2026-01-01",
        text="mail me at ann@example.com or ping @ann",
    )
    masked = mask_record(post)
    assert masked.text == "mail me at [email] or ping [handle]"
    assert masked.author == "@ann" and masked.id == "p1"
    patent = PatentFiling(
        publication_number="US-1",
        title="t",
        claims=["1. reach me at a@b.io"],
        filing_date="2025-01-01",
        publication_date="2026-01-01",
    )
    assert mask_record(patent).claims == ["1. reach me at [email]"]


def test_mask_setting_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGUS_MASK_PII", '["social"]')
    assert load_settings().mask_pii == ["social"]


def test_masking_takes_linear_time_on_long_words() -> None:
    # Unbounded runs made every position of a long word scan to its end: minutes for this.
    text = "a" * 200_000 + " " + "x@" + "b" * 200_000 + " " + "a." * 100_000 + "@"
    started = time.perf_counter()
    assert mask_text(text) == text
    assert time.perf_counter() - started < 5
    long_local = "x" * 70 + "@example.com"
    assert mask_text(long_local) == "x" * 6 + "[email]"  # the address itself never stays


def test_mask_bytes_json_is_masked_value_by_value() -> None:
    raw = json.dumps(
        {"id": "@ann", "text": "call\n+1 415 555 0134, ping\t@bob, ann\u0040x.io", "n": 3},
        ensure_ascii=True,
    ).encode()
    # In the raw text the escapes hide these from the patterns ("\n+1…", "\t@bob").
    assert b"\\n+1 415" in raw and b"\\t@bob" in raw
    masked = json.loads(mask_bytes(raw))
    assert masked == {"id": "[handle]", "text": "call\n[phone], ping\t[handle], [email]", "n": 3}


def test_mask_bytes_text_and_undecodable_bytes() -> None:
    assert mask_bytes(b"not json: ann@example.com, +1 415 555 0134") == (
        b"not json: [email], [phone]"
    )
    # Latin-1, not UTF-8: nothing leaves undecoded, and the address is masked whole.
    latin1 = "mail jörg@exämple.de \xff".encode("latin-1")
    assert mask_bytes(latin1) == "mail [email] \ufffd".encode()
    assert b"\xff" not in mask_bytes(b"\xff\xfe@ann")
    mask_bytes(bytes(range(256)) * 4).decode("utf-8")  # always valid UTF-8
    deep = b"[" * 100_000 + b"ann@example.com" + b"]" * 100_000
    assert b"ann@" not in mask_bytes(deep)  # too deep to parse: masked as text
