"""The rule language: one pydantic model per rule type, and the field matchers they share.

A rule file is YAML (see docs/alerting.md). `filter` selects the events a rule looks at;
`group_by` splits them into independent keys (an entity, a portfolio item, a source); the
type decides when a key fires. Windows are event time, except `flatline`, which watches
the wall clock because silence has no event time.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from streams.contracts.schemas import Severity

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
DEFAULT_GROUP_WINDOW = timedelta(minutes=10)
DEFAULT_GROUP_INTERVAL = timedelta(minutes=5)  # Alertmanager's default
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


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")
    description: str = ""
    enabled: bool = True
    severity: Severity = "medium"
    filter: Matchers = Field(
        default_factory=dict, description="Field matchers: the events this rule looks at."
    )
    group_by: Annotated[list[str], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Fields that split events into independent keys."
    )
    realert: Duration = Field(
        timedelta(hours=1), description="No second alert for the same key within this."
    )
    notify: Annotated[list[str], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Channels: webhook, slack, pagerduty, email."
    )
    group_window: Duration = Field(
        DEFAULT_GROUP_WINDOW,
        description="Alerts of this rule and notification group within this window share "
        "one notification.",
    )
    group_interval: Duration = Field(
        DEFAULT_GROUP_INTERVAL,
        ge=timedelta(0),
        description="Alerts that join a group after its notification went out are sent as "
        "an update, at the earliest this long (wall clock) after the group's last delivery "
        "on the channel.",
    )
    notify_group_by: Annotated[list[str], BeforeValidator(_as_list)] | None = Field(
        None, description="Labels that group notifications; default: group_by."
    )

    @property
    def notification_labels(self) -> list[str]:
        return self.group_by if self.notify_group_by is None else self.notify_group_by

    def fields(self) -> set[str]:
        """Every field the rule reads, so events are expanded only as far as needed."""
        return set(self.filter) | set(self.group_by)


class ThresholdRule(_Rule):
    """Fires when one event's field passes `gte`/`lte` (e.g. similarity >= 0.82)."""

    type: Literal["threshold"]
    field: str
    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _bound(self) -> ThresholdRule:
        if self.gte is None and self.lte is None:
            raise ValueError("a threshold rule needs gte or lte")
        return self

    def passes(self, value: float) -> bool:
        return (self.gte is not None and value >= self.gte) or (
            self.lte is not None and value <= self.lte
        )

    def fields(self) -> set[str]:
        return super().fields() | {self.field}


class FrequencyRule(_Rule):
    """Fires when at least `count` matching events fall in `window`."""

    type: Literal["frequency"]
    match: Matchers = Field(default_factory=dict, description="What counts; default: all.")
    count: int = Field(ge=1)
    window: Duration

    def fields(self) -> set[str]:
        return super().fields() | set(self.match)


class SurgeRule(_Rule):
    """Fires when the matching count (or share) in `window` is `ratio` x its baseline rate.

    The baseline is the `baseline` period just before the window, scaled to the window's
    length. `min_count` keeps 2 of 3 from being a surge.
    """

    type: Literal["surge"]
    match: Matchers
    measure: Literal["count", "share"] = "share"
    window: Duration
    baseline: Duration
    ratio: float = Field(2.0, gt=1)
    min_count: int = Field(5, ge=1, description="Matching events the window needs at least.")
    min_baseline: int = Field(
        0, ge=0, description="Events (matching or not) the baseline needs at least."
    )

    def fields(self) -> set[str]:
        return super().fields() | set(self.match)


class NewTermRule(_Rule):
    """Fires on the first appearance of a value of `field` for a key, after `learn`.

    For `learn` after the first event a key sees, values are learned, not alerted on.
    """

    type: Literal["new_term"]
    field: str
    learn: Duration
    max_terms: int = Field(10_000, ge=1, description="Terms kept per key (oldest dropped).")

    def fields(self) -> set[str]:
        return super().fields() | {self.field}


class FlatlineRule(_Rule):
    """Fires when a key that was seen gets no event for longer than `window` (wall clock)."""

    type: Literal["flatline"]
    window: Duration


Rule = Annotated[
    ThresholdRule | FrequencyRule | SurgeRule | NewTermRule | FlatlineRule,
    Field(discriminator="type"),
]
