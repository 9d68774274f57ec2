"""Optional masking of personal data, per source: in records' free text before scoring and
indexing, and in the bytes of their dead letters. One function, `mask_text`, does it."""

from __future__ import annotations

import json
import re

from streams.contracts.schemas import InputRecord

# U+FFFD stands in for bytes that were not UTF-8 (see `mask_bytes`): counted as part of an
# address, so "j\ufffdrg@ex\ufffdmple.de" (Latin-1 "jörg@exämple.de") is masked whole.
_ADDRESS_CHAR = r"[\w\ufffd-]"
# Bounded and possessive, so that masking takes time linear in the text's length: with an
# unbounded `[\w.+-]+@`, every position of a long word scanned to its end (160 KB of letters
# took minutes). A local part has at most 64 characters (RFC 5321): a longer run keeps its
# start, its last 64 characters are masked with the rest of the address.
# Order matters: an e-mail address contains an @handle-like part.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(rf"[\w.+\ufffd-]{{1,64}}+@{_ADDRESS_CHAR}++(?:\.{_ADDRESS_CHAR}++)+"),
        "[email]",
    ),
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


def mask_bytes(data: bytes) -> bytes:
    """Raw Kafka bytes (a dead letter's value or key) with `mask_text` applied: UTF-8 out,
    never a raw byte of the input that masking did not see.

    Bytes that are not UTF-8 are decoded with errors="replace", not "surrogateescape":
    surrogateescape would carry every undecodable byte back out unchanged, unseen by the
    patterns (a Latin-1 "jörg@exämple.de" would leave as it came). Each such byte becomes
    U+FFFD, which the patterns treat as part of an address. The letter is then no byte-exact
    copy of the record; it never is once masked.

    A JSON document is masked value by value, after parsing, like a record: in its raw text
    escapes hide what the patterns look for ("\\n+1 415 555 0134", "\\t@ann", "\\u0040"), and
    every string is masked, keys and ids too: what failed validation has no known fields.
    """
    text = data.decode("utf-8-sig", errors="replace")
    try:
        masked = json.dumps(_mask_json(json.loads(text)), ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON (or too deep): masked as text
        masked = mask_text(text)
    return masked.encode()


def _mask_json(value: object) -> object:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask_json(v) for v in value]
    if isinstance(value, dict):
        return {mask_text(k): _mask_json(v) for k, v in value.items()}
    return value
