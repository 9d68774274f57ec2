"""Generic webhook: the notification as JSON, POSTed and signed.

Headers sent with every request:

    Content-Type: application/json
    X-Argus-Notification-Id: <notification_id>   (the same on every retry: dedupe on it)
    X-Argus-Timestamp: <unix seconds>
    X-Argus-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>   (with a secret)

To verify, a receiver takes the body bytes exactly as received (before any JSON parsing),
recomputes the HMAC over the timestamp header, a dot and those bytes with the shared secret
(ARGUS_WEBHOOK_SECRET), compares it in constant time, and rejects a timestamp more than five
minutes from its own clock, so that a captured request cannot be replayed later.
`verify_signature` does exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from streams.notifiers.base import JsonPoster, Notification, http_error

TOLERANCE_S = 300


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The X-Argus-Signature value for these exact bytes."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    tolerance_s: float = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether `header` signs `timestamp` and `body`, and the timestamp is recent."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    return hmac.compare_digest(header.encode(), signature(secret, timestamp, body).encode())


class WebhookNotifier:
    channel = "webhook"

    def __init__(self, url: str, secret: bytes | None = None) -> None:
        self.url = url
        self.secret = secret
        self._http = JsonPoster(self.channel)

    async def send(self, notification: Notification, timeout: float) -> None:  # noqa: ASYNC109
        body = notification.model_dump_json().encode()
        timestamp = str(int(time.time()))
        headers = {
            "X-Argus-Notification-Id": notification.notification_id,
            "X-Argus-Timestamp": timestamp,
        }
        if self.secret:
            headers["X-Argus-Signature"] = signature(self.secret, timestamp, body)
        status, text = await self._http.post(self.url, body, timeout, headers)
        if not 200 <= status < 300:
            raise http_error(self.channel, status, text)

    async def close(self) -> None:
        await self._http.close()
