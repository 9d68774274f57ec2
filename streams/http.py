"""The worker's HTTP port: /metrics (Prometheus), /healthz (alive), /readyz (can work)."""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web
from elasticsearch import AsyncElasticsearch
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import SecretStr

from streams.metrics import Metrics
from streams.stack import answers

log = logging.getLogger(__name__)


async def kafka_reachable(bootstrap: str) -> bool:
    """Whether any bootstrap broker accepts a connection (checked off the event loop)."""
    for server in bootstrap.split(","):
        if await asyncio.to_thread(answers, server.strip()):
            return True
    return False


def bearer_token_ok(request: web.Request, expected: bytes) -> bool:
    """Whether the request carries `Authorization: Bearer <expected>`, compared in constant
    time. Surrounding whitespace is ignored on both sides (a token read from a file often
    ends in a newline); an empty token never matches."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    presented = credentials.strip().encode("utf-8", "surrogateescape")
    return (
        scheme.lower() == "bearer" and bool(presented) and hmac.compare_digest(presented, expected)
    )


def make_http_app(
    metrics: Metrics,
    es: AsyncElasticsearch,
    kafka_bootstrap: str,
    token: SecretStr | None = None,
) -> web.Application:
    """The worker's HTTP app. With `token` (ARGUS_METRICS_TOKEN), /metrics asks for it as a
    bearer token; /healthz and /readyz never do: kubelet probes carry no credentials, and
    they tell nothing beyond alive/ready and which server is unreachable."""
    expected = token.get_secret_value().strip().encode() if token is not None else None

    async def metrics_view(request: web.Request) -> web.Response:
        if expected is not None and not bearer_token_ok(request, expected):
            # RFC 6750: no credentials -> the scheme alone; wrong ones -> invalid_token.
            challenge = 'Bearer realm="argus"'
            if "Authorization" in request.headers:
                challenge += ', error="invalid_token"'
            return web.Response(
                status=401, text="401: Unauthorized\n", headers={"WWW-Authenticate": challenge}
            )
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(_: web.Request) -> web.Response:
        # Models are loaded before this server starts; what can fail later is the servers.
        checks = {
            "models": True,
            "kafka": await kafka_reachable(kafka_bootstrap),
            "elasticsearch": await _es_ok(es),
        }
        ok = all(checks.values())
        return web.json_response(
            {"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def _es_ok(es: AsyncElasticsearch) -> bool:
    try:
        return bool(await es.options(request_timeout=2).ping())
    except Exception:  # noqa: BLE001 - any failure means "not ready", with no traceback
        return False


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics and probes on http://%s:%d (/metrics, /healthz, /readyz)", host, port)
    return runner
