"""Durations ('90s', '30m', '2h') and the field matchers that rules share."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """'90s', '30m', '2h', '7d', '1w', or seconds as a number."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    raise ValueError(f"expected a duration like 90s, 30m, 2h or 7d, got {value!r}")


def format_duration(value: timedelta) -> str:
    """The largest unit that divides it: 1d, 36h, 90s (for summaries people read)."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m", "s"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Scalar = str | float | bool


class Matcher(BaseModel):
    """One field test. In YAML: a scalar (equals), a list (any of), or a mapping of these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    equals: Scalar | None = None
    any_of: list[Scalar] | None = None
    prefix: list[str] | None = None
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None
    exists: bool | None = None
    # An allow list: passes unless the value (any element of a list) is among these; a
    # missing field passes.
    none_of: list[Scalar] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"any_of": value}
        if isinstance(value, dict):
            if isinstance(value.get("prefix"), str):
                return value | {"prefix": [value["prefix"]]}
            return value
        return {"equals": value}

    def test(self, value: Any) -> bool:
        """Whether a field's value passes; a list passes when any element does."""
        if self.exists is not None and (value is not None and value != []) != self.exists:
            return False
        if self.none_of is not None:
            values = value if isinstance(value, list) else [value]
            if any(v in self.none_of for v in values):
                return False
        if isinstance(value, list):
            return any(self._test_one(v) for v in value) if self._has_tests() else True
        return self._test_one(value)

    def _has_tests(self) -> bool:
        return any(
            v is not None
            for v in (self.equals, self.any_of, self.prefix, self.gte, self.gt, self.lte, self.lt)
        )

    def _test_one(self, value: Any) -> bool:
        if not self._has_tests():
            return True
        if value is None:
            return False
        if self.equals is not None and value != self.equals:
            return False
        if self.any_of is not None and value not in self.any_of:
            return False
        if self.prefix is not None and not (
            isinstance(value, str) and value.startswith(tuple(self.prefix))
        ):
            return False
        numeric = (self.gte, self.gt, self.lte, self.lt)
        if any(b is not None for b in numeric):
            if not isinstance(value, int | float) or isinstance(value, bool):
                return False
            if self.gte is not None and value < self.gte:
                return False
            if self.gt is not None and value <= self.gt:
                return False
            if self.lte is not None and value > self.lte:
                return False
            if self.lt is not None and value >= self.lt:
                return False
        return True


Matchers = dict[str, Matcher]
