"""Notification grouping and the no-op engine: pure parts of the alerting stages."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from pydantic import TypeAdapter

from models.noop import NoopEngine
from streams.alerting import alert_key, group_notifications, notification_id
from streams.contracts.schemas import Alert
from streams.rules.files import RuleSet
from streams.rules.models import Rule
from tests.events import T0


def rules(**fields: object) -> RuleSet:
    r = TypeAdapter(Rule).validate_python(
        {"name": "r", "type": "threshold", "field": "topic.score", "gte": 0.5, **fields}
    )
    return RuleSet({"r": r}, {"r": Path("r.yaml")})


def alert(aid: str, minutes: int = 0, status: str = "firing", **group: str) -> Alert:
    return Alert(
        alert_id=aid,
        rule="r",
        rule_type="threshold",
        severity="high",
        status=status,  # type: ignore[arg-type]
        timestamp=T0 + timedelta(minutes=minutes),
        fired_at=T0,
        group=group,
        figures={},
        summary=aid,
        notify=["webhook"],
    )


def test_alerts_of_one_group_and_window_share_one_notification() -> None:
    rs = rules(group_by=["entity", "doc_id"], notify_group_by=["entity"], group_window="10m")
    batch = [
        alert("a", 1, entity="Acme", doc_id="1"),
        alert("b", 2, entity="Acme", doc_id="2"),
        alert("b", 2, entity="Acme", doc_id="2"),  # a replayed copy
        alert("c", 3, entity="Beta", doc_id="3"),
        alert("d", 12, entity="Acme", doc_id="4"),  # the next group window
        alert("a", 1, status="resolved", entity="Acme", doc_id="1"),
    ]
    out = group_notifications(rs, batch, link="https://kibana/x")
    grouped = [(n.action, n.group, [a.alert_id for a in n.alerts]) for n in out]
    assert grouped == [
        ("trigger", {"entity": "Acme"}, ["a", "b"]),
        ("trigger", {"entity": "Beta"}, ["c"]),
        ("trigger", {"entity": "Acme"}, ["d"]),
        ("resolve", {"entity": "Acme"}, ["a"]),
    ]
    assert out[3].notification_id == "a:resolved" and out[0].link == "https://kibana/x"


def test_notification_ids_and_keys_are_stable_per_group() -> None:
    rs = rules(group_by=["entity", "doc_id"], notify_group_by=["entity"])
    r = rs.get("r")
    one, two = alert("a", 1, entity="Acme", doc_id="1"), alert("b", 5, entity="Acme", doc_id="2")
    assert notification_id(r, one) == notification_id(r, two)
    assert alert_key(r, one) == alert_key(r, two) == b"r\x1fentity=Acme"
    other = alert("c", 5, entity="Beta", doc_id="3")
    assert notification_id(r, one) != notification_id(r, other)
    by_rule = rules(group_by=["entity"], notify_group_by=[]).get("r")
    assert alert_key(by_rule, other) == b"r"  # one notification stream per rule


def test_noop_engine_scores_without_models() -> None:
    engine = NoopEngine()
    scores = asyncio.run(engine.score(["a", "b"]))
    assert len(scores) == 2 and scores[0].similarity == [] and scores[0].embedding is None
    assert set(engine.versions) == {"encoder", "topic", "sentiment"}
