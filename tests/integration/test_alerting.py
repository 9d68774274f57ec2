"""Alerting on the embedded stack: every rule type, notifications, silences, restarts.

Rules read fields the tiny test models cannot change (authors, likes, platforms, domains,
watch-list entities), so what fires is known in advance.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from pydantic import TypeAdapter

from indexer import alert_store
from indexer.alert_store import list_alerts
from indexer.client import make_client
from streams.alerting import alert_key
from streams.cli import main
from streams.contracts.schemas import Alert
from streams.contracts.topics import ALERTS_TOPIC
from streams.demo import count_indexed, wait_for_alerting
from streams.notifiers.webhook import verify_signature
from streams.produce import Produced, produce_lines
from streams.rules.models import Rule
from tests.reliability_report import FaultRecorder

pytestmark = pytest.mark.integration

SECRET = "webhook-test-secret"
NOTIFY_TIMEOUT = 1.0
HANG_SECONDS = 2.5
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)

RULES = {
    "popular-post": """
type: threshold
filter: {source: social}
field: record.engagement.likes
gte: 1000
group_by: record.author
notify_group_by: []
group_interval: 1s
notify: webhook
""",
    "chatty-author": """
type: frequency
filter: {source: social}
group_by: record.author
count: 3
window: 1h
notify: webhook
""",
    "x-surge": """
type: surge
filter: {source: social}
group_by: entity
match: {record.platform: x}
measure: count
window: 1h
baseline: 10h
ratio: 3
min_count: 3
notify: webhook
""",
    "new-domain": """
type: new_term
filter: {source: social}
group_by: entity
field: domain
learn: 1d
notify: webhook
""",
    "feed-silent": """
type: flatline
group_by: source
window: 10s
notify: webhook
""",
}


class Receiver(ThreadingHTTPServer):
    """A local webhook endpoint: records every request, fails the first `fail_first`: the
    first by answering only after the notifier's timeout, the others with a 500."""

    def __init__(self, fail_first: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes]] = []
        # (arrived, answered) in epoch seconds, status and notification id, per answer
        self.answered: list[tuple[float, float, int, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.requests[self.fail_first :]]

    def outage(self) -> tuple[float, float, float]:
        """Epoch seconds: the first failed request's arrival, the longest wait from a failure
        (an answer after the notifier's timeout fails at the timeout) to the same
        notification's delivery, and the last such delivery."""
        with self.lock:
            failed: dict[str, float] = {}
            arrivals: list[float] = []
            delivered: dict[str, float] = {}
            for arrived, answered, status, nid in self.answered:
                if status != 200:
                    failed[nid] = max(failed.get(nid, 0.0), min(answered, arrived + NOTIFY_TIMEOUT))
                    arrivals.append(arrived)
                else:
                    delivered.setdefault(nid, answered)
        waits = [delivered[nid] - at for nid, at in failed.items()]
        return min(arrivals), max(waits), max(delivered[nid] for nid in failed)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        arrived = time.time()
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests.append((dict(self.headers), body))
            n = len(self.server.requests)
        if n == 1 and self.server.fail_first:
            time.sleep(HANG_SECONDS)
        status = 500 if n <= self.server.fail_first else 200
        self.send_response(status)
        self.end_headers()
        with self.server.lock:
            nid = json.loads(body)["notification_id"]
            self.server.answered.append((arrived, time.time(), status, nid))

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(server: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver(fail_first=2)) as server:
        yield server


@pytest.fixture
def heartbeat(stack) -> Iterator[Callable[[], None]]:
    """Starts a social post a second until the test ends (two hours of event time apart,
    so that no rule counts them): a feed that does not fall silent."""
    _, endpoints = stack
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def beat() -> None:
        i = 0
        while not stop.is_set():
            at = T0 - timedelta(days=400) + timedelta(hours=2 * i)
            produce(endpoints, "social", [post(f"hb-{i}", at, "@heartbeat", "tick")])
            i += 1
            stop.wait(1.0)

    def start() -> None:
        threads.append(threading.Thread(target=beat, daemon=True))
        threads[-1].start()

    yield start
    stop.set()
    for t in threads:
        t.join()


def post(pid: str, at: datetime, author: str, text: str, **extra: Any) -> bytes:
    row = {
        "id": pid,
        "platform": extra.pop("platform", "mastodon"),
        "author": author,
        "text": text,
        "created_at": at.isoformat(),
        "url": f"https://{extra.pop('domain', 'a.example')}/{pid}",
        "engagement": {"likes": extra.pop("likes", 0)},
    }
    return json.dumps(row).encode()


def produce(endpoints: Any, source: str, lines: list[bytes]) -> list[Produced]:
    return asyncio.run(produce_lines(endpoints.kafka_bootstrap, source, lines, progress=False))


def wait_processed(settings: Any, endpoints: Any, produced: list[Produced], worker: Any) -> None:
    """Until `produced` is indexed and the rules and notifications have caught up with it."""
    deadline = time.monotonic() + 90
    while asyncio.run(count_indexed(settings, endpoints, produced)) < len(produced):
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.3)
    assert asyncio.run(wait_for_alerting(settings, endpoints, produced, deadline))


def stored_alerts(settings: Any, endpoints: Any) -> list[Alert]:
    async def read() -> list[Alert]:
        es = make_client(settings, endpoints)
        try:
            return await list_alerts(es, size=500)
        finally:
            await es.close()

    return asyncio.run(read())


def scored_between(settings: Any, endpoints: Any, start: float, end: float) -> int:
    """Events scored and indexed between two epoch times: is scoring going on?"""

    async def count() -> int:
        es = make_client(settings, endpoints)
        try:
            window = {"gte": int(start * 1000), "lte": int(end * 1000), "format": "epoch_millis"}
            resp = await es.count(index="argus-events-*", query={"range": {"scored_at": window}})
            return int(resp["count"])
        finally:
            await es.close()

    return asyncio.run(count())


def write_rules(folder: Path, names: list[str]) -> None:
    """Only these rules (tiny encoders find every short post close to the portfolio)."""
    for old in folder.glob("*.yaml"):
        old.unlink()
    for name in names:
        (folder / f"{name}.yaml").write_text(f"name: {name}\n{RULES[name]}")


def test_rule_types_fire_notify_once_and_stay_quiet(
    stack,
    start_worker,
    rules_dir: Path,
    receiver: Receiver,
    heartbeat,
    monkeypatch,
    capsys,
    fault_report: FaultRecorder,
) -> None:
    settings, endpoints = stack
    write_rules(rules_dir, list(RULES))
    monkeypatch.setenv("ARGUS_STATE_DIR", str(settings.state_dir))
    assert (
        main(
            ["silence", "add", "--match", "record.author=@muted", "--for", "1h", "--reason", "test"]
        )
        == 0
    )
    worker = start_worker(
        ARGUS_WEBHOOK_URL=receiver.url,
        ARGUS_WEBHOOK_SECRET=SECRET,
        ARGUS_NOTIFY_GROUP_WAIT_SECONDS="1",
        ARGUS_NOTIFY_RETRIES="1",  # a failed delivery waits in Kafka and is retried
        ARGUS_NOTIFY_TIMEOUT_SECONDS=str(NOTIFY_TIMEOUT),
    )
    heartbeat()  # social keeps flowing; news will fall silent
    news = {
        "id": "n-1",
        "url": "https://news.example/1",
        "source": "news.example",
        "title": "one article, then silence",
        "published_at": T0.isoformat(),
    }
    lines = [
        # threshold: two popular posts, one group (notify_group_by: []).
        post("p-star", T0, "@star", "big news", likes=5000),
        post("p-star2", T0, "@star2", "bigger news", likes=9000),
        post("p-calm", T0, "@calm", "small news", likes=10),
    ]
    # frequency: 3 posts within the hour alert; 3 posts 3 hours apart do not.
    lines += [post(f"c-{k}", T0 + timedelta(minutes=10 * k), "@chatty", "hi") for k in range(3)]
    lines += [post(f"s-{k}", T0 + timedelta(hours=3 * k), "@slow", "hi") for k in range(3)]
    lines += [post(f"m-{k}", T0 + timedelta(minutes=5 * k), "@muted", "hi") for k in range(3)]
    # surge: an x post an hour for 10 hours, then 4 in half an hour about Cobalt Motors;
    # Voltaris Energy gets the same baseline and only 2 (under min_count).
    for name, entity, burst in (("cob", "Cobalt Motors", 4), ("vol", "Voltaris Energy", 2)):
        lines += [
            post(
                f"{name}-b{h}",
                T0 + timedelta(hours=h),
                f"@{name}{h}",
                f"{entity} today",
                platform="x",
            )
            for h in range(10)
        ]
        lines += [
            post(
                f"{name}-s{k}",
                T0 + timedelta(hours=10, minutes=40 + 5 * k),
                f"@{name}s{k}",
                f"{entity}!!",
                platform="x",
            )
            for k in range(burst)
        ]
    produced = produce(endpoints, "social", lines)
    produced += produce(endpoints, "news", [json.dumps(news).encode()])
    wait_processed(settings, endpoints, produced, worker)

    # Three days on: a new domain writes about Cobalt Motors, a known one too.
    later = T0 + timedelta(days=3)
    more = [
        post("d-new", later, "@d1", "Cobalt Motors again", domain="new.example"),
        post("d-old", later, "@d2", "Cobalt Motors again", domain="a.example"),
    ]
    produced += produce(endpoints, "social", more)
    wait_processed(settings, endpoints, produced, worker)
    # The window is wide enough for a busy 2-core machine: a worker behind by more than the
    # window would see the live social feed as silent too.
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:  # the news feed has been silent for over 10 s
        if any(a.rule == "feed-silent" for a in stored_alerts(settings, endpoints)):
            break
        time.sleep(0.5)
    wait_processed(settings, endpoints, [], worker)  # the notifications, delivered

    alerts = stored_alerts(settings, endpoints)
    fired = sorted((a.rule, json.dumps(a.group, sort_keys=True)) for a in alerts)
    assert fired == sorted(
        [
            ("popular-post", '{"record.author": "@star"}'),
            ("popular-post", '{"record.author": "@star2"}'),
            ("chatty-author", '{"record.author": "@chatty"}'),
            ("chatty-author", '{"record.author": "@muted"}'),
            ("x-surge", '{"entity": "Cobalt Motors"}'),
            ("new-domain", '{"entity": "Cobalt Motors"}'),
            ("feed-silent", '{"source": "news"}'),
        ]
    )
    by_rule = {a.rule: a for a in alerts}
    assert by_rule["new-domain"].summary.endswith("'new.example' for entity=Cobalt Motors")
    surge = by_rule["x-surge"]
    assert surge.figures["matching"] >= 3 and set(surge.evidence) <= {
        f"social:cob-s{k}" for k in range(4)
    }
    assert surge.status == "resolved"  # three days later the window holds no x posts: cleared
    assert by_rule["chatty-author"].representatives == ["hi"]

    # Notifications: signed, exactly once per group, silenced ones not sent.
    with receiver.lock:
        for headers, body in receiver.requests:
            assert verify_signature(
                SECRET.encode(), headers["X-Argus-Timestamp"], body, headers["X-Argus-Signature"]
            )
    sent = receiver.delivered()
    ids = [n["notification_id"] for n in sent]
    failing_from, recovery, redelivered = receiver.outage()
    fault_report.add(
        fault="notifier failing",
        injected=f"the webhook answers its first request after the notifier's {NOTIFY_TIMEOUT:.0f} s "
        "timeout and its second with a 500; one attempt per delivery, so the batch waits in "
        "Kafka and is retried with backoff",
        records=len(produced),
        lost=len(produced) - asyncio.run(count_indexed(settings, endpoints, produced)),
        duplicated=len(ids) - len(set(ids)),
        dead_lettered=None,
        recovery_s=recovery,
        extra={
            "recovery": "a notification's failed attempt → its delivery",
            "notifications": f"{len(set(ids))} delivered, each once, signed",
            "events scored while a notification waited": scored_between(
                settings, endpoints, failing_from, redelivered
            ),
        },
    )
    assert len(ids) == len(set(ids)), "a notification was sent twice"
    triggers = sorted(n["rule"] for n in sent if n["action"] == "trigger")
    assert triggers == ["chatty-author", "feed-silent", "new-domain", "popular-post", "x-surge"]
    # Both popular posts reach the webhook once: together, or the later one as an update.
    popular = [n for n in sent if n["rule"] == "popular-post"]
    assert [n["action"] for n in popular] in (["trigger"], ["trigger", "update"])
    assert sorted(a["alert_id"] for n in popular for a in n["alerts"]) == sorted(
        a.alert_id for a in alerts if a.rule == "popular-post"
    )
    assert [n["rule"] for n in sent if n["action"] == "resolve"] == ["x-surge"]
    assert not any(a["group"].get("record.author") == "@muted" for n in sent for a in n["alerts"])

    # The on-call's commands.
    capsys.readouterr()
    assert main(["alerts", "list", "--rule", "chatty-author"]) == 0
    listed = capsys.readouterr().out
    assert "@chatty" in listed and "@muted" in listed
    chatty = next(a for a in alerts if a.group.get("record.author") == "@chatty")
    stale = asyncio.run(_find(settings, endpoints, chatty.alert_id))  # firing, read by a racing ack
    assert main(["alerts", "ack", chatty.alert_id, "--by", "ann"]) == 0
    assert main(["alerts", "resolve", chatty.alert_id]) == 0
    assert main(["alerts", "ack", chatty.alert_id]) == 0  # resolved stays resolved
    # The race itself: an ack that read the alert before the resolve landed writes nothing.
    assert asyncio.run(_racing_ack(settings, endpoints, stale)) == "resolved"
    assert main(["alerts", "show", chatty.alert_id]) == 0
    capsys.readouterr()
    assert main(["alerts", "list", "--status", "resolved", "--json"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    resolved = {a["alert_id"] for a in last["alerts"]}
    assert resolved == {chatty.alert_id, surge.alert_id}
    assert main(["silence", "list"]) == 0
    silence_id = capsys.readouterr().out.split()[0]
    assert main(["silence", "expire", silence_id]) == 0
    capsys.readouterr()
    assert main(["silence", "list"]) == 0 and capsys.readouterr().out.strip() == "no silences"
    assert worker.poll() is None


async def _find(settings: Any, endpoints: Any, alert_id: str) -> tuple[str, dict[str, Any]]:
    es = make_client(settings, endpoints)
    try:
        found = await alert_store.find_alert(es, alert_id)
        assert found is not None
        return found
    finally:
        await es.close()


async def _racing_ack(settings: Any, endpoints: Any, stale: tuple[str, dict[str, Any]]) -> str:
    """set_status("acknowledged") whose first read returns `stale`; the alert's status after."""
    es = make_client(settings, endpoints)
    real, reads = alert_store.find_alert, [stale]

    async def find(*args: Any, **kw: Any) -> Any:
        return reads.pop() if reads else await real(*args, **kw)

    alert_store.find_alert = find  # type: ignore[assignment]
    try:
        assert await alert_store.set_status(es, stale[1]["_id"], "acknowledged") is None
    finally:
        alert_store.find_alert = real  # type: ignore[assignment]
    try:
        now = await alert_store.find_alert(es, stale[1]["_id"])
        assert now is not None
        return str(now[1]["_source"]["status"])
    finally:
        await es.close()


def test_rule_state_survives_a_restart(
    stack, start_worker, rules_dir: Path, fault_report: FaultRecorder
) -> None:
    settings, endpoints = stack
    write_rules(rules_dir, ["chatty-author"])
    first = start_worker()
    two = [post(f"r-{k}", T0 + timedelta(minutes=k), "@persist", "hi") for k in range(2)]
    wait_processed(settings, endpoints, produce(endpoints, "social", two), first)
    from streams.demo import stop_worker

    stop_worker(first)
    restarted = time.monotonic()
    second = start_worker()
    third = [post("r-2", T0 + timedelta(minutes=2), "@persist", "hi")]
    wait_processed(settings, endpoints, produce(endpoints, "social", third), second)
    deadline = time.monotonic() + 30
    alerts: list[Alert] = []
    while time.monotonic() < deadline and not alerts:
        alerts = stored_alerts(settings, endpoints)
        time.sleep(0.5)
    counts = [(a.rule, a.figures["count"]) for a in alerts]
    fault_report.add(
        fault="worker restarted mid-window",
        injected="the worker stopped after two of the three events a frequency rule needs; a new "
        "worker gets the third and restores the rule table from its changelog",
        records=3,
        lost=3 - int(max((c for _, c in counts), default=0)),
        duplicated=max(0, len(alerts) - 1),
        dead_lettered=None,
        recovery_s=time.monotonic() - restarted,
        extra={
            "recovery": "new worker started → the alert stored, with its count",
            "alert count": int(counts[0][1]) if counts else "no alert",
        },
    )
    assert counts == [("chatty-author", 3.0)]


GROUP_INTERVAL = 2.0
LATE_JOINER = f"""
name: late-joiner
type: threshold
field: record.engagement.likes
gte: 1000
group_by: record.author
notify_group_by: []
group_window: 1h
group_interval: {GROUP_INTERVAL:g}s
notify: webhook
"""


def joiner(author: str, at: datetime = T0) -> Alert:
    return Alert(
        alert_id=f"late-joiner:{author}",
        rule="late-joiner",
        rule_type="threshold",
        severity="high",
        timestamp=at,
        fired_at=at,
        group={"record.author": author},
        figures={"value": 5000},
        summary=f"{author} is popular",
        notify=["webhook"],
    )


def publish(endpoints: Any, alerts: list[Alert]) -> None:
    """Straight onto argus.alerts, as the rules agent publishes them; one record a batch,
    so that the embedded broker's end offsets are exact (see wait_for_alerting)."""
    rule = TypeAdapter(Rule).validate_python(yaml.safe_load(LATE_JOINER))

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=endpoints.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for a in alerts:
                await producer.send_and_wait(
                    ALERTS_TOPIC, a.model_dump_json().encode(), key=alert_key(rule, a)
                )
        finally:
            await producer.stop()

    asyncio.run(send())


def wait_for(condition: Callable[[], bool], worker: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.1)


def test_a_late_alert_joins_its_group_as_one_update(stack, start_worker, rules_dir: Path) -> None:
    settings, endpoints = stack
    for old in rules_dir.glob("*.yaml"):
        old.unlink()
    (rules_dir / "late-joiner.yaml").write_text(LATE_JOINER)
    with serving(Receiver()) as receiver:
        worker = start_worker(ARGUS_WEBHOOK_URL=receiver.url, ARGUS_NOTIFY_GROUP_WAIT_SECONDS="0.2")
        first, late = joiner("@first"), joiner("@late")
        other = joiner("@other", T0 + timedelta(days=1))  # the next group window
        publish(endpoints, [first])
        wait_for(lambda: len(receiver.delivered()) == 1, worker)
        # `late` joins the group just notified; `other` starts a group of its own.
        publish(endpoints, [late, other])
        wait_for(lambda: len(receiver.delivered()) == 3, worker)
        sent = receiver.delivered()
        with receiver.lock:
            arrived = [at for at, *_ in receiver.answered]
        assert [(n["action"], [a["alert_id"] for a in n["alerts"]]) for n in sent] == [
            ("trigger", [first.alert_id]),
            ("trigger", [other.alert_id]),  # the held update does not hold up the stream
            ("update", [late.alert_id]),
        ]
        assert arrived[2] - arrived[0] >= GROUP_INTERVAL
        update = sent[2]
        assert update["update_of"] == {
            "group_id": sent[0]["notification_id"],
            "lead_alert_id": first.alert_id,
            "size": 2,
        }
        # The same alerts again, as after a crash: everything is committed (the held event
        # acked) and nothing more is sent, the update's interval long gone by then.
        time.sleep(GROUP_INTERVAL)
        publish(endpoints, [first, late, other])
        deadline = time.monotonic() + 60
        assert asyncio.run(wait_for_alerting(settings, endpoints, [], deadline))
        assert len(receiver.delivered()) == 3
        assert worker.poll() is None
