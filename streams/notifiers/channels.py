"""Which channels the settings enable, and the notifiers that serve them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from streams.contracts.settings import Settings
from streams.notifiers.base import Notifier
from streams.notifiers.email import EmailNotifier
from streams.notifiers.pagerduty import PagerDutyNotifier
from streams.notifiers.slack import SlackNotifier
from streams.notifiers.webhook import WebhookNotifier

CHANNELS = ("webhook", "slack", "pagerduty", "email")

_HINTS = {
    "webhook": "set ARGUS_WEBHOOK_URL",
    "slack": "set ARGUS_SLACK_WEBHOOK_URL",
    "pagerduty": "set ARGUS_PAGERDUTY_ROUTING_KEY",
    "email": "set ARGUS_SMTP_HOST and ARGUS_SMTP_TO",
}


def channel_hint(channel: str) -> str:
    """What enables `channel`, for a warning about alerts routed to an unconfigured one."""
    # Never raises: an alert from an older rule set may name a channel this version lacks.
    return _HINTS.get(channel, f"{channel!r} is not a channel; use one of {', '.join(CHANNELS)}")


def configured_notifiers(settings: Settings) -> dict[str, Notifier]:
    notifiers: dict[str, Notifier] = {}
    if settings.webhook_url:
        secret = settings.webhook_secret
        notifiers["webhook"] = WebhookNotifier(
            settings.webhook_url, secret.get_secret_value().encode() if secret else None
        )
    if settings.slack_webhook_url:
        notifiers["slack"] = SlackNotifier(settings.slack_webhook_url.get_secret_value())
    if settings.pagerduty_routing_key:
        notifiers["pagerduty"] = PagerDutyNotifier(
            settings.pagerduty_routing_key.get_secret_value(), settings.pagerduty_url
        )
    if settings.smtp_host and settings.smtp_to:
        password = settings.smtp_password
        notifiers["email"] = EmailNotifier(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_from,
            recipients=settings.smtp_to,
            starttls=settings.smtp_starttls,
            ca_file=settings.smtp_ca_file,
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
        )
    return notifiers


async def close_notifiers(notifiers: Mapping[str, Notifier]) -> None:
    await asyncio.gather(*(notifier.close() for notifier in notifiers.values()))
