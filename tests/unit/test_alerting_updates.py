"""Group updates: alerts that join a group after its notification went out (Alertmanager's
group_interval): the pure decisions, the held events, and the notify stage on a fake index."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import NotFoundError
from faust.types import Message
from pydantic import TypeAdapter

from indexer.alert_store import Delivery, Silence
from streams.alerting import (
    Held,
    HeldEvents,
    NotifyStage,
    NotYet,
    group_notifications,
    grown,
    next_step,
    update_id,
)
from streams.contracts.schemas import Alert
from streams.contracts.settings import Settings
from streams.contracts.topics import ALERTS_TOPIC
from streams.metrics import Metrics
from streams.notifiers.base import Notification
from streams.notifiers.email import email_message
from streams.notifiers.pagerduty import pagerduty_event
from streams.notifiers.slack import slack_message
from streams.rules.base import DEFAULT_GROUP_INTERVAL
from streams.rules.files import RuleSet
from streams.rules.models import Rule
from tests.events import T0

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
INTERVAL = timedelta(minutes=5)


def rules(**fields: object) -> RuleSet:
    r = TypeAdapter(Rule).validate_python(
        {
            "name": "r",
            "type": "threshold",
            "field": "topic.score",
            "gte": 0.5,
            "group_by": ["entity", "doc_id"],
            "notify_group_by": ["entity"],
            "notify": ["webhook"],
            **fields,
        }
    )
    return RuleSet({"r": r}, {"r": Path("r.yaml")})


def alert(aid: str, minutes: int = 0, entity: str = "Acme") -> Alert:
    return Alert(
        alert_id=aid,
        rule="r",
        rule_type="threshold",
        severity="high",
        timestamp=T0 + timedelta(minutes=minutes),
        fired_at=T0,
        group={"entity": entity, "doc_id": aid},
        figures={},
        summary=f"summary of {aid}",
        notify=["webhook"],
    )


def trigger(*ids: str) -> Notification:
    [n] = group_notifications(rules(), [alert(i) for i in ids], link=None)
    return n


def record(*ids: str, at: datetime = NOW, **fields: Any) -> Delivery:
    return Delivery.model_validate(
        {
            "channel": "webhook",
            "notification_id": trigger(*ids).notification_id,
            "status": "delivered",
            "@timestamp": at.isoformat(),
            "alert_ids": list(ids),
            "lead_alert_id": ids[0],
        }
        | fields
    )


def test_group_interval_defaults_to_alertmanagers_and_parses_durations() -> None:
    assert rules().get("r").group_interval == DEFAULT_GROUP_INTERVAL == timedelta(minutes=5)
    assert rules(group_interval="2s").get("r").group_interval == timedelta(seconds=2)
    with pytest.raises(ValueError, match="greater than or equal"):
        rules(group_interval=-1)


def test_a_group_never_sent_gets_its_notification_and_one_sent_nothing_twice() -> None:
    n = trigger("a", "b")
    assert next_step(n, None, INTERVAL, NOW) is n
    assert next_step(n, record("a", "b"), INTERVAL, NOW + INTERVAL) is None
    [resolved] = group_notifications(
        rules(), [alert("a").model_copy(update={"status": "resolved"})], None
    )
    assert next_step(resolved, record("a"), INTERVAL, NOW + INTERVAL) is None


def test_joined_alerts_wait_for_group_interval_since_the_last_delivery() -> None:
    n = trigger("a", "b", "c")
    sent = record("a")
    assert next_step(n, sent, INTERVAL, NOW + INTERVAL / 2) == NotYet(
        NOW + INTERVAL, frozenset({"b", "c"})
    )
    # An update since moves the group's clock.
    later = record("a", updated_at=(NOW + INTERVAL).isoformat())
    step = next_step(n, later, INTERVAL, NOW + INTERVAL + INTERVAL / 2)
    assert step == NotYet(NOW + 2 * INTERVAL, frozenset({"b", "c"}))


def test_a_due_update_carries_only_the_joined_alerts() -> None:
    n = trigger("a", "b", "c")
    update = next_step(n, record("a"), INTERVAL, NOW + INTERVAL)
    assert isinstance(update, Notification)
    assert update.action == "update"
    assert [x.alert_id for x in update.alerts] == ["b", "c"]
    assert update.notification_id == update_id(n.notification_id, ["c", "b"])
    assert update.update_of is not None
    assert update.update_of.model_dump() == {
        "group_id": n.notification_id,
        "lead_alert_id": "a",
        "size": 3,
    }
    assert update.title == "[HIGH] r: 2 more alerts joined entity=Acme (3 in all)"


def test_update_ids_are_one_per_group_and_set_of_alerts() -> None:
    assert update_id("g", ["b", "c"]) == update_id("g", ["c", "b"])
    assert update_id("g", ["b"]) != update_id("g", ["b", "c"]) != update_id("h", ["b", "c"])
    assert update_id("g", ["b"]).startswith("g:update:")


def test_the_group_record_grows_by_the_update_and_its_clock_moves_on_delivery() -> None:
    n = trigger("a", "b")
    update = next_step(n, record("a"), INTERVAL, NOW + INTERVAL)
    assert isinstance(update, Notification)
    later = NOW + INTERVAL
    sent = grown(record("a"), update, "b", later)
    assert (sent.alert_ids, sent.lead_alert_id, sent.last_sent) == (["a", "b"], "a", later)
    assert next_step(n, sent, INTERVAL, later + INTERVAL) is None  # never a second update
    muted = grown(record("a"), update, None, later)  # all silenced: no delivery
    assert (muted.alert_ids, muted.last_sent) == (["a", "b"], NOW)
    # A group whose first notification was silenced takes its lead from the first update.
    first = grown(record("a", status="silenced", lead_alert_id=None), update, "b", later)
    assert first.lead_alert_id == "b"


def test_every_channel_renders_an_update() -> None:
    n = trigger("a", "b")
    update = next_step(n, record("a", lead_alert_id="a"), INTERVAL, NOW + INTERVAL)
    assert isinstance(update, Notification)
    title = "[HIGH] r: 1 more alert joined entity=Acme (2 in all)"
    event = pagerduty_event(update, "key")
    # The original trigger's dedup_key: PagerDuty adds the update to that alert.
    assert (event["event_action"], event["dedup_key"]) == ("trigger", "a")
    assert event["payload"]["custom_details"]["alert_ids"] == ["b"]
    assert event["payload"]["summary"].startswith(title)
    assert slack_message(update)["text"] == title
    assert slack_message(update)["blocks"][0]["text"]["text"] == title
    mail = email_message(update, "argus@example.com", ["oncall@example.com"])
    assert mail["Subject"] == title and title in mail.get_content()
    body = json.loads(update.model_dump_json())  # what the webhook POSTs
    assert body["action"] == "update" and body["update_of"]["size"] == 2
    # A group first silenced: the update opens the incident, under its own lead.
    assert update.update_of is not None
    unsent = update.update_of.model_copy(update={"lead_alert_id": None})
    assert (
        pagerduty_event(update.model_copy(update={"update_of": unsent}), "key")["dedup_key"] == "b"
    )


# -- held events ------------------------------------------------------------------------


def fake_app(generation: int = 1) -> Any:
    return SimpleNamespace(
        consumer=SimpleNamespace(unacked=set()),
        consumer_generation_id=generation,
        rebalancing=False,
    )


def event(a: Alert, offset: int = 0, generation: int = 1) -> Any:
    value = a.model_dump_json().encode()
    message = Message(
        ALERTS_TOPIC, 0, offset, 0.0, None, [], b"k", value, None, generation_id=generation
    )
    return SimpleNamespace(message=message)


async def no_ack(_: Any) -> bool:
    return True


def test_held_events_are_untracked_and_tracked_again_when_due() -> None:
    app = fake_app()
    held = HeldEvents(app)
    soon, later = event(alert("b"), 1), event(alert("c"), 2)
    app.consumer.unacked |= {soon.message, later.message}
    held.hold(Held(soon, no_ack, NOW))
    held.hold(Held(later, no_ack, NOW + INTERVAL))
    assert app.consumer.unacked == set()  # a rebalance or a shutdown does not wait for them
    assert [h.event for h in held.take_due(NOW)] == [soon]
    assert app.consumer.unacked == {soon.message}  # worked on: a rebalance waits for it
    assert held.take_due(NOW) == []
    app.rebalancing = True
    assert held.take_due(NOW + INTERVAL) == []
    app.rebalancing, app.consumer_generation_id = False, 2
    # Read before the rebalance: Faust reads it again from the committed offset.
    assert held.take_due(NOW + INTERVAL) == []


# -- the notify stage on a fake index -----------------------------------------------------


def not_found() -> NotFoundError:
    meta = ApiResponseMeta(404, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "h", 1))
    return NotFoundError("not found", meta, {})


class FakeES:
    """The delivery log's documents; no silences index unless `silences` are given."""

    def __init__(self, silences: list[Silence] | None = None) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.silences = silences or []

    async def get(self, index: str, id: str) -> dict[str, Any]:
        if (index, id) not in self.docs:
            raise not_found()
        return {"_source": self.docs[index, id]}

    async def index(self, index: str, id: str, document: dict[str, Any]) -> None:
        self.docs[index, id] = document

    async def update(self, index: str, id: str, doc: dict[str, Any]) -> None:
        self.docs[index, id] |= doc

    async def search(self, **_: Any) -> dict[str, Any]:
        if not self.silences:
            raise not_found()
        hits = [
            {"_id": s.silence_id, "_source": s.model_dump(mode="json", exclude={"silence_id"})}
            for s in self.silences
        ]
        return {"hits": {"hits": hits}}


class Recorder:
    channel = "webhook"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification, timeout: float) -> None:  # noqa: ASYNC109
        self.sent.append(notification)

    async def close(self) -> None:
        pass


class Acks:
    def __init__(self) -> None:
        self.acked: list[str] = []

    async def __call__(self, e: Any) -> bool:
        self.acked.append(Alert.model_validate_json(e.message.value).alert_id)
        return True


def stage(es: FakeES, interval: str = "300ms") -> tuple[NotifyStage, Recorder]:
    recorder = Recorder()
    settings = Settings(notify_retries=1, notify_timeout_seconds=1.0)
    s = NotifyStage(
        fake_app(), settings, rules(group_interval=interval), es, {"webhook": recorder}, Metrics()
    )
    return s, recorder


async def test_a_late_alert_is_sent_once_as_an_update_after_group_interval() -> None:
    notify, recorder = stage(FakeES())
    acks = Acks()
    a, b, c = alert("a"), alert("b"), alert("c")
    await notify.handle([(event(a), acks)])
    await notify.handle([(event(b, 1), acks)])
    assert [n.action for n in recorder.sent] == ["trigger"]
    assert acks.acked == ["a"]  # b waits, unacked
    await notify.handle([(event(c, 2), acks)])  # joins the same wait; the stream goes on
    await notify.handle([])  # the timer, too early
    assert len(recorder.sent) == 1 and acks.acked == ["a"]
    await asyncio.sleep(0.35)
    await notify.handle([])
    [_, update] = recorder.sent
    assert update.action == "update" and [x.alert_id for x in update.alerts] == ["b", "c"]
    assert sorted(acks.acked) == ["a", "b", "c"]
    # The same alerts again (a replay): nothing more, even after another interval.
    await asyncio.sleep(0.35)
    await notify.handle([(event(x, 3 + i), acks) for i, x in enumerate((a, b, c))])
    assert len(recorder.sent) == 2 and len(acks.acked) == 6


async def test_an_update_sent_before_a_crash_is_not_sent_again() -> None:
    es = FakeES()
    notify, recorder = stage(es, interval="0s")
    a, b = alert("a"), alert("b")
    await notify.dispatch([a])
    [sent] = recorder.sent
    group = ("argus-deliveries-webhook", sent.notification_id)
    before = dict(es.docs[group])
    await notify.dispatch([a, b])
    es.docs[group] = before  # the crash came before the group's record was written
    await notify.dispatch([a, b])
    assert [n.action for n in recorder.sent] == ["trigger", "update"]
    assert es.docs[group]["alert_ids"] == ["a", "b"]


async def test_silences_apply_to_updates() -> None:
    muted = Silence(
        silence_id="s",
        matchers={"doc_id": "b"},
        starts_at=datetime.now(UTC) - timedelta(hours=1),
        ends_at=datetime.now(UTC) + timedelta(hours=1),
        reason="test",
    )
    es = FakeES([muted])
    notify, recorder = stage(es, interval="0s")
    await notify.dispatch([alert("a")])
    await notify.dispatch([alert("a"), alert("b")])
    await notify.dispatch([alert("a"), alert("b")])
    assert [n.action for n in recorder.sent] == ["trigger"]
    [silenced] = [d for d in es.docs.values() if d["action"] == "update"]
    assert (silenced["status"], silenced["alert_ids"]) == ("silenced", ["b"])
