"""PagerDuty Events API v2: trigger and resolve, deduplicated on the lead alert's id.

An update is a trigger with the dedup_key the group first went out with: PagerDuty adds it
to that alert's log (or opens a new alert if that one is resolved).
"""

from __future__ import annotations

import json
from typing import Any

from streams.notifiers.base import (
    JsonPoster,
    Notification,
    http_error,
    match_details,
    one_line,
    shorten,
)

SEVERITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
    "info": "info",
}
SUMMARY_LIMIT = 1024


def dedup_key(notification: Notification) -> str:
    update = notification.update_of
    if update is not None and update.lead_alert_id is not None:
        return update.lead_alert_id
    return notification.lead.alert_id


def pagerduty_event(notification: Notification, routing_key: str) -> dict[str, Any]:
    lead = notification.lead
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger" if notification.action == "update" else notification.action,
        "dedup_key": dedup_key(notification),
    }
    if notification.action == "resolve":
        return event  # PagerDuty needs nothing else to close the incident
    event["payload"] = {
        "summary": shorten(one_line(f"{notification.title}: {lead.summary}"), SUMMARY_LIMIT),
        "source": "argus",
        "severity": SEVERITY[notification.severity],
        "timestamp": lead.timestamp.isoformat(),
        "component": notification.rule,
        "group": notification.rule_type,
        "custom_details": {
            "figures": lead.figures,
            "group": notification.group,
            "alert_ids": [alert.alert_id for alert in notification.alerts],
            "top_terms": lead.top_terms,
            "representatives": lead.representatives,  # the events' summaries
        },
    }
    if (match := match_details(lead)) is not None:
        event["payload"]["custom_details"]["portfolio_match"] = match
    if lead.relation is not None:
        event["payload"]["custom_details"]["relation"] = lead.relation.model_dump()
    if lead.prior_art:
        event["payload"]["custom_details"]["prior_art"] = [p.model_dump() for p in lead.prior_art]
    if notification.link:
        event["links"] = [{"href": notification.link, "text": "Kibana"}]
    return event


def _reason(text: str) -> str:
    # PagerDuty explains a refusal as {"status", "message", "errors": [...]}.
    try:
        answer = json.loads(text)
        return "; ".join([answer["message"], *answer.get("errors", [])])
    except (ValueError, KeyError, TypeError):
        return text


class PagerDutyNotifier:
    channel = "pagerduty"

    def __init__(self, routing_key: str, url: str) -> None:
        self.routing_key = routing_key
        self.url = url
        self._http = JsonPoster(self.channel)

    async def send(self, notification: Notification, timeout: float) -> None:  # noqa: ASYNC109
        body = json.dumps(pagerduty_event(notification, self.routing_key)).encode()
        status, text = await self._http.post(self.url, body, timeout)
        if status != 202:
            raise http_error(self.channel, status, _reason(text))

    async def close(self) -> None:
        await self._http.close()
