"""The worker's HTTP server (/metrics, /healthz, /readyz) on a real port of 127.0.0.1, with
and without ARGUS_METRICS_TOKEN; no Kafka, no Elasticsearch, no models."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from streams.cli import main
from streams.http import make_http_app, serve
from streams.metrics import Metrics
from streams.stack import free_port

TOKEN = "s3cret-token-0123456789abcdef"


class FakeES:
    """Answers the readiness check's ping."""

    def options(self, **_: object) -> FakeES:
        return self

    async def ping(self) -> bool:
        return True


Get = Callable[..., Awaitable[tuple[int, dict[str, str], str]]]


@asynccontextmanager
async def worker_http(token: SecretStr | None) -> AsyncIterator[Get]:
    metrics = Metrics()
    metrics.records.labels("news", "indexed").inc(3)
    port = free_port()
    # The server's own port stands in for a Kafka broker: readiness only needs a TCP answer.
    app = make_http_app(metrics, FakeES(), f"127.0.0.1:{port}", token=token)
    runner: web.AppRunner = await serve(app, "127.0.0.1", port)
    try:
        async with aiohttp.ClientSession() as session:

            async def get(path: str, **headers: str) -> tuple[int, dict[str, str], str]:
                async with session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as r:
                    return r.status, dict(r.headers), await r.text()

            yield get
    finally:
        await runner.cleanup()


async def test_without_a_token_everything_is_open() -> None:
    async with worker_http(None) as get:
        status, _, body = await get("/metrics")
        assert status == 200
        assert 'argus_records_total{outcome="indexed",source="news"} 3.0' in body
        assert (await get("/healthz"))[0] == 200
        status, _, body = await get("/readyz")
        assert status == 200 and json.loads(body)["status"] == "ready"


async def test_with_a_token_metrics_needs_it_and_probes_stay_open() -> None:
    async with worker_http(SecretStr(TOKEN)) as get:
        status, headers, body = await get("/metrics")
        assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="argus"'
        assert "argus_records_total" not in body
        for wrong in (
            f"Bearer {TOKEN}x",
            f"Bearer {TOKEN[:-1]}",
            "Bearer ",
            "Bearer",
            f"Basic {TOKEN}",
            TOKEN,
        ):
            status, headers, body = await get("/metrics", Authorization=wrong)
            assert status == 401, wrong
            assert headers["WWW-Authenticate"].startswith("Bearer "), wrong
            assert "argus_records_total" not in body, wrong
        status, _, body = await get("/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
        assert 'argus_records_total{outcome="indexed",source="news"} 3.0' in body
        # The scheme is case-insensitive (RFC 7235).
        assert (await get("/metrics", Authorization=f"bearer {TOKEN}"))[0] == 200
        # Probes: kubelet sends no credentials.
        assert (await get("/healthz"))[0] == 200
        assert (await get("/readyz"))[0] == 200


async def test_a_token_read_with_a_trailing_newline_still_matches() -> None:
    async with worker_http(SecretStr(TOKEN + "\n")) as get:
        assert (await get("/metrics", Authorization=f"Bearer {TOKEN}"))[0] == 200


async def test_a_blank_token_refuses_everyone() -> None:
    async with worker_http(SecretStr(" " * 16)) as get:
        assert (await get("/metrics"))[0] == 401
        assert (await get("/metrics", Authorization="Bearer "))[0] == 401


def test_the_token_setting_is_redacted_and_checked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARGUS_METRICS_TOKEN", TOKEN)
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert TOKEN not in out
    assert json.loads(out)["metrics_token"] == "**********"
    monkeypatch.setenv("ARGUS_METRICS_TOKEN", "short")
    assert main(["config"]) != 0
    assert "ARGUS_METRICS_TOKEN" in capsys.readouterr().err
