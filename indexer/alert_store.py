"""What alerting keeps in Elasticsearch: alerts and their lifecycle, silences, deliveries."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError
from pydantic import BaseModel, Field

from indexer.actions import ALERTS_INDEX_PREFIX, alerts_index
from streams.contracts.schemas import Alert, AlertStatus, RuleType

SILENCES_INDEX = "argus-silences"
DELIVERIES_INDEX_PREFIX = "argus-deliveries-"


async def store_alert(es: AsyncElasticsearch, alert: Alert) -> bool:
    """Create the alert's document; False when it already exists (a replay)."""
    try:
        await es.create(
            index=alerts_index(alert.rule_type), id=alert.alert_id, document=alert.to_document()
        )
    except ConflictError:
        return False
    return True


def _as_alert(hit: dict[str, Any]) -> Alert:
    doc = dict(hit["_source"])
    doc["timestamp"] = doc.pop("@timestamp")
    for extra in ("alert_id", "acknowledged_at", "acknowledged_by", "labels"):
        doc.pop(extra, None)
    return Alert(alert_id=hit["_id"], **doc)


async def find_alert(
    es: AsyncElasticsearch, alert_id: str, index: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(index, raw document) of an alert, or None.

    A real-time multi-get over the alert indices (or the one given): a search would miss an
    alert written less than a refresh interval ago.
    """
    indices = [index] if index else [alerts_index(t) for t in get_args(RuleType)]
    res = await es.mget(docs=[{"_index": i, "_id": alert_id} for i in indices])
    for doc in res["docs"]:
        if doc.get("found"):
            return doc["_index"], dict(doc)
    return None


async def get_alert(
    es: AsyncElasticsearch, alert_id: str, index: str | None = None
) -> Alert | None:
    found = await find_alert(es, alert_id, index)
    return _as_alert(found[1]) if found else None


async def set_status(
    es: AsyncElasticsearch,
    alert_id: str,
    status: AlertStatus,
    *,
    by: str | None = None,
    when: datetime | None = None,
    index: str | None = None,
) -> Alert | None:
    """Move an alert along firing → acknowledged → resolved; None when unknown or unchanged.

    A resolved alert stays resolved: acknowledging it afterwards changes nothing. The write
    is conditional on the version read (`if_seq_no`, `if_primary_term`): when another
    change lands in between (an ack racing an auto-resolve), the alert is read again and
    the decision made on what it is now, so a resolved alert can never become acknowledged.
    """
    order = {"firing": 0, "acknowledged": 1, "resolved": 2}
    while True:
        found = await find_alert(es, alert_id, index)
        if found is None:
            return None
        index, hit = found
        current = hit["_source"].get("status", "firing")
        if order[status] <= order[current]:
            return None
        when = when or datetime.now(UTC)
        change: dict[str, Any] = {"status": status}
        if status == "acknowledged":
            change |= {"acknowledged_at": when.isoformat(), "acknowledged_by": by}
        else:
            change["resolved_at"] = when.isoformat()
        try:
            await es.update(
                index=index,
                id=alert_id,
                doc=change,
                if_seq_no=hit["_seq_no"],
                if_primary_term=hit["_primary_term"],
            )
        except ConflictError:
            continue  # changed since it was read: decide again
        hit["_source"] |= change
        return _as_alert(hit)


async def list_alerts(
    es: AsyncElasticsearch,
    *,
    status: AlertStatus | None = None,
    rule: str | None = None,
    rule_type: str | None = None,
    size: int = 50,
) -> list[Alert]:
    filters = [
        {"term": {field: value}}
        for field, value in (("status", status), ("rule", rule), ("rule_type", rule_type))
        if value
    ]
    try:
        res = await es.search(
            index=f"{ALERTS_INDEX_PREFIX}*",
            query={"bool": {"filter": filters}},
            # Alerts of one event time come in one order every time.
            sort=[
                {"@timestamp": {"order": "desc"}},
                {"alert_id": {"order": "asc", "unmapped_type": "keyword"}},
            ],
            size=size,
        )
    except NotFoundError:
        return []
    return [_as_alert(h) for h in res["hits"]["hits"]]


class Silence(BaseModel):
    """Like Alertmanager's: alerts whose labels equal every matcher are not notified."""

    silence_id: str
    matchers: dict[str, str] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None = None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def silences(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.matchers.items())


def new_silence_id(matchers: dict[str, str], starts_at: datetime) -> str:
    text = "\x1f".join(f"{k}={v}" for k, v in sorted(matchers.items()))
    return hashlib.sha256(f"{text}\x1f{starts_at.isoformat()}".encode()).hexdigest()[:16]


async def add_silence(es: AsyncElasticsearch, silence: Silence) -> None:
    await es.index(
        index=SILENCES_INDEX,
        id=silence.silence_id,
        document=silence.model_dump(mode="json", exclude={"silence_id"}),
        refresh=True,
    )


async def list_silences(
    es: AsyncElasticsearch, *, active_at: datetime | None = None
) -> list[Silence]:
    query: dict[str, Any] = {"match_all": {}}
    if active_at is not None:
        query = {"range": {"ends_at": {"gt": active_at.isoformat()}}}
    try:
        res = await es.search(
            index=SILENCES_INDEX, query=query, size=1000, sort=[{"ends_at": {"order": "desc"}}]
        )
    except NotFoundError:
        return []
    found = [Silence(silence_id=h["_id"], **h["_source"]) for h in res["hits"]["hits"]]
    found.sort(key=lambda s: s.silence_id)  # ties on ends_at in one order every time
    found.sort(key=lambda s: s.ends_at, reverse=True)
    return [s for s in found if active_at is None or s.active(active_at)]


async def expire_silence(es: AsyncElasticsearch, silence_id: str, when: datetime) -> bool:
    try:
        await es.update(
            index=SILENCES_INDEX, id=silence_id, doc={"ends_at": when.isoformat()}, refresh=True
        )
    except NotFoundError:
        return False
    return True


DeliveryStatus = Literal["delivered", "failed", "silenced"]


def delivery_index(channel: str) -> str:
    return f"{DELIVERIES_INDEX_PREFIX}{channel}"


class Delivery(BaseModel):
    """A channel's record of one notification that went out (or was silenced)."""

    channel: str
    notification_id: str
    status: DeliveryStatus
    at: datetime = Field(alias="@timestamp")
    alert_ids: list[str] = Field(
        default_factory=list, description="A group's alerts sent or silenced, updates included."
    )
    lead_alert_id: str | None = Field(
        None, description="The lead alert of what went out first (PagerDuty's dedup_key)."
    )
    updated_at: datetime | None = Field(None, description="A group's last update.")

    @property
    def last_sent(self) -> datetime:
        return self.updated_at or self.at


async def delivery(es: AsyncElasticsearch, channel: str, notification_id: str) -> Delivery | None:
    """The record of this notification on this channel; None while it has not gone out."""
    try:
        doc = await es.get(index=delivery_index(channel), id=notification_id)
    except NotFoundError:
        return None
    found = Delivery.model_validate(doc["_source"])
    return found if found.status in ("delivered", "silenced") else None


async def log_delivery(
    es: AsyncElasticsearch, channel: str, notification_id: str, record: dict[str, Any]
) -> None:
    # `index`, not `create`: a failed attempt's record is replaced by the later success.
    await es.index(
        index=delivery_index(channel),
        id=notification_id,
        document={"@timestamp": datetime.now(UTC).isoformat(), "channel": channel}
        | {"notification_id": notification_id}
        | record,
    )


async def save_group(es: AsyncElasticsearch, group: Delivery) -> None:
    """Write back what an update changed in a group's record."""
    await es.update(
        index=delivery_index(group.channel),
        id=group.notification_id,
        doc=group.model_dump(mode="json", include={"alert_ids", "lead_alert_id", "updated_at"}),
    )
