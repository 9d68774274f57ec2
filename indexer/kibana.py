"""Import Argus's Kibana saved objects (data views, searches, Lens charts, dashboards).

One POST to Kibana's saved-objects `_import` API, the same call the Kibana UI makes for
"Stack Management > Saved objects > Import".
"""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import BaseModel, Field
from yarl import URL

# Kibana refuses files whose name does not end in .ndjson.
UPLOAD_NAME = "saved-objects.ndjson"


class KibanaImportError(Exception):
    """The import failed: one line naming the URL and why. `summary` is set when Kibana
    answered with per-object errors."""

    def __init__(self, message: str, summary: ImportSummary | None = None) -> None:
        super().__init__(message)
        self.summary = summary


class ImportSummary(BaseModel):
    success: bool
    success_count: int = Field(description="Objects created or overwritten.")
    errors: list[str] = Field(
        default_factory=list, description='One "type/id: message" per object Kibana refused.'
    )


def saved_objects_path() -> Path:
    """The NDJSON shipped in the repository, deploy/kibana/saved-objects.ndjson."""
    return Path(__file__).resolve().parents[1] / "deploy" / "kibana" / "saved-objects.ndjson"


async def import_saved_objects(
    url: str,
    ndjson: Path,
    *,
    username: str | None = None,
    password: str | None = None,
    api_key: str | None = None,
    space: str | None = None,
    overwrite: bool = True,
    ca_file: Path | None = None,
    timeout: float = 30,  # noqa: ASYNC109 - one limit for the whole request, as the CLI passes it
) -> ImportSummary:
    """POST `ndjson` to `{url}[/s/{space}]/api/saved_objects/_import`.

    An API key (the encoded form) wins over basic auth. Raises KibanaImportError when Kibana
    cannot be reached, answers with an HTTP error, or refuses any object.
    """
    base = URL(url)
    if base.scheme not in ("http", "https") or not base.host:
        raise KibanaImportError(f"{url}: not an http(s) URL")
    prefix = f"/s/{space}" if space else ""
    endpoint = base.with_path(f"{base.path.rstrip('/')}{prefix}/api/saved_objects/_import")
    shown = endpoint.with_user(None)  # never put credentials from the URL into a message
    try:
        content = await asyncio.to_thread(ndjson.read_bytes)
    except OSError as e:
        raise KibanaImportError(f"cannot read {ndjson}: {e.strerror}") from None
    try:
        tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    except OSError as e:  # ssl.SSLError is an OSError too: not a PEM bundle
        raise KibanaImportError(f"cannot use {ca_file} as a CA bundle: {e.strerror or e}") from None

    headers = {"kbn-xsrf": "true"}  # Kibana rejects state-changing requests without it
    auth = None
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    elif username:
        auth = aiohttp.BasicAuth(username, password or "")
    form = aiohttp.FormData()
    form.add_field("file", content, filename=UPLOAD_NAME, content_type="application/ndjson")

    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(
                endpoint,
                params={"overwrite": "true"} if overwrite else {},
                data=form,
                headers=headers,
                auth=auth,
                ssl=tls,
            ) as response,
        ):
            status, reason, text = response.status, response.reason, await response.text()
    except TimeoutError:  # before ClientError: aiohttp's timeout errors are both
        raise KibanaImportError(f"{shown}: no answer within {timeout:g} s") from None
    except aiohttp.ClientError as e:
        raise KibanaImportError(f"{shown}: cannot reach Kibana: {_one_line(str(e))}") from None

    body = _json_or_none(text)
    if status >= 400:
        message = body.get("message") if isinstance(body, dict) else None
        detail = message or text.strip() or reason or "no message"
        raise KibanaImportError(f"{shown}: HTTP {status}: {_one_line(detail, 300)}")
    if not isinstance(body, dict) or "success" not in body:
        raise KibanaImportError(
            f"{shown}: HTTP {status}: not an import answer: {_one_line(text, 300)}"
        )

    summary = ImportSummary(
        success=bool(body["success"]),
        success_count=int(body.get("successCount", 0)),
        errors=[_describe(e) for e in body.get("errors", [])],
    )
    if not summary.success:
        refused = len(summary.errors)
        raise KibanaImportError(
            f"{shown}: HTTP {status}: Kibana refused {refused} object(s): "
            + "; ".join(summary.errors),
            summary,
        )
    return summary


def _describe(error: dict[str, Any]) -> str:
    """One refused object as "type/id: message", from Kibana's error shapes."""
    detail = error.get("error", {})
    kind = detail.get("type", "unknown")
    if kind == "missing_references":
        missing = ", ".join(f"{r.get('type')}/{r.get('id')}" for r in detail.get("references", []))
        message = f"missing references: {missing}"
    else:
        message = detail.get("message") or kind.replace("_", " ")
    return f"{error.get('type')}/{error.get('id')}: {_one_line(message)}"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
