"""A running worker swaps in the head switched in the model store, with no restart."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from indexer.client import make_client
from models import store
from streams.contracts.settings import Settings
from streams.demo import count_indexed
from streams.produce import produce_lines
from tests.integration.test_pipeline import news
from tests.unit.test_model_store import train

pytestmark = pytest.mark.integration


def test_a_running_worker_scores_with_the_head_switched_to(
    stack, start_worker, tiny_models, tmp_path: Path
) -> None:
    settings, endpoints = stack
    # The worker's store (ARGUS_STATE_DIR/models), the encoder it runs.
    trainer = Settings(encoder_path=tiny_models["encoder"], state_dir=settings.state_dir)
    first = train(trainer, tmp_path, 0, task="risk")
    second = train(trainer, tmp_path, 1, task="risk")
    worker = start_worker(ARGUS_MODELS_REFRESH_SECONDS="0.5")
    log = settings.state_dir / "worker-0.log"

    def scored_by(i: int) -> tuple[str, str]:
        """Index news `i`; the risk head version on its event, and in its `models`."""
        line = [json.dumps(news(i)).encode()]
        produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, "news", line, False))
        deadline = time.monotonic() + 60
        while asyncio.run(count_indexed(settings, endpoints, produced)) < 1:
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()
            time.sleep(0.3)

        async def read() -> dict:
            es = make_client(settings, endpoints)
            try:
                found = await es.search(
                    index="argus-events-*", query={"ids": {"values": [f"news:news-{i:05d}"]}}
                )
                return found["hits"]["hits"][0]["_source"]
            finally:
                await es.close()

        doc = asyncio.run(read())
        (head,) = [h for h in doc["scores"]["heads"] if h["name"] == "risk"]
        return head["version"], doc["models"]["risk"]

    assert scored_by(1) == (second, second)
    store.use_version(trainer.store_dir, "risk", first)
    deadline = time.monotonic() + 30
    while f"heads reloaded: {second} -> {first}" not in log.read_text():
        assert time.monotonic() < deadline and worker.poll() is None, log.read_text()
        time.sleep(0.2)
    assert scored_by(2) == (first, first)
