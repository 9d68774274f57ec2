"""The worker's /metrics, /healthz and /readyz during a real run, and with the search server down.

The worker runs with ARGUS_METRICS_TOKEN: /metrics asks for it, the probes never do."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest

from streams.demo import count_indexed
from streams.produce import produce_lines
from streams.stack import free_port
from tests.integration.test_faults import stop_elasticsearch
from tests.integration.test_pipeline import news, patent

pytestmark = pytest.mark.integration

TOKEN = "integration-metrics-token-0123456789"


def get(url: str, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_metrics_and_probes(stack, start_worker) -> None:
    settings, endpoints = stack
    port = free_port()
    worker = start_worker(ARGUS_METRICS_PORT=str(port), ARGUS_METRICS_TOKEN=TOKEN)
    base = f"http://127.0.0.1:{port}"
    lines = [json.dumps(news(i)).encode() for i in range(20)] + [b"not json"]
    produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", lines, progress=False))
    patents = [json.dumps(patent(i)).encode() for i in range(3)]  # the novelty scorer's input
    produced += asyncio.run(
        produce_lines(endpoints.kafka_bootstrap, "patents", patents, progress=False)
    )
    deadline = time.monotonic() + 60
    while asyncio.run(count_indexed(settings, endpoints, produced)) < 23:
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.3)

    assert get(f"{base}/healthz", token=None)[0] == 200
    status, body = get(f"{base}/readyz", token=None)
    assert status == 200 and json.loads(body)["checks"]["elasticsearch"] is True
    status, body = get(f"{base}/metrics", token=None)
    assert status == 401 and "argus_records_total" not in body
    assert get(f"{base}/metrics", token="wrong-token-0123456789")[0] == 401
    deadline = time.monotonic() + 10  # the last batch's counters land just after its documents
    while 'argus_records_total{outcome="indexed",source="news"} 20.0' not in (
        body := get(f"{base}/metrics")[1]
    ):
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    # Lag is read every 10 s: the first reading may come after the records are done.
    while "argus_consumer_lag{" not in (body := get(f"{base}/metrics")[1]):
        assert time.monotonic() < deadline + 15, body
        time.sleep(0.5)
    for series in (
        'argus_records_total{outcome="consumed",source="news"} 21.0',
        'argus_records_total{outcome="indexed",source="patents"} 3.0',
        'argus_dead_letters_total{source="news",stage="validation"} 1.0',
        "argus_model_seconds_bucket",
        "argus_bulk_seconds_count",
        "argus_batch_records_bucket",
        "argus_batch_tokens_bucket",
        *(
            f'argus_scorer_seconds_count{{scorer="{s}"}}'
            for s in ("encoder", "topic", "sentiment", "portfolio", "novelty")
        ),
        'argus_consumer_lag{partition="0",topic="argus.news"}',
        'argus_consumer_lag{partition="0",topic="argus.patents"}',
        "argus_bulk_item_failures_total",
        "argus_rule_seconds_count",
    ):
        assert series in body, series

    stop_elasticsearch(settings)
    status, body = get(f"{base}/readyz", token=None)
    assert status == 503
    assert json.loads(body)["checks"] == {"models": True, "kafka": True, "elasticsearch": False}
    assert get(f"{base}/healthz", token=None)[0] == 200  # alive, just not ready
