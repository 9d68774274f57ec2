"""E-mail over SMTP: stdlib smtplib, in a worker thread so the event loop never blocks."""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from streams.notifiers.base import DeliveryError, Notification, evidence_text, one_line


def email_body(notification: Notification) -> str:
    lines = [notification.title, ""]
    count = len(notification.alerts)
    for n, alert in enumerate(notification.alerts, 1):
        lines.append(f"Alert {n} of {count}: {alert.summary}")
        lines.append(f"  id: {alert.alert_id}")
        lines.append(f"  severity: {alert.severity}, status: {alert.status}")
        lines.append(f"  event time: {alert.timestamp.isoformat()}")
        if alert.window_start and alert.window_end:
            window = f"{alert.window_start.isoformat()} to {alert.window_end.isoformat()}"
            lines.append(f"  window: {window}")
        if alert.figures:
            figures = ", ".join(f"{k}={v:g}" for k, v in alert.figures.items())
            lines.append(f"  figures: {figures}")
        if alert.top_terms:
            lines.append(f"  top terms: {', '.join(alert.top_terms)}")
        lines += evidence_text(alert)
        if alert.representatives:
            lines.append("  representative texts:")
            lines += [f"    - {one_line(text)}" for text in alert.representatives]
        lines.append("")
    if notification.link:
        lines.append(f"Open in Kibana: {notification.link}")
    return "\n".join(lines) + "\n"


def message_id(notification: Notification, sender: str) -> str:
    # Deterministic, so a retried send is recognisable; the alert ids are part of it because
    # mail services drop a message whose Message-ID they have already seen.
    key = "\n".join([notification.notification_id, *(a.alert_id for a in notification.alerts)])
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.argus@{domain}>"


def email_message(notification: Notification, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notification.title
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(notification, sender)
    message.set_content(email_body(notification))
    return message


class EmailNotifier:
    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        recipients: list[str],
        starttls: bool = True,
        ca_file: Path | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = recipients
        self.starttls = starttls
        self.ca_file = ca_file
        self.username = username
        self.password = password

    async def send(self, notification: Notification, timeout: float) -> None:  # noqa: ASYNC109
        message = email_message(notification, self.sender, self.recipients)
        try:
            await asyncio.to_thread(self._send, message, timeout)
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"{self.channel}: {type(e).__name__}: {e}") from e

    def _send(self, message: EmailMessage, timeout: float) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)

    async def close(self) -> None:
        """Nothing is held between sends: each opens its own connection."""
