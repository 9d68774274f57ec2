"""Slack incoming webhook: a Block Kit message, with `text` as the notification fallback."""

from __future__ import annotations

import json
from typing import Any

from streams.notifiers.base import (
    JsonPoster,
    Notification,
    evidence_pairs,
    http_error,
    match_line,
    one_line,
    prior_art_line,
    relation_line,
    shorten,
)

# Slack's limits: header text 150 characters, section text 3000, a field 2000.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
REPRESENTATIVES = 3
# A representative is an event's summary (up to 600 characters, streams/rules/hits.py):
# it fits whole, and three of them stay well inside a section.
REPRESENTATIVE_LIMIT = 600


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: event texts must not @channel anyone or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": shorten(f"*{label}*\n{escape(value)}", FIELD_LIMIT)}


def slack_message(notification: Notification) -> dict[str, Any]:
    lead = notification.lead
    status = "resolved" if notification.action == "resolve" else lead.status
    group = ", ".join(f"{k}: {v}" for k, v in notification.group.items()) or "all"
    fields = [
        _field("Severity", notification.severity),
        _field("Group", group),
        _field("Rule type", notification.rule_type),
        _field("Status", status),
    ]
    if lead.figures:
        fields.append(_field("Figures", ", ".join(f"{k}={v:g}" for k, v in lead.figures.items())))

    lines = [escape(lead.summary)]
    lines += [
        "> " + escape(shorten(one_line(text), REPRESENTATIVE_LIMIT))
        for text in lead.representatives[:REPRESENTATIVES]
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": shorten(notification.title, HEADER_LIMIT)},
        },
        {"type": "section", "fields": fields},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": shorten("\n".join(lines), SECTION_LIMIT)},
        },
    ]
    if (match := match_line(lead)) is not None:
        evidence = [f"*Matched item*: {escape(match)}"]
        for element, passage, sim in evidence_pairs(lead):
            evidence.append(f"> _item_ {escape(element)}\n> _text_ {escape(passage)} ({sim:.2f})")
        text = shorten("\n".join(evidence), SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if (relation := relation_line(lead)) is not None:
        text = shorten(f"*Relation*: {escape(relation)}", SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if (earlier := prior_art_line(lead)) is not None:
        text = shorten(f"*Earlier filings*: {escape(earlier)}", SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if notification.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Kibana"},
                        "url": notification.link,
                    }
                ],
            }
        )
    return {"text": escape(notification.title), "blocks": blocks}


class SlackNotifier:
    channel = "slack"

    def __init__(self, webhook_url: str) -> None:
        self.webhook_url = webhook_url
        self._http = JsonPoster(self.channel)

    async def send(self, notification: Notification, timeout: float) -> None:  # noqa: ASYNC109
        body = json.dumps(slack_message(notification)).encode()
        status, text = await self._http.post(self.webhook_url, body, timeout)
        if not 200 <= status < 300:
            raise http_error(self.channel, status, text)

    async def close(self) -> None:
        await self._http.close()
