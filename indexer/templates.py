"""Composable index templates shipped as JSON files beside this module."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from elasticsearch import AsyncElasticsearch


def load_templates() -> dict[str, dict[str, Any]]:
    folder = resources.files("indexer") / "templates"
    return {
        f.name.removesuffix(".json"): json.loads(f.read_text())
        for f in folder.iterdir()
        if f.name.endswith(".json")
    }


async def install_templates(es: AsyncElasticsearch) -> list[str]:
    """Put every template (idempotent: a put replaces the previous version)."""
    names = []
    for name, body in load_templates().items():
        await es.indices.put_index_template(name=name, **body)
        names.append(name)
    return names
