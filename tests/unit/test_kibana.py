"""The Kibana importer against a local stand-in for Kibana's saved-objects `_import` API."""

from __future__ import annotations

import base64
import json
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer

from indexer.kibana import KibanaImportError, import_saved_objects, saved_objects_path

NDJSON = b'{"type": "index-pattern", "id": "a", "attributes": {"title": "a-*"}}\n'


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    field_name: str | None
    filename: str | None
    content: bytes


@dataclass
class FakeKibana:
    """Records every import and answers with `status` and `answer`."""

    url: str = ""
    status: int = 200
    answer: Any = field(default_factory=lambda: {"success": True, "successCount": 1})
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        part = await reader.next()
        self.received.append(
            Received(
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                field_name=part.name if part else None,
                filename=part.filename if part else None,
                content=bytes(await part.read()) if part else b"",
            )
        )
        if isinstance(self.answer, str):
            return web.Response(status=self.status, text=self.answer)
        return web.json_response(self.answer, status=self.status)


async def _serve(kibana: FakeKibana, tls: ssl.SSLContext | None = None) -> TestServer:
    app = web.Application()
    app.router.add_post("/api/saved_objects/_import", kibana.handle)
    app.router.add_post("/s/{space}/api/saved_objects/_import", kibana.handle)
    server = TestServer(app, host="127.0.0.1", scheme="https" if tls else "http")
    await server.start_server(ssl=tls)  # port 0: the OS picks a free one
    kibana.url = str(server.make_url(""))
    return server


@pytest.fixture
async def kibana() -> AsyncIterator[FakeKibana]:
    fake = FakeKibana()
    server = await _serve(fake)
    yield fake
    await server.close()


@pytest.fixture
def ndjson(tmp_path: Path) -> Path:
    path = tmp_path / "objects.ndjson"
    path.write_bytes(NDJSON)
    return path


async def test_the_file_arrives_intact_with_xsrf_and_basic_auth(
    kibana: FakeKibana, ndjson: Path
) -> None:
    summary = await import_saved_objects(kibana.url, ndjson, username="elastic", password="s3cret")
    assert summary.success and summary.success_count == 1 and summary.errors == []
    [got] = kibana.received
    assert got.path == "/api/saved_objects/_import"
    assert got.query == {"overwrite": "true"}
    assert got.field_name == "file"
    assert got.filename == "saved-objects.ndjson"  # Kibana checks the extension
    assert got.content == NDJSON
    assert got.headers["kbn-xsrf"] == "true"
    expected = base64.b64encode(b"elastic:s3cret").decode()
    assert got.headers["Authorization"] == f"Basic {expected}"


async def test_api_key_space_and_no_overwrite(kibana: FakeKibana, ndjson: Path) -> None:
    await import_saved_objects(
        kibana.url + "/", ndjson, api_key="a2V5OnNlY3JldA==", space="ops", overwrite=False
    )
    [got] = kibana.received
    assert got.path == "/s/ops/api/saved_objects/_import"
    assert got.query == {}
    assert got.headers["Authorization"] == "ApiKey a2V5OnNlY3JldA=="


async def test_an_http_error_gives_kibanas_message_on_one_line(
    kibana: FakeKibana, ndjson: Path
) -> None:
    kibana.status = 400
    kibana.answer = {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Invalid file extension .json",
    }
    with pytest.raises(KibanaImportError) as caught:
        await import_saved_objects(kibana.url, ndjson)
    message = str(caught.value)
    assert message == (
        f"{kibana.url}/api/saved_objects/_import: HTTP 400: Invalid file extension .json"
    )


async def test_a_plain_text_error_is_shown_too(kibana: FakeKibana, ndjson: Path) -> None:
    kibana.status = 503
    kibana.answer = "Kibana server is not ready yet\n"
    with pytest.raises(KibanaImportError, match=r"HTTP 503: Kibana server is not ready yet$"):
        await import_saved_objects(kibana.url, ndjson)


async def test_refused_objects_are_listed(kibana: FakeKibana, ndjson: Path) -> None:
    kibana.answer = {
        "success": False,
        "successCount": 1,
        "errors": [
            {
                "id": "argus-viz-x",
                "type": "lens",
                "error": {
                    "type": "missing_references",
                    "references": [{"type": "index-pattern", "id": "argus-events"}],
                },
            },
            {
                "id": "argus-dashboard-overview",
                "type": "dashboard",
                "error": {"type": "unknown", "message": "Bad\nthing", "statusCode": 400},
            },
            {"id": "b", "type": "search", "error": {"type": "conflict"}},
        ],
    }
    with pytest.raises(KibanaImportError) as caught:
        await import_saved_objects(kibana.url, ndjson)
    errors = [
        "lens/argus-viz-x: missing references: index-pattern/argus-events",
        "dashboard/argus-dashboard-overview: Bad thing",
        "search/b: conflict",
    ]
    assert caught.value.summary is not None
    assert caught.value.summary.errors == errors
    assert caught.value.summary.success_count == 1
    assert str(caught.value).endswith("Kibana refused 3 object(s): " + "; ".join(errors))
    assert "\n" not in str(caught.value)


async def test_an_answer_that_is_not_an_import_result_is_an_error(
    kibana: FakeKibana, ndjson: Path
) -> None:
    kibana.answer = "<html>a proxy login page</html>"
    with pytest.raises(KibanaImportError, match="not an import answer: <html>"):
        await import_saved_objects(kibana.url, ndjson)


async def test_connection_refused(ndjson: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://user:pw@127.0.0.1:{port}"
    with pytest.raises(KibanaImportError) as caught:
        await import_saved_objects(url, ndjson)
    message = str(caught.value)
    assert message.startswith(f"http://127.0.0.1:{port}/api/saved_objects/_import: cannot reach")
    assert "pw" not in message


async def test_local_problems_are_import_errors_too(tmp_path: Path, ndjson: Path) -> None:
    with pytest.raises(KibanaImportError, match="cannot read .*missing.ndjson"):
        await import_saved_objects("http://127.0.0.1:1", tmp_path / "missing.ndjson")
    with pytest.raises(KibanaImportError, match="not an http"):
        await import_saved_objects("kibana:5601", ndjson)


async def test_tls_is_verified_against_the_given_ca(ndjson: Path, tmp_path: Path) -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    fake = FakeKibana()
    server = await _serve(fake, server_tls)
    try:
        assert fake.url.startswith("https://")
        with pytest.raises(KibanaImportError, match="cannot reach Kibana: .*certificate"):
            await import_saved_objects(fake.url, ndjson)
        summary = await import_saved_objects(fake.url, ndjson, ca_file=ca_file)
        assert summary.success and len(fake.received) == 1
    finally:
        await server.close()


def test_the_shipped_objects_are_found() -> None:
    path = saved_objects_path()
    assert path.is_file() and path.name == "saved-objects.ndjson"
    assert path.parent.name == "kibana" and path.parent.parent.name == "deploy"


def test_notification_links_open_a_shipped_dashboard() -> None:
    from streams.alerting import kibana_link

    link = kibana_link("http://kibana:5601")
    assert link is not None and "/app/dashboards#/view/" in link
    objects = [json.loads(line) for line in saved_objects_path().read_text().splitlines()]
    dashboards = {o["id"] for o in objects if o["type"] == "dashboard"}
    assert link.rsplit("/view/", 1)[1] in dashboards
