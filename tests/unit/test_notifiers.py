"""Notifiers against local servers: HTTP (aiohttp) for webhook, Slack and PagerDuty; SMTP
(aiosmtpd, STARTTLS with a trustme CA, AUTH) for e-mail. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from streams.contracts.schemas import Alert, Severity
from streams.contracts.settings import Settings
from streams.notifiers import base
from streams.notifiers.base import (
    DeliveryResult,
    Notification,
    Notifier,
    RateLimiter,
    deliver,
)
from streams.notifiers.channels import (
    CHANNELS,
    channel_hint,
    close_notifiers,
    configured_notifiers,
)
from streams.notifiers.email import EmailNotifier, message_id
from streams.notifiers.pagerduty import PagerDutyNotifier, pagerduty_event
from streams.notifiers.slack import SlackNotifier, slack_message
from streams.notifiers.webhook import WebhookNotifier, signature, verify_signature

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SECRET = b"webhook-secret"


def make_alert(i: int = 0, **overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "alert_id": f"negative-surge:{i:04d}",
        "rule": "negative-surge",
        "rule_type": "surge",
        "severity": "high",
        "timestamp": NOW,
        "fired_at": NOW,
        "group": {"entity": "Voltaris Energy"},
        "window_start": NOW,
        "window_end": NOW,
        "figures": {"count": 12, "zscore": 3.5},
        "summary": "12 negative mentions of Voltaris Energy in 10 min (baseline 2)",
        "evidence": ["social:1", "news:2"],
        "representatives": ["Voltaris Energy recalls its home batteries", "Voltaris shares slump"],
        "top_terms": ["recall", "battery"],
        "source": "social",
    }
    return Alert(**(fields | overrides))


def make_notification(
    action: str = "trigger",
    alerts: int | list[Alert] = 1,
    severity: Severity = "high",
    **overrides: Any,
) -> Notification:
    if isinstance(alerts, int):
        alerts = [make_alert(i, severity=severity) for i in range(alerts)]
    fields: dict[str, Any] = {
        "notification_id": "group-7f3a",
        "action": action,
        "rule": "negative-surge",
        "rule_type": "surge",
        "severity": severity,
        "group": {"entity": "Voltaris Energy"},
        "alerts": alerts,
        "link": "http://kibana.test/app/discover#/?q=voltaris",
    }
    return Notification(**(fields | overrides))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "INITIAL_BACKOFF_S", 0.01)


def limiter() -> RateLimiter:
    return RateLimiter(60_000, burst=100)


# --- HTTP ---------------------------------------------------------------------------------


class Receiver:
    """Answers each POST with the next scripted status (the last one repeats); None hangs."""

    def __init__(self, *replies: int | None, text: str = "ok") -> None:
        self.replies = list(replies)
        self.text = text
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        status = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if status is None:
            await asyncio.sleep(30)  # cancelled when the server shuts down
        return web.Response(status=status or 200, text=self.text)

    def json(self, i: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[i][1])


Serve = Callable[[Receiver], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def start(receiver: Receiver) -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", receiver)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=0.1).start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}/hook"

    yield start
    for runner in runners:
        await runner.cleanup()


def test_title() -> None:
    assert (
        make_notification(alerts=3).title
        == "[HIGH] negative-surge: entity=Voltaris Energy (3 alerts)"
    )
    assert make_notification("resolve").title == "[RESOLVED] negative-surge: entity=Voltaris Energy"
    # One line whatever the labels hold: it becomes a mail subject and a Slack header.
    assert "\n" not in make_notification(group={"entity": "Volt\naris"}).title


def test_notification_needs_an_alert() -> None:
    with pytest.raises(ValueError):
        make_notification(alerts=0)


def test_verify_signature() -> None:
    body, ts = b'{"a": 1}', "1700000000"
    header = signature(SECRET, ts, body)
    assert verify_signature(SECRET, ts, body, header, now=1700000010)
    assert not verify_signature(SECRET, ts, b'{"a": 2}', header, now=1700000010)
    assert not verify_signature(b"other", ts, body, header, now=1700000010)
    assert not verify_signature(SECRET, ts, body, header, now=1700000000 + 301)
    assert not verify_signature(SECRET, ts, body, header, now=1700000000 - 301)
    assert not verify_signature(SECRET, "soon", body, header, now=1700000010)
    assert not verify_signature(SECRET, ts, body, header.removeprefix("sha256="), now=1700000010)
    assert not verify_signature(SECRET, ts, body, "sha256=é", now=1700000010)


async def test_webhook_signed(serve: Serve) -> None:
    receiver = Receiver(204)
    notifier = WebhookNotifier(await serve(receiver), SECRET)
    notification = make_notification(alerts=2)
    result = await deliver(notifier, notification, timeout=2, retries=1, limiter=limiter())
    await notifier.close()

    assert result.status == "delivered" and result.attempts == 1 and result.error is None
    headers, body = receiver.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Argus-Notification-Id"] == "group-7f3a"
    ts, sig = headers["X-Argus-Timestamp"], headers["X-Argus-Signature"]
    assert abs(int(ts) - time.time()) < 5
    assert verify_signature(SECRET, ts, body, sig)
    assert not verify_signature(SECRET, ts, body.replace(b"Voltaris", b"Voltarix"), sig)
    assert not verify_signature(SECRET, ts, body, sig, now=int(ts) + 301)
    assert Notification.model_validate_json(body) == notification


async def test_webhook_unsigned_without_secret(serve: Serve) -> None:
    receiver = Receiver(200)
    notifier = WebhookNotifier(await serve(receiver))
    await notifier.send(make_notification(), timeout=2)
    await notifier.close()
    assert "X-Argus-Signature" not in receiver.requests[0][0]


async def test_slack_blocks(serve: Serve) -> None:
    receiver = Receiver(200)
    notifier = SlackNotifier(await serve(receiver))
    long_text = "<!channel> " + "x" * 1000
    notification = make_notification(
        # The lead carries a long and hostile representative.
        alerts=[make_alert(1, representatives=[long_text, "b", "c", "d"]), make_alert(0)],
    )
    await notifier.send(notification, timeout=2)
    await notifier.close()

    message = receiver.json()
    assert message["text"] == notification.title
    header, fields, texts, actions = message["blocks"]
    assert header["type"] == "header" and header["text"]["text"].startswith("[HIGH] negative-surge")
    assert len(header["text"]["text"]) <= 150
    labels = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in fields["fields"]}
    assert labels["*Severity*"] == "high"
    assert labels["*Group*"] == "entity: Voltaris Energy"
    assert labels["*Rule type*"] == "surge"
    assert labels["*Status*"] == "firing"
    assert labels["*Figures*"] == "count=12, zscore=3.5"
    body = texts["text"]["text"]
    assert body.startswith("12 negative mentions") and len(body) <= 3000
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body  # no pings from event texts
    assert body.count("\n> ") == 3  # three representatives at most
    assert actions["elements"][0]["url"] == notification.link


def test_slack_without_link() -> None:
    blocks = slack_message(make_notification(link=None))["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section"]


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("critical", "critical"),
        ("high", "error"),
        ("medium", "warning"),
        ("low", "info"),
        ("info", "info"),
    ],
)
def test_pagerduty_severity(severity: Severity, expected: str) -> None:
    event = pagerduty_event(make_notification(severity=severity), "key")
    assert event["payload"]["severity"] == expected


async def test_pagerduty_trigger_and_resolve(serve: Serve) -> None:
    receiver = Receiver(202, text='{"status":"success","message":"Event processed"}')
    notifier = PagerDutyNotifier("r" * 32, await serve(receiver))
    trigger = make_notification(alerts=2)
    resolve = make_notification("resolve", notification_id="negative-surge:0000:resolved", alerts=1)
    for notification in (trigger, resolve):
        result = await deliver(notifier, notification, timeout=2, retries=1, limiter=limiter())
        assert result.status == "delivered"
    await notifier.close()

    sent, resolved = receiver.json(0), receiver.json(1)
    assert sent["routing_key"] == "r" * 32
    assert sent["event_action"] == "trigger"
    assert sent["dedup_key"] == resolved["dedup_key"] == "negative-surge:0000"
    payload = sent["payload"]
    assert payload["source"] == "argus" and payload["severity"] == "error"
    assert payload["component"] == "negative-surge" and payload["group"] == "surge"
    assert payload["summary"].startswith("[HIGH] negative-surge: entity=Voltaris Energy")
    assert payload["timestamp"] == NOW.isoformat()
    details = payload["custom_details"]
    assert details["alert_ids"] == ["negative-surge:0000", "negative-surge:0001"]
    assert details["figures"] == {"count": 12, "zscore": 3.5}
    assert details["group"] == {"entity": "Voltaris Energy"}
    assert details["top_terms"] == ["recall", "battery"]
    assert details["representatives"] == trigger.alerts[0].representatives
    assert sent["links"] == [{"href": trigger.link, "text": "Kibana"}]
    assert resolved == {
        "routing_key": "r" * 32,
        "event_action": "resolve",
        "dedup_key": "negative-surge:0000",
    }


def test_pagerduty_summary_is_capped() -> None:
    notification = make_notification(alerts=[make_alert(summary="y" * 5000)])
    assert len(pagerduty_event(notification, "k")["payload"]["summary"]) == 1024


async def test_pagerduty_refusal_names_the_reason(serve: Serve) -> None:
    refusal = {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    }
    receiver = Receiver(400, text=json.dumps(refusal))
    notifier = PagerDutyNotifier("short", await serve(receiver))
    result = await deliver(notifier, make_notification(), timeout=2, retries=1, limiter=limiter())
    await notifier.close()
    assert result.status == "failed"
    assert result.error == (
        "pagerduty: HTTP 400 Event object is invalid; "
        "Length of 'routing_key' is incorrect (should be 32 characters)"
    )


async def test_retries_until_delivered(serve: Serve) -> None:
    receiver = Receiver(500, 500, 200)
    notifier = WebhookNotifier(await serve(receiver))
    result = await deliver(notifier, make_notification(), timeout=2, retries=3, limiter=limiter())
    await notifier.close()
    assert (result.status, result.attempts, result.error) == ("delivered", 3, None)
    ids = {headers["X-Argus-Notification-Id"] for headers, _ in receiver.requests}
    assert ids == {"group-7f3a"}  # the same id on every retry: receivers dedupe on it


async def test_gives_up_without_raising(serve: Serve) -> None:
    receiver = Receiver(500, text="database is down")
    notifier = SlackNotifier(await serve(receiver))
    result = await deliver(notifier, make_notification(), timeout=2, retries=3, limiter=limiter())
    await notifier.close()
    assert result.status == "failed" and result.attempts == 3 == len(receiver.requests)
    assert result.error == "slack: HTTP 500 database is down"
    assert result.channel == "slack" and result.notification_id == "group-7f3a"


async def test_timeout_is_a_failed_attempt(serve: Serve) -> None:
    receiver = Receiver(None, 200)
    notifier = WebhookNotifier(await serve(receiver))
    result = await deliver(notifier, make_notification(), timeout=0.2, retries=2, limiter=limiter())
    assert (result.status, result.attempts) == ("delivered", 2)

    receiver.replies = [None]
    result = await deliver(notifier, make_notification(), timeout=0.2, retries=2, limiter=limiter())
    await notifier.close()
    assert (result.status, result.attempts) == ("failed", 2)
    assert result.error is not None and "timed out" in result.error
    assert 400 <= result.latency_ms < 2000


async def test_unreachable_does_not_leak_the_url() -> None:
    notifier = SlackNotifier(f"http://127.0.0.1:{free_port()}/services/T0/B0/SECRETPATH")
    result = await deliver(notifier, make_notification(), timeout=2, retries=2, limiter=limiter())
    await notifier.close()
    assert result.status == "failed" and result.attempts == 2
    assert result.error is not None and result.error.startswith("slack: ")
    assert "SECRETPATH" not in result.error


@pytest.mark.parametrize("url", ["hooks.slack.test/services/SECRETPATH", "http://[::1/SECRETPATH"])
async def test_malformed_url_is_a_failed_delivery(url: str) -> None:
    notifier = SlackNotifier(url)
    result = await deliver(notifier, make_notification(), timeout=2, retries=1, limiter=limiter())
    await notifier.close()
    assert result.status == "failed"
    assert result.error is not None and "SECRETPATH" not in result.error


# --- Rate limiting ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_rate_limiter_spacing() -> None:
    clock = FakeClock()
    bucket = RateLimiter(30, burst=2, clock=clock, sleep=clock.sleep)  # one every 2 s
    granted = []
    for _ in range(5):
        await bucket.acquire()
        granted.append(clock.now)
    assert granted == pytest.approx([0, 0, 2, 4, 6])

    clock.now += 60  # idle time refills the bucket, up to the burst only
    for _ in range(3):
        await bucket.acquire()
        granted.append(clock.now)
    assert granted[5:] == pytest.approx([66, 66, 68])


def test_rate_limiter_default_burst() -> None:
    assert RateLimiter(60).burst == 5
    assert RateLimiter(6).burst == 1
    with pytest.raises(ValueError):
        RateLimiter(0)


async def test_real_clock_spacing() -> None:
    bucket = RateLimiter(1200, burst=1)  # one every 50 ms
    started = time.monotonic()
    for _ in range(4):
        await bucket.acquire()
    assert time.monotonic() - started >= 0.14


class CountingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(60_000, burst=100)
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1
        await super().acquire()


async def test_limiter_is_acquired_before_each_attempt(serve: Serve) -> None:
    notifier = WebhookNotifier(await serve(Receiver(503, 503, 200)))
    counting = CountingLimiter()
    result = await deliver(notifier, make_notification(), timeout=2, retries=5, limiter=counting)
    await notifier.close()
    assert result.attempts == counting.acquired == 3


# --- Channels -----------------------------------------------------------------------------


def test_configured_notifiers() -> None:
    assert configured_notifiers(Settings()) == {}
    # E-mail needs recipients as well as a server.
    assert configured_notifiers(Settings(smtp_host="mail.test")) == {}

    notifiers = configured_notifiers(
        Settings(
            webhook_url="http://hooks.test/argus",
            webhook_secret="s",
            slack_webhook_url="https://hooks.slack.test/services/x",
            pagerduty_routing_key="r" * 32,
            smtp_host="mail.test",
            smtp_to=["oncall@example.com"],
            smtp_password="p",
        )
    )
    assert tuple(notifiers) == CHANNELS
    assert {name: n.channel for name, n in notifiers.items()} == {c: c for c in CHANNELS}
    webhook, slack, pagerduty, mail = notifiers.values()
    assert isinstance(webhook, WebhookNotifier) and webhook.secret == b"s"
    assert isinstance(slack, SlackNotifier)
    assert slack.webhook_url == "https://hooks.slack.test/services/x"
    assert isinstance(pagerduty, PagerDutyNotifier) and pagerduty.routing_key == "r" * 32
    assert isinstance(mail, EmailNotifier) and mail.password == "p"
    assert mail.recipients == ["oncall@example.com"]


def test_channel_hint() -> None:
    assert channel_hint("slack") == "set ARGUS_SLACK_WEBHOOK_URL"
    assert all(channel_hint(c).startswith("set ARGUS_") for c in CHANNELS)
    assert (
        channel_hint("sms") == "'sms' is not a channel; use one of webhook, slack, pagerduty, email"
    )


async def test_close_notifiers(serve: Serve) -> None:
    url = await serve(Receiver(200))
    notifiers: dict[str, Notifier] = {
        "webhook": WebhookNotifier(url),
        "slack": SlackNotifier(url),
    }
    for notifier in notifiers.values():
        await notifier.send(make_notification(), timeout=2)
    await close_notifiers(notifiers)
    await close_notifiers(notifiers)  # twice is harmless
    # A closed notifier opens a fresh session if used again.
    await notifiers["slack"].send(make_notification(), timeout=2)
    await close_notifiers(notifiers)


# --- E-mail -------------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler and authenticator: keeps what arrives and every login tried."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def authenticate(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"argus", b"s3cret")
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def smtp_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("smtp") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


@pytest.fixture
def smtp_server(smtp_tls: tuple[ssl.SSLContext, Path]) -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        ready_timeout=10,
        tls_context=smtp_tls[0],
        require_starttls=True,
        authenticator=mailbox.authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    yield mailbox, controller.port
    controller.stop()


def email_notifier(port: int, ca_file: Path | None, password: str) -> EmailNotifier:
    return EmailNotifier(
        "127.0.0.1",
        port,
        sender="argus@argus.test",
        recipients=["oncall@example.com", "sre@example.com"],
        ca_file=ca_file,
        username="argus",
        password=password,
    )


async def test_email_over_starttls_with_auth(
    smtp_server: tuple[Mailbox, int], smtp_tls: tuple[ssl.SSLContext, Path]
) -> None:
    mailbox, port = smtp_server
    notification = make_notification(alerts=2)
    notifier = email_notifier(port, smtp_tls[1], "s3cret")
    result = await deliver(notifier, notification, timeout=5, retries=1, limiter=limiter())
    await notifier.close()

    assert result.status == "delivered", result.error
    assert mailbox.logins == [(b"argus", b"s3cret")]
    (envelope,) = mailbox.envelopes
    assert envelope.mail_from == "argus@argus.test"
    assert envelope.rcpt_tos == ["oncall@example.com", "sre@example.com"]
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "[HIGH] negative-surge: entity=Voltaris Energy (2 alerts)"
    assert message["Message-ID"] == message_id(notification, "argus@argus.test")
    assert message["Message-ID"].endswith("@argus.test>")
    body = message.get_content()
    assert "Alert 1 of 2: 12 negative mentions of Voltaris Energy" in body
    assert "id: negative-surge:0001" in body
    assert "figures: count=12, zscore=3.5" in body
    assert "- Voltaris Energy recalls its home batteries" in body
    assert f"Open in Kibana: {notification.link}" in body


async def test_email_wrong_password_fails(
    smtp_server: tuple[Mailbox, int], smtp_tls: tuple[ssl.SSLContext, Path]
) -> None:
    mailbox, port = smtp_server
    notifier = email_notifier(port, smtp_tls[1], "wrong")
    result = await deliver(notifier, make_notification(), timeout=5, retries=1, limiter=limiter())
    assert result.status == "failed" and mailbox.envelopes == []
    assert result.error is not None and result.error.startswith("email: SMTPAuthenticationError")


async def test_email_untrusted_certificate_fails(smtp_server: tuple[Mailbox, int]) -> None:
    _, port = smtp_server
    notifier = email_notifier(port, None, "s3cret")  # the system CAs: not the test CA
    result = await deliver(notifier, make_notification(), timeout=5, retries=1, limiter=limiter())
    assert result.status == "failed"
    assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error


def test_message_id_is_deterministic() -> None:
    one, other = make_notification(), make_notification(alerts=2)
    assert message_id(one, "a@b.test") == message_id(make_notification(), "a@b.test")
    # Same group, more alerts: a new message, which mail services must not drop as a repeat.
    assert message_id(one, "a@b.test") != message_id(other, "a@b.test")


def test_delivery_result_shape() -> None:
    result = DeliveryResult(
        channel="slack", notification_id="n", status="failed", attempts=3, latency_ms=1.0
    )
    assert result.error is None


def infringement_alert() -> Alert:
    from streams.contracts.schemas import Evidence, PortfolioMatch

    match = PortfolioMatch(
        item_id="tm-001",
        kind="trademark",
        owner="Brightwell Coffee",
        title="Wake up to something brighter",
        score=0.97,
        infringement_score=99.4,
        coverage=1.0,
        evidence=[
            Evidence(
                element="Small-batch beans, roasted at dawn.",
                passage="beans <roasted>",
                similarity=0.91,
            ),
            Evidence(
                element="Wake up to something brighter.",
                passage="wake up brighter",
                similarity=0.98,
            ),
        ],
    )
    return make_alert(rule="portfolio-infringement", rule_type="threshold", portfolio_item=match)


def test_infringement_evidence_reaches_every_channel() -> None:
    alert = infringement_alert()
    note = Notification(
        notification_id="n", action="trigger", rule=alert.rule, rule_type="threshold",
        severity="high", group={"portfolio.item_id": "tm-001"}, alerts=[alert],
    )  # fmt: skip
    header = 'tm-001 (trademark, owner Brightwell Coffee) "Wake up to something brighter"'
    # Slack: its own section, best pair first, the event's text escaped.
    section = slack_message(note)["blocks"][-1]["text"]["text"]
    assert header in section and "infringement score 99.4" in section
    assert section.index("wake up brighter") < section.index("beans &lt;roasted&gt;")
    # PagerDuty: structured, for the incident's details pane.
    details = pagerduty_event(note, "key")["payload"]["custom_details"]["portfolio_match"]
    assert details["item_id"] == "tm-001" and details["evidence"][0]["similarity"] == 0.98
    # E-mail and `argus alerts show`: readable lines.
    from streams.notifiers.email import email_body

    body = email_body(note)
    assert header in body and "item (0.98): Wake up to something brighter." in body
    # The webhook sends the whole notification: every evidence pair is in it.
    assert "wake up brighter" in note.model_dump_json()
    # Other alerts carry none of it.
    assert "matched item" not in email_body(make_notification())
    assert (
        "portfolio_match"
        not in pagerduty_event(make_notification(), "k")["payload"]["custom_details"]
    )


def test_a_patent_alert_names_the_claim_and_the_earlier_filings() -> None:
    from streams.contracts.schemas import PriorArt
    from streams.notifiers.email import email_body

    alert = infringement_alert()
    assert alert.portfolio_item is not None
    alert.portfolio_item.evidence[1].section = "claim 4"
    alert = alert.model_copy(
        update={
            "prior_art": [
                PriorArt(record_id="US-2025-0000007-A1", similarity=0.97),
                PriorArt(record_id="US-2024-0000003-A1", similarity=0.91),
            ]
        }
    )
    note = Notification(
        notification_id="n", action="trigger", rule=alert.rule, rule_type="threshold",
        severity="high", group={"portfolio.item_id": "tm-001"}, alerts=[alert],
    )  # fmt: skip
    earlier = "US-2025-0000007-A1 (0.97), US-2024-0000003-A1 (0.91)"
    body = email_body(note)
    assert "text:        claim 4: wake up brighter" in body
    assert f"earlier filings: {earlier}" in body
    assert earlier in slack_message(note)["blocks"][-1]["text"]["text"]
    details = pagerduty_event(note, "key")["payload"]["custom_details"]
    assert details["prior_art"][0] == {"record_id": "US-2025-0000007-A1", "similarity": 0.97}
    assert details["portfolio_match"]["evidence"][0]["passage"] == "claim 4: wake up brighter"


def test_a_relation_alert_shows_the_parties_and_the_sentence() -> None:
    from streams.contracts.schemas import Relation
    from streams.notifiers.email import email_body

    relation = Relation(
        subject="Tidewater Bank",
        relation="litigation",
        object="Voltaris Energy",
        score=0.93,
        sentence="Tidewater Bank sued Voltaris Energy over its <grid> patents.",
        watched=True,
    )
    alert = make_alert(rule="watched-litigation", rule_type="threshold", relation=relation)
    note = Notification(
        notification_id="n", action="trigger", rule=alert.rule, rule_type="threshold",
        severity="high", group={"relation.subject": "Tidewater Bank"}, alerts=[alert],
    )  # fmt: skip
    line = 'Tidewater Bank -litigation-> Voltaris Energy (0.93): "Tidewater Bank sued'
    assert f"relation: {line}" in email_body(note)
    assert "&lt;grid&gt;" in slack_message(note)["blocks"][-1]["text"]["text"]
    details = pagerduty_event(note, "key")["payload"]["custom_details"]["relation"]
    assert details["subject"] == "Tidewater Bank" and details["score"] == 0.93
    assert "relation" not in pagerduty_event(make_notification(), "k")["payload"]["custom_details"]
