"""The one place an Elasticsearch client is built."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from streams.contracts.connections import Endpoints
from streams.contracts.settings import Settings


def plain_json_shim(settings: Settings, endpoints: Endpoints) -> dict[str, Any]:
    """Compatibility shim for the embedded OpenSearch-compatible server.

    elasticsearch-py 9 sends `application/vnd.elasticsearch+json; compatible-with=9`,
    which osmem (and OpenSearch) answer with 406. The client's serverless mode sends
    plain `application/json` instead, which Elasticsearch 8/9 accept too; it is
    switched on only for the embedded stack unless ARGUS_ES_PLAIN_JSON says otherwise.
    """
    plain = settings.es_plain_json if settings.es_plain_json is not None else endpoints.embedded
    return {"server_mode": "serverless"} if plain else {}


def make_client(settings: Settings, endpoints: Endpoints) -> AsyncElasticsearch:
    kwargs: dict[str, Any] = {
        "request_timeout": 30,
        "verify_certs": settings.es_verify_certs,
    }
    if settings.es_ca_certs:
        kwargs["ca_certs"] = str(settings.es_ca_certs)
    if settings.es_api_key:
        kwargs["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password:
        kwargs["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    kwargs.update(plain_json_shim(settings, endpoints))
    return AsyncElasticsearch(endpoints.es_url, **kwargs)
