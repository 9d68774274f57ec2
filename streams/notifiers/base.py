"""What every notifier shares: the notification, the delivery loop, a per-channel rate limit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal, Protocol

import aiohttp
from pydantic import BaseModel, Field
from yarl import URL

from indexer.bulk_writer import backoff_seconds
from streams.contracts.schemas import Alert, Severity

log = logging.getLogger(__name__)

INITIAL_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0


def one_line(text: str) -> str:
    """Whitespace runs (newlines included) as one space: titles go into headers and subjects."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# An infringement alert shows its best element <-> passage pairs, each side cut to this.
EVIDENCE_PAIRS = 3
EVIDENCE_CHARS = 240


def match_line(alert: Alert) -> str | None:
    """The matched item in one line: id, kind, owner, title, score, coverage."""
    m = alert.portfolio_item
    if m is None:
        return None
    about = ", ".join(x for x in (m.kind, m.owner and f"owner {m.owner}") if x)
    title = f' "{one_line(m.title)}"' if m.title else ""
    score = (
        f"infringement score {m.infringement_score:g}"
        if m.infringement_score is not None
        else f"similarity {m.score:g}"
    )
    coverage = f", {m.coverage:.0%} of its elements matched" if m.coverage is not None else ""
    return f"{m.item_id} ({about}){title}: {score}{coverage}"


def evidence_pairs(alert: Alert) -> list[tuple[str, str, float]]:
    """The closest (item element, event passage, similarity) pairs, best first; a patent
    filing's passage says which part it comes from ("claim 4: …")."""
    m = alert.portfolio_item
    best = sorted(m.evidence, key=lambda e: -e.similarity)[:EVIDENCE_PAIRS] if m else []
    return [
        (
            shorten(one_line(e.element), EVIDENCE_CHARS),
            shorten(
                one_line(f"{e.section}: {e.passage}" if e.section else e.passage), EVIDENCE_CHARS
            ),
            e.similarity,
        )
        for e in best
    ]


def match_details(alert: Alert) -> dict[str, object] | None:
    """The match as structured fields (PagerDuty custom_details, webhook receivers)."""
    m = alert.portfolio_item
    if m is None:
        return None
    return {
        "item_id": m.item_id,
        "kind": m.kind,
        "owner": m.owner,
        "title": m.title,
        "infringement_score": m.infringement_score,
        "coverage": m.coverage,
        "evidence": [
            {"element": e, "passage": p, "similarity": round(sim, 3)}
            for e, p, sim in evidence_pairs(alert)
        ],
    }


def prior_art_line(alert: Alert) -> str | None:
    """A patent filing's nearest earlier filings in one line, to review beside it."""
    if not alert.prior_art:
        return None
    return ", ".join(f"{p.record_id} ({p.similarity:.2f})" for p in alert.prior_art)


def relation_line(alert: Alert) -> str | None:
    """The relation an alert is about and the sentence that states it, in one line."""
    r = alert.relation
    if r is None:
        return None
    sentence = shorten(one_line(r.sentence), EVIDENCE_CHARS)
    return f'{r.fact()} ({r.score:.2f}): "{sentence}"'


def evidence_text(alert: Alert, indent: str = "  ") -> list[str]:
    """The match and its evidence pairs, the relation, and the prior art, as plain lines:
    e-mail and `argus alerts show`."""
    lines = []
    if (line := match_line(alert)) is not None:
        lines.append(f"{indent}matched item: {line}")
        for element, passage, sim in evidence_pairs(alert):
            lines += [f"{indent}  item ({sim:.2f}): {element}", f"{indent}  text:        {passage}"]
    if (relation := relation_line(alert)) is not None:
        lines.append(f"{indent}relation: {relation}")
    if (earlier := prior_art_line(alert)) is not None:
        lines.append(f"{indent}earlier filings: {earlier}")
    return lines


class GroupUpdate(BaseModel):
    """What an update notification adds to: a group notified before."""

    group_id: str = Field(description="The notification id of the group.")
    lead_alert_id: str | None = Field(
        None, description="The lead alert the group first went out with, if any did."
    )
    size: int = Field(description="The alerts the group holds now, these included.")


class Notification(BaseModel):
    """One message to on-call: one or more alerts of one rule and group."""

    notification_id: str = Field(
        description='Deterministic: the group id, "<group id>:update:<digest of the joining '
        'alert ids>" or "<alert_id>:resolved".'
    )
    action: Literal["trigger", "update", "resolve"] = Field(
        description="update: alerts that joined a group after its notification went out."
    )
    rule: str
    rule_type: str
    severity: Severity
    group: dict[str, str] = Field(description="The labels the alerts are grouped by.")
    alerts: list[Alert] = Field(min_length=1, description="The first is the lead alert.")
    link: str | None = Field(None, description="Where to look, e.g. a Kibana URL.")
    update_of: GroupUpdate | None = Field(None, description="Set for an update.")

    @property
    def lead(self) -> Alert:
        return self.alerts[0]

    @property
    def title(self) -> str:
        status = "RESOLVED" if self.action == "resolve" else self.severity.upper()
        group = ", ".join(f"{k}={v}" for k, v in self.group.items()) or "all"
        if self.update_of is not None:
            joined = f"{len(self.alerts)} more alert{'s' if len(self.alerts) > 1 else ''}"
            return one_line(
                f"[{status}] {self.rule}: {joined} joined {group} ({self.update_of.size} in all)"
            )
        count = f" ({len(self.alerts)} alerts)" if len(self.alerts) > 1 else ""
        return one_line(f"[{status}] {self.rule}: {group}{count}")


class DeliveryError(Exception):
    """One failed attempt; the message names the channel and why."""


class Notifier(Protocol):
    channel: str

    # A per-attempt limit, which callers cannot impose from outside with asyncio.timeout.
    async def send(self, notification: Notification, timeout: float) -> None:  # noqa: ASYNC109
        """Deliver once, within `timeout` seconds; raise DeliveryError on failure."""
        ...

    async def close(self) -> None: ...


class DeliveryResult(BaseModel):
    channel: str
    notification_id: str
    status: Literal["delivered", "failed"]
    attempts: int
    error: str | None = Field(None, description="The last attempt's error, when failed.")
    latency_ms: float = Field(
        description="From the first attempt to the outcome, backoff included."
    )


class RateLimiter:
    """Token bucket: `rate_per_minute` deliveries a minute, in bursts of up to `burst`.

    The default burst is five seconds' worth, 1 to 5: a few groups firing together go out at
    once, a storm is spread out (Slack, for one, drops webhooks above about one a second).
    """

    def __init__(
        self,
        rate_per_minute: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.rate = rate_per_minute / 60.0  # tokens per second
        self.burst = burst if burst is not None else min(5.0, max(1.0, self.rate * 5))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._lock = asyncio.Lock()  # waiters are served in arrival order

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                elapsed = now - self._updated
                self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self.rate)


async def deliver(
    notifier: Notifier,
    notification: Notification,
    *,
    timeout: float,  # noqa: ASYNC109 - per attempt
    retries: int,
    limiter: RateLimiter,
) -> DeliveryResult:
    """Up to `retries` attempts with backoff between them; a failure is returned, never raised."""
    started = time.monotonic()
    error = ""
    attempts = 0
    for attempt in range(max(1, retries)):
        if attempt:
            await asyncio.sleep(backoff_seconds(attempt - 1, INITIAL_BACKOFF_S, MAX_BACKOFF_S))
        await limiter.acquire()
        attempts += 1
        try:
            # The outer bound also covers work a notifier cannot time out itself (a thread).
            await asyncio.wait_for(notifier.send(notification, timeout), timeout)
        except DeliveryError as e:
            error = str(e)
        except TimeoutError:
            error = f"{notifier.channel}: timed out after {timeout:g} s"
        else:
            return DeliveryResult(
                channel=notifier.channel,
                notification_id=notification.notification_id,
                status="delivered",
                attempts=attempts,
                latency_ms=(time.monotonic() - started) * 1000,
            )
        log.warning("delivery attempt %d/%d failed: %s", attempts, retries, error)
    return DeliveryResult(
        channel=notifier.channel,
        notification_id=notification.notification_id,
        status="failed",
        attempts=attempts,
        error=error,
        latency_ms=(time.monotonic() - started) * 1000,
    )


class JsonPoster:
    """A notifier's HTTP side: one aiohttp session, opened on first use (it needs a loop)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._session: aiohttp.ClientSession | None = None

    async def post(
        self,
        url: str,
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - per attempt
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST JSON bytes; (status, response text). Transport failures raise DeliveryError."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": "argus"})
        try:
            async with self._session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **(headers or {})},
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                return response.status, await response.text(errors="replace")
        except TimeoutError as e:
            raise DeliveryError(f"{self.channel}: timed out after {timeout:g} s") from e
        except (aiohttp.ClientError, ValueError) as e:  # ValueError: a malformed URL
            reason = str(e).replace(url, _origin(url))
            raise DeliveryError(f"{self.channel}: {type(e).__name__}: {reason}") from e

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _origin(url: str) -> str:
    """What an error may show of a URL: the path of a Slack webhook URL is its secret."""
    try:
        return str(URL(url).origin())
    except ValueError:
        return "<invalid URL>"


def http_error(channel: str, status: int, text: str) -> DeliveryError:
    return DeliveryError(f"{channel}: HTTP {status} {shorten(one_line(text), 200)}".rstrip())
