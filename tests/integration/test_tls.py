"""Elasticsearch over TLS, verified against a CA made by the test (trustme).

The embedded search server speaks plain HTTP, so a small TLS-terminating proxy sits in
front of it, as a load balancer would in front of a real cluster.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from elastic_transport import TlsError
from elasticsearch import ConnectionError as ESConnectionError

from indexer.client import make_client
from indexer.templates import install_templates
from streams.contracts.connections import Endpoints
from streams.contracts.settings import Settings
from streams.stack import free_port

pytestmark = pytest.mark.integration


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
def tls_proxy(stack, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """https://127.0.0.1:PORT in front of the embedded server; yields (url, CA file)."""
    _, endpoints = stack
    upstream_port = int(endpoints.es_url.rsplit(":", 1)[1])
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    loop = asyncio.new_event_loop()
    # Refused handshakes are the point of one test, not news.
    loop.set_exception_handler(lambda _loop, _context: None)
    ready = threading.Event()
    stop = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except OSError:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=context)
        ready.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"https://127.0.0.1:{port}", ca_file
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def _install(settings: Settings, url: str) -> list[str]:
    async def run() -> list[str]:
        es = make_client(settings, Endpoints("unused:9092", url, embedded=True))
        try:
            return await install_templates(es)
        finally:
            await es.close()

    return asyncio.run(run())


def test_tls_with_the_right_ca(tls_proxy) -> None:
    url, ca_file = tls_proxy
    assert "argus-events" in _install(Settings(es_ca_certs=ca_file), url)


def test_tls_verification_is_on_by_default(tls_proxy) -> None:
    url, _ = tls_proxy
    with pytest.raises((TlsError, ESConnectionError), match="(?i)certificate"):
        _install(Settings(), url)


def test_verification_can_be_switched_off(tls_proxy) -> None:
    url, _ = tls_proxy
    with pytest.warns(Warning, match="insecure"):  # the client says so, every time
        assert _install(Settings(es_verify_certs=False), url)
