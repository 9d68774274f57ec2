"""Bytes -> validated record, or a reason a person understands; a batch's records -> the valid
ones (masked where their source asks) and the dead letters. Pure, no I/O."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from faust.types import EventT
from pydantic import ValidationError

from streams.contracts.schemas import (
    SCHEMAS,
    DeadLetter,
    InputRecord,
    Source,
    describe_validation_error,
)
from streams.dead_letters import dead_letter
from streams.masking import mask_record

# The header of the placeholder records that stand for a batch the consumer could not
# decode (streams/faust_shims.py, `skip_undecodable_batches`): its value is the reason.
UNDECODABLE_HEADER = "argus-undecodable"

Headers = Mapping[str, bytes | None] | Iterable[tuple[str, bytes | None]]


@dataclass(frozen=True, slots=True)
class Invalid:
    reason: str


def undecodable_reason(headers: Headers | None) -> str | None:
    """Why the record's batch could not be decoded, if the record stands for one."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name == UNDECODABLE_HEADER:
            return (value or b"").decode("utf-8", errors="replace") or "undecodable batch"
    return None


def validate_record(
    source: Source,
    value: bytes | None,
    key: bytes | None,
    max_bytes: int,
    headers: Headers | None = None,
) -> InputRecord | Invalid:
    undecodable = undecodable_reason(headers)
    if undecodable is not None:
        return Invalid(undecodable)
    if value is None or not value.strip():
        return Invalid("empty record")
    if len(value) > max_bytes:
        return Invalid(f"record is {len(value)} bytes, over the {max_bytes}-byte limit")
    try:
        # utf-8-sig: a leading byte-order mark is dropped, not a reason to reject.
        text = value.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Invalid(f"not UTF-8: {e.reason} at byte {e.start}")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        return Invalid(
            f"not JSON: {e}" if isinstance(e, json.JSONDecodeError) else "not JSON: too deep"
        )
    if not isinstance(data, dict):
        return Invalid(f"expected a JSON object, got {type(data).__name__}")
    try:
        record = SCHEMAS[source].model_validate(data)
    except ValidationError as e:
        return Invalid(f"not a valid {source} record: {describe_validation_error(e)}")
    if key is not None:
        key_text = key.decode("utf-8", errors="replace")
        if key_text != record.record_id:
            return Invalid(
                f"message key {key_text!r} does not match the record id {record.record_id!r}"
            )
    return record


def validate_batch(
    source: Source, events: Sequence[EventT], max_bytes: int, *, mask: bool
) -> tuple[list[tuple[EventT, InputRecord]], list[DeadLetter]]:
    """The valid records with their events, and the dead letters of the others, each in input
    order. `mask` (the source is in ARGUS_MASK_PII): valid records and letters are masked."""
    valid: list[tuple[EventT, InputRecord]] = []
    letters: list[DeadLetter] = []
    for ev in events:
        msg = ev.message
        checked = validate_record(source, msg.value, msg.key, max_bytes, msg.headers)
        if isinstance(checked, Invalid):
            letters.append(dead_letter(ev, checked.reason, "validation", mask=mask))
        else:
            valid.append((ev, mask_record(checked) if mask else checked))
    return valid, letters
