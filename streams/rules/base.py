"""What every rule type shares: the common config, the state, and firing an alert.

A rule type is a subclass of BaseRule that adds its own config fields and fills in the
hooks: `outcomes` (what one event view is to the rule), `update` (what a hit does to a
key's state) and the class flags. The state is a JSON dict per rule and group key, kept in
a Faust table: its key names and shapes are a stored format.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from streams.contracts.schemas import Alert, RuleHit, RuleType, Severity
from streams.rules.matchers import Duration, Matchers

DEFAULT_GROUP_WINDOW = timedelta(minutes=10)
DEFAULT_GROUP_INTERVAL = timedelta(minutes=5)  # Alertmanager's default

State = dict[str, Any]


@dataclass(frozen=True)
class Fire:
    alert: Alert


@dataclass(frozen=True)
class Resolve:
    alert_id: str


Decision = Fire | Resolve


def group_key(group: dict[str, str]) -> str:
    return "|".join(f"{k}={v}" for k, v in group.items())


def alert_id(rule: str, group: dict[str, str], window: str) -> str:
    digest = hashlib.sha256(f"{rule}\x1f{group_key(group)}\x1f{window}".encode()).hexdigest()
    return f"{rule}:{digest[:32]}"


def to_ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def span_ms(d: timedelta) -> int:
    return max(1, int(d.total_seconds() * 1000))


def resolve_open(state: State) -> list[Decision]:
    open_id = state.pop("open", None)
    return [Resolve(open_id)] if open_id else []


def describe(group: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "all events"


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class BaseRule(BaseModel):
    """What every rule type shares: its config, and the hooks a type fills in."""

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

    if TYPE_CHECKING:
        # Each subclass declares its own Literal; not a field here, so that the fields of
        # each type keep their order (and the JSON schema its shape).
        type: RuleType

    # Whether a matching hit is evidence: its alerts name and show their events.
    evidence: ClassVar[bool] = True
    # Of a micro-batch's hits for one key, only the last matters (one message, not many).
    last_hit_only: ClassVar[bool] = False

    def outcomes(self, view: dict[str, Any]) -> list[dict[str, Any]]:
        """The hit fields (`matched`, `value`, `term`) one event view gives, one dict per hit;
        by default every view the filter passes is one matching hit."""
        return [{"matched": True}]

    @abstractmethod
    def update(self, state: State, hit: RuleHit, now: datetime) -> list[Decision]:
        """Fold `hit` into the key's `state`, in place (after the shared bookkeeping of
        streams.rules.state.apply_hit); return what to do."""

    def _may_fire(self, state: State, ts: int) -> bool:
        last = state.get("last_fired")
        return state.get("open") is None and (last is None or ts - last >= span_ms(self.realert))

    def _fire(
        self,
        state: State,
        hit: RuleHit,
        now: datetime,
        *,
        window: str,
        figures: dict[str, float],
        summary: str,
        start: int | None = None,
        track: bool = True,
    ) -> Fire:
        ts = to_ms(hit.timestamp)
        evidence = [r for r in state.get("recent", []) if start is None or r[1] >= start] or [
            [hit.doc_id, ts]
        ]
        aid = alert_id(self.name, hit.group, window)
        if track:
            state["open"] = aid
        state["last_fired"] = ts
        return Fire(
            Alert(
                alert_id=aid,
                rule=self.name,
                rule_type=self.type,
                severity=self.severity,
                timestamp=hit.timestamp,
                fired_at=now,
                group=hit.group,
                window_start=to_dt(start) if start is not None else hit.timestamp,
                window_end=to_dt(state["now"]),
                figures=figures,
                summary=summary,
                # Representatives and top terms are added from the evidence as indexed.
                evidence=[r[0] for r in evidence],
                source=hit.source,
                portfolio_item=hit.portfolio_item,
                relation=hit.relation,
                prior_art=hit.prior_art,
                notify=self.notify,
            )
        )
