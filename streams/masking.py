"""Optional masking of personal data in free text, per source, before scoring and indexing."""

from __future__ import annotations

import re

from streams.schemas import InputRecord

# Order matters: an e-mail address contains an @handle-like part.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,30}\b"), "[handle]"),
    (re.compile(r"(?<![\w+-])\+?\d[\d ().-]{6,}\d(?!\w)"), "[phone]"),
)


def mask_text(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_record(record: InputRecord) -> InputRecord:
    """The record with its free-text fields masked; ids, authors and dates untouched."""
    update: dict[str, object] = {}
    for name in record.FREE_TEXT:
        value = getattr(record, name)
        update[name] = (
            [mask_text(v) for v in value] if isinstance(value, list) else mask_text(value)
        )
    return record.model_copy(update=update)
