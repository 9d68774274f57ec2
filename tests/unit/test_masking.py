from __future__ import annotations

import pytest

from streams.masking import mask_record, mask_text
from streams.schemas import PatentFiling, SocialPost
from streams.settings import load_settings


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
