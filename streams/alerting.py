"""The alerting stages, downstream of scoring so that they never hold it up.

    argus.rule-hits --(rules agent: table state, alert documents)--> argus.alerts
    argus.alerts    --(notify agent: grouping, updates, silences, delivery log)--> on-call

Hits are keyed by rule and group key and alerts by rule and notification group, so one
key's state and one group's notification each live on one partition, hence one worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

import faust
from elasticsearch import AsyncElasticsearch
from faust.types import EventT, TableT
from pydantic import ValidationError

from indexer.actions import alerts_index
from indexer.alert_store import (
    Delivery,
    Silence,
    delivery,
    get_alert,
    list_silences,
    log_delivery,
    save_group,
    set_status,
    store_alert,
)
from indexer.events import read_events
from streams.contracts.schemas import Alert, RuleHits
from streams.contracts.settings import Settings
from streams.contracts.topics import ALERTS_TOPIC, RULE_HITS_TOPIC
from streams.metrics import Metrics
from streams.notifiers.base import (
    DeliveryResult,
    GroupUpdate,
    Notification,
    Notifier,
    RateLimiter,
    deliver,
)
from streams.notifiers.channels import channel_hint
from streams.publisher import Publisher
from streams.retry import until_done
from streams.rules.base import (
    DEFAULT_GROUP_INTERVAL,
    DEFAULT_GROUP_WINDOW,
    Decision,
    Fire,
    Resolve,
)
from streams.rules.files import RuleSet
from streams.rules.flatline import FlatlineRule, flatline_due
from streams.rules.hits import rule_of_key
from streams.rules.models import Rule
from streams.rules.state import apply_hits
from streams.rules.summary import excerpt, representatives, top_terms

log = logging.getLogger(__name__)

RULE_STATE_TABLE = "rule-state"
SILENCE_REFRESH = timedelta(seconds=5)
HELD_CHECK_SECONDS = 1.0  # how often held updates are looked at: their lateness at most

Ack = Callable[[EventT], Awaitable[bool]]


def notification_labels(rule: Rule | None, alert: Alert) -> dict[str, str]:
    labels = rule.notification_labels if rule else list(alert.group)
    return {k: alert.group[k] for k in labels if k in alert.group}


def alert_key(rule: Rule | None, alert: Alert) -> bytes:
    """The Kafka key of an alert: its notification group, so one worker sends it."""
    labels = notification_labels(rule, alert)
    return "\x1f".join([alert.rule, *(f"{k}={v}" for k, v in labels.items())]).encode()


def notification_id(rule: Rule | None, alert: Alert) -> str:
    """One id per rule, notification labels and group window: what `exactly once` counts."""
    window = (rule.group_window if rule else DEFAULT_GROUP_WINDOW).total_seconds()
    bucket = int(alert.timestamp.timestamp() // window)
    digest = hashlib.sha256(alert_key(rule, alert) + f"\x1f{bucket}".encode()).hexdigest()
    return f"{alert.rule}:{digest[:32]}"


def group_notifications(
    rules: RuleSet, alerts: Sequence[Alert], link: str | None
) -> list[Notification]:
    """Firing alerts of one group become one notification; each resolution its own."""
    groups: dict[str, list[Alert]] = {}
    resolved: list[Notification] = []
    for alert in alerts:
        rule = rules.get(alert.rule)
        if alert.status == "resolved":
            resolved.append(
                _notification(f"{alert.alert_id}:resolved", "resolve", [alert], rule, link)
            )
        elif alert.status == "firing":
            groups.setdefault(notification_id(rule, alert), []).append(alert)
    firing = [
        _notification(
            nid,
            "trigger",
            list({a.alert_id: a for a in group}.values()),
            rules.get(group[0].rule),
            link,
        )
        for nid, group in groups.items()
    ]
    return firing + resolved


def _notification(
    nid: str,
    action: Literal["trigger", "resolve"],
    alerts: list[Alert],
    rule: Rule | None,
    link: str | None,
) -> Notification:
    lead = alerts[0]
    return Notification(
        notification_id=nid,
        action=action,
        rule=lead.rule,
        rule_type=lead.rule_type,
        severity=lead.severity,
        group=notification_labels(rule, lead),
        alerts=alerts,
        link=link,
    )


def update_id(group_id: str, alert_ids: Iterable[str]) -> str:
    """One id per group and set of joining alerts: what `exactly once` counts for updates."""
    digest = hashlib.sha256("\x1f".join(sorted(alert_ids)).encode()).hexdigest()
    return f"{group_id}:update:{digest[:16]}"


@dataclass(frozen=True)
class NotYet:
    """Alerts that joined a group whose last delivery was less than group_interval ago."""

    due: datetime
    alert_ids: frozenset[str]


def next_step(
    n: Notification, record: Delivery | None, interval: timedelta, now: datetime
) -> Notification | NotYet | None:
    """What a channel with this record of `n` gets: `n` itself (it never went out), an
    update with the alerts that joined since, NotYet, or None (nothing new)."""
    if record is None:
        return n
    if n.action != "trigger":
        return None
    sent = set(record.alert_ids)
    joined = [a for a in n.alerts if a.alert_id not in sent]
    if not joined:
        return None
    ids = [a.alert_id for a in joined]
    due = record.last_sent + interval
    if now < due:
        return NotYet(due, frozenset(ids))
    return n.model_copy(
        update={
            "notification_id": update_id(n.notification_id, ids),
            "action": "update",
            "alerts": joined,
            "update_of": GroupUpdate(
                group_id=n.notification_id,
                lead_alert_id=record.lead_alert_id,
                size=len(sent) + len(joined),
            ),
        }
    )


def grown(record: Delivery, update: Notification, lead: str | None, now: datetime) -> Delivery:
    """A group's record once `update` was handled: `lead` is the lead alert of what went
    out, None when all of it was silenced (no delivery, so the group's clock stays)."""
    ids = record.alert_ids + [a.alert_id for a in update.alerts]
    if lead is None:
        return record.model_copy(update={"alert_ids": ids})
    lead = record.lead_alert_id or lead
    return record.model_copy(update={"alert_ids": ids, "lead_alert_id": lead, "updated_at": now})


def kibana_link(kibana_url: str | None) -> str | None:
    if not kibana_url:
        return None
    return f"{kibana_url.rstrip('/')}/app/dashboards#/view/argus-alerts-dashboard"


class RuleStage:
    """Applies hits to keyed state and turns decisions into alert documents and messages."""

    def __init__(
        self, rules: RuleSet, es: AsyncElasticsearch, metrics: Metrics, publisher: Publisher
    ) -> None:
        self.publisher = publisher
        self.rules = rules
        self.es = es
        self.metrics = metrics
        self._published: set[str] = set()
        self.started_at = datetime.now(UTC)
        flatlines = [r.window for r in rules if isinstance(r, FlatlineRule)]
        self.flatline_grace = min(flatlines, default=timedelta(0))

    async def on_hits(self, table: TableT, event: EventT) -> None:
        """One key's hits from one micro-batch: folded into its state, which is written once."""
        try:
            hits = RuleHits.model_validate_json(event.message.value).hits
        except ValidationError as e:  # not ours, or from an incompatible version: skip it
            log.error("unreadable rule hits at offset %d: %s", event.message.offset, e)
            return
        rule = self.rules.get(hits[0].rule)
        if rule is None:  # a rule removed since the hits were published
            return
        key = event.message.key.decode()
        # Changed in place, not copied (two deepcopies of a key's state cost more than the
        # rule): only shutdown leaves the wait on the effects below, and a restart reads the
        # state back from the changelog, where it is written only after them.
        state = table.get(key) or {}
        with self.metrics.rule_seconds.time():
            decisions = apply_hits(rule, state, hits, datetime.now(UTC))
            if decisions is None:  # all replayed
                return
            state["group"] = hits[-1].group
            state["partition"] = event.message.partition
            # Effects before the state: a crash in between replays the hits, and an alert
            # collides with its first copy; the other order could lose the alert.
            await until_done(lambda: self.act(rule, decisions), f"rule {rule.name} effects")
        table[key] = state

    async def act(self, rule: Rule, decisions: list[Decision]) -> None:
        for d in decisions:
            if isinstance(d, Fire):
                alert = await self.explained(rule, d.alert)
                if await store_alert(self.es, alert):
                    self.metrics.alerts.labels(rule.name, "fired").inc()
                    log.info("alert fired: %s", alert.summary, extra={"rule": rule.name})
                await self.publish(rule, alert)
            elif isinstance(d, Resolve):
                index = alerts_index(rule.type)
                resolved = await set_status(self.es, d.alert_id, "resolved", index=index)
                if resolved is not None:
                    self.metrics.alerts.labels(rule.name, "resolved").inc()
                else:  # unknown, or resolved before a crash: publish again (deduped later)
                    resolved = await get_alert(self.es, d.alert_id, index=index)
                    if resolved is None or resolved.status != "resolved":
                        continue
                await self.publish(rule, resolved)

    async def explained(self, rule: Rule, alert: Alert) -> Alert:
        """The alert with its cause summary, from its evidence events as indexed: the rule
        state keeps only their ids (every hit is published after its event was indexed)."""
        if not rule.evidence or not alert.evidence:
            return alert
        found = await read_events(self.es, alert.evidence, ("text", "scores.summary"))
        texts = [
            excerpt(doc.get("scores", {}).get("summary"), doc.get("text", ""))
            for doc in (found[i] for i in alert.evidence if i in found)
        ]
        update = {"representatives": representatives(texts), "top_terms": top_terms(texts)}
        return alert.model_copy(update=update)

    async def publish(self, rule: Rule, alert: Alert) -> None:
        await (
            await self.publisher.send(
                ALERTS_TOPIC, alert_key(rule, alert), alert.model_dump_json().encode()
            )
        )

    async def check_flatlines(self, table: TableT, active: set[int], now: datetime) -> None:
        """Fire for silent keys of the partitions this worker owns (`active`).

        A timer cannot write a table, so the alert id, derived from the last time the key
        was seen, is what keeps repeats out; a key heard from while the alert was being
        stored is resolved at once.
        """
        if now - self.started_at < self.flatline_grace:
            return  # just started: the backlog may hold the events that end the silence
        for key, state in list(table.items()):
            rule = self.rules.get(rule_of_key(key))
            if not isinstance(rule, FlatlineRule) or state.get("partition") not in active:
                continue
            alert = flatline_due(rule, state, state.get("group", {}), now)
            if alert is None or alert.alert_id in self._published:
                continue
            await self.act(rule, [Fire(alert)])
            self._published.add(alert.alert_id)
            if (table.get(key) or {}).get("seen") != state.get("seen"):
                await self.act(rule, [Resolve(alert.alert_id)])


@dataclass(frozen=True)
class Held:
    """An event whose alert waits for its group's update, and the stream to ack it on."""

    event: EventT
    ack: Ack
    due: datetime


class HeldEvents:
    """The events of updates not due yet.

    Unacked, so that Faust commits only the offsets before them and a crash replays them
    (the delivery log decides again); untracked, so that a rebalance or a shutdown, which
    wait for every tracked event, do not wait for them: Faust then seeks the partition back
    to its committed offset and reads them again, as it does the events in its buffers.
    The stream goes on meanwhile.
    """

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self._held: list[Held] = []

    def hold(self, held: Held) -> None:
        self.app.consumer.unacked.discard(held.event.message)
        self._held.append(held)

    def take_due(self, now: datetime) -> list[Held]:
        """The events due by `now`, tracked again (a rebalance waits while they are worked
        on). Those read before the last rebalance are dropped: they are being read again."""
        if not self._held or self.app.rebalancing:
            return []
        generation = self.app.consumer_generation_id
        current = [h for h in self._held if h.event.message.generation_id == generation]
        self._held = [h for h in current if h.due > now]
        due = [h for h in current if h.due <= now]
        for h in due:
            self.app.consumer.unacked.add(h.event.message)
        return due


def read_alert(event: EventT) -> Alert | None:
    try:
        return Alert.model_validate_json(event.message.value)
    except ValidationError as err:  # not ours, or an incompatible version
        log.error("unreadable alert at offset %d: %s", event.message.offset, err)
        return None


class NotifyStage:
    """Groups alerts, applies silences, delivers once per channel and logs each delivery."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        rules: RuleSet,
        es: AsyncElasticsearch,
        notifiers: dict[str, Notifier],
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.es = es
        self.notifiers = notifiers
        self.metrics = metrics
        self.limiters = {ch: RateLimiter(settings.notify_rate_per_minute) for ch in notifiers}
        self.held = HeldEvents(app)
        # The agent and the timer both notify: one group must not be decided twice at once.
        self._lock = asyncio.Lock()
        self._silences: list[Silence] = []
        self._silences_at: datetime | None = None
        self._warned: set[str] = set()

    async def active_silences(self, now: datetime) -> list[Silence]:
        if self._silences_at is None or now - self._silences_at > SILENCE_REFRESH:
            self._silences = await list_silences(self.es, active_at=now)
            self._silences_at = now
        return [s for s in self._silences if s.active(now)]

    async def handle(self, events: Sequence[tuple[EventT, Ack]]) -> None:
        """Notify the alerts of these events and of the held ones now due; ack each event
        once every channel is done with its alert, hold it while its update is not due."""
        async with self._lock:
            due = self.held.take_due(datetime.now(UTC))
            items = [*events, *((h.event, h.ack) for h in due)]
            if not items:
                return
            alerts = [read_alert(e) for e, _ in items]
            batch = [a for a in alerts if a is not None]
            waiting = await until_done(partial(self.dispatch, batch), f"{len(batch)} notifications")
            for (event, ack), alert in zip(items, alerts, strict=True):
                if alert is not None and alert.alert_id in waiting:
                    self.held.hold(Held(event, ack, waiting[alert.alert_id]))
                else:
                    await ack(event)

    async def dispatch(self, alerts: Sequence[Alert]) -> dict[str, datetime]:
        """Send what each channel is due; the ids of the alerts whose update is not due
        yet, with when it is (the earliest of their channels')."""
        now = datetime.now(UTC)
        silences = await self.active_silences(now)
        failed: list[DeliveryResult] = []
        waiting: dict[str, datetime] = {}
        link = kibana_link(self.settings.kibana_url)
        for n in group_notifications(self.rules, alerts, link):
            rule = self.rules.get(n.rule)
            interval = rule.group_interval if rule else DEFAULT_GROUP_INTERVAL
            for channel in n.lead.notify:
                notifier = self.notifiers.get(channel)
                if notifier is None:
                    self._warn_unconfigured(channel)
                    continue
                record = await delivery(self.es, channel, n.notification_id)
                step = next_step(n, record, interval, now)
                if step is None:
                    self.metrics.notifications.labels(channel, "duplicate").inc()
                    continue
                if isinstance(step, NotYet):
                    for alert_id in step.alert_ids:
                        waiting[alert_id] = min(step.due, waiting.get(alert_id, step.due))
                    continue
                loud = [a for a in step.alerts if not any(s.silences(a.labels()) for s in silences)]
                if record is None:
                    failure = await self._send(channel, notifier, step, loud)
                else:
                    failure = await self._update(channel, notifier, step, loud, record, now)
                if failure is not None:
                    failed.append(failure)
        if failed:
            # The batch stays unacked and is retried; delivered channels are skipped then.
            raise RuntimeError("; ".join(f"{r.channel}: {r.error}" for r in failed))
        return waiting

    async def _send(
        self, channel: str, notifier: Notifier, n: Notification, loud: list[Alert]
    ) -> DeliveryResult | None:
        """Deliver the loud alerts of `n` (none: log it silenced); the result if it failed."""
        if not loud:
            await self._log(channel, n, None, {"status": "silenced", "attempts": 0})
            self.metrics.notifications.labels(channel, "silenced").inc()
            return None
        result = await deliver(
            notifier,
            n.model_copy(update={"alerts": loud}),
            timeout=self.settings.notify_timeout_seconds,
            retries=self.settings.notify_retries,
            limiter=self.limiters[channel],
        )
        self.metrics.notifications.labels(channel, result.status).inc()
        self.metrics.notify_seconds.labels(channel).observe(result.latency_ms / 1000)
        await self._log(
            channel,
            n,
            loud[0],
            result.model_dump(include={"status", "attempts", "error", "latency_ms"}),
        )
        return result if result.status == "failed" else None

    async def _update(
        self,
        channel: str,
        notifier: Notifier,
        update: Notification,
        loud: list[Alert],
        group: Delivery,
        now: datetime,
    ) -> DeliveryResult | None:
        """Send an update once, then add its alerts to the group's record, so that they
        never make another one."""
        previous = await delivery(self.es, channel, update.notification_id)
        if previous is not None:  # sent before a crash that came before the group's record
            lead = previous.lead_alert_id
        elif failure := await self._send(channel, notifier, update, loud):
            return failure
        else:
            lead = loud[0].alert_id if loud else None
        await save_group(self.es, grown(group, update, lead, now))
        return None

    async def _log(
        self, channel: str, n: Notification, lead: Alert | None, record: dict[str, Any]
    ) -> None:
        await log_delivery(
            self.es,
            channel,
            n.notification_id,
            record
            | {
                "action": n.action,
                "rule": n.rule,
                "severity": n.severity,
                "alert_ids": [a.alert_id for a in n.alerts],
                "lead_alert_id": lead.alert_id if lead else None,
            },
        )

    def _warn_unconfigured(self, channel: str) -> None:
        if channel not in self._warned:
            self._warned.add(channel)
            log.warning("alerts routed to %s are not sent: %s", channel, channel_hint(channel))


def register_alerting(
    app: faust.App,
    settings: Settings,
    rules: RuleSet,
    es: AsyncElasticsearch,
    notifiers: dict[str, Notifier],
    metrics: Metrics,
    publisher: Publisher,
) -> None:
    rule_stage = RuleStage(rules, es, metrics, publisher)
    notify_stage = NotifyStage(app, settings, rules, es, notifiers, metrics)
    table = app.Table(RULE_STATE_TABLE, default=None, partitions=settings.partitions)
    hits = app.topic(RULE_HITS_TOPIC, key_serializer="raw", value_serializer="raw")
    alerts = app.topic(ALERTS_TOPIC, key_serializer="raw", value_serializer="raw")

    @app.agent(hits, name="argus.rules")
    async def evaluate_rules(stream: faust.StreamT) -> None:
        # One event at a time: Faust tables can only be written inside stream iteration.
        async for event in stream.events():
            await rule_stage.on_hits(table, event)

    @app.agent(alerts, name="argus.notify")
    async def notify(stream: faust.StreamT) -> None:
        async for events in stream.noack_take(500, settings.notify_group_wait_seconds):
            await notify_stage.handle([(e, stream.ack) for e in events])

    @app.timer(interval=HELD_CHECK_SECONDS)
    async def send_due_updates() -> None:
        # The agent takes due updates along with new alerts; this, when none come.
        await notify_stage.handle([])

    flatlines = [r for r in rules if isinstance(r, FlatlineRule)]
    if flatlines:
        every = min(60.0, max(1.0, min(r.window.total_seconds() for r in flatlines) / 4))

        @app.timer(interval=every)
        async def check_flatlines() -> None:
            # Standby replicas and partitions lost in a rebalance stay in the local store.
            active = {
                tp.partition
                for tp in app.assignor.assigned_actives()
                if tp.topic == RULE_HITS_TOPIC
            }
            await until_done(
                lambda: rule_stage.check_flatlines(table, active, datetime.now(UTC)),
                "flatline check",
            )
