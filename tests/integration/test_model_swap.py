"""A running worker swaps in the head and the encoder switched in the model store, with no
restart."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from models import store
from streams.contracts.settings import Settings
from tests.integration.conftest import scored
from tests.integration.test_pipeline import news
from tests.tiny_models import build_encoder
from tests.unit.test_model_store import train

pytestmark = pytest.mark.integration


def test_a_running_worker_scores_with_the_head_and_encoder_switched_to(
    stack, start_worker, tiny_models, tmp_path: Path
) -> None:
    settings, _ = stack
    # The worker's store (ARGUS_STATE_DIR/models) runs the tiny encoder; heads on it.
    trainer = Settings(state_dir=settings.state_dir)
    root = trainer.store_dir
    encoder = store.keep_encoder(root, tiny_models["encoder"])
    store.use_encoder(root, encoder, running=tiny_models["encoder"])
    first = train(trainer, tmp_path, 0, task="risk")
    second = train(trainer, tmp_path, 1, task="risk")
    # Another encoder, with a risk head of its own trained before the switch.
    other = store.keep_encoder(root, build_encoder(tmp_path / "other-encoder", seed=1))
    on_other = Settings(encoder_path=store.encoder_versions(root)[other], state_dir=root.parent)
    train(on_other, tmp_path, 2, task="risk")  # kept, not run: it returns the running head
    (third,) = set(store.versions(root, "risk")) - {first, second}
    worker = start_worker(ARGUS_MODELS_REFRESH_SECONDS="0.5", ARGUS_ENCODER_PATH="")
    log = settings.state_dir / "worker-0.log"

    def switched(change: str) -> None:
        deadline = time.monotonic() + 60
        while change not in log.read_text():
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()
            time.sleep(0.2)

    def scored_by(i: int) -> tuple[str, str, str]:
        """Index news `i`; the risk head version on its event, in its `models`, and the
        encoder there."""
        event = f"news:news-{i:05d}"
        doc = scored(stack, worker, "news", [news(i)], [event])[event]
        (head,) = [h for h in doc["scores"]["heads"] if h["name"] == "risk"]
        return head["version"], doc["models"]["risk"], doc["models"]["encoder"]

    assert scored_by(1) == (second, second, encoder)
    store.use_version(root, "risk", first)
    switched(f"models reloaded: {second} -> {first}")
    assert scored_by(2) == (first, first, encoder)
    store.use_encoder(root, other, running=tiny_models["encoder"])
    switched(f"{encoder} -> {other}")
    assert scored_by(3) == (third, third, other)
