"""Versions of a head in the model store, switched by `argus models use`/`rollback` and
swapped into a running engine between batches."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path

import pytest

from models import store
from models.engine import ScoringEngine
from models.loading import ModelLoadError
from models.store import CARD_FILE, HEAD_FILE, read_card
from streams import model_commands as commands
from streams.contracts.settings import Settings
from tests.tiny_models import build_encoder
from tests.unit.test_training import labelled_file, settings_for


def train(settings: Settings, tmp_path: Path, seed: int, task: str = "sentiment") -> str:
    assert commands.cmd_train(settings, task, labelled_file(tmp_path), "text", "label", seed) == 0
    return read_card(settings.store_dir / task).version


@pytest.fixture
def no_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "SHIPPED_HEADS", tmp_path / "shipped")


def running(settings: Settings, task: str = "sentiment") -> str:
    return read_card(settings.store_dir / task).version


def test_use_and_rollback_move_between_kept_versions(
    tiny_models, tmp_path: Path, no_shipped
) -> None:
    settings = settings_for(tiny_models, tmp_path)
    first, second = train(settings, tmp_path, 0), train(settings, tmp_path, 1)
    assert first != second and running(settings) == second
    assert set(store.versions(settings.store_dir, "sentiment")) == {first, second}

    assert commands.cmd_models_use(settings, f"sentiment@{first.split('@')[1]}") == 0
    assert running(settings) == first
    assert commands.cmd_models_rollback(settings, "sentiment") == 0
    assert running(settings) == second  # back to what ran before the switch
    assert commands.cmd_models_rollback(settings, "sentiment") == 0
    assert running(settings) == first  # and before that, the first training
    with pytest.raises(ModelLoadError, match="no earlier sentiment head"):
        commands.cmd_models_rollback(settings, "sentiment")
    with pytest.raises(ModelLoadError, match="no head sentiment-head@0000 .*versions: "):
        commands.cmd_models_use(settings, "sentiment@0000")
    with pytest.raises(ModelLoadError, match="not TASK@VERSION"):
        commands.cmd_models_use(settings, "sentiment")


def test_a_head_saved_before_versions_were_kept_can_be_rolled_back_to(
    tiny_models, tmp_path: Path, no_shipped
) -> None:
    settings = settings_for(tiny_models, tmp_path)
    old = train(settings, tmp_path, 0)
    folder = settings.store_dir / "sentiment"
    shutil.rmtree(folder / store.VERSIONS_DIR)
    (folder / store.HISTORY_FILE).unlink()
    train(settings, tmp_path, 1)
    store.rollback(settings.store_dir, "sentiment")
    assert running(settings) == old


def test_a_head_whose_weights_its_card_does_not_name_is_refused(
    tiny_models, tmp_path: Path, no_shipped
) -> None:
    settings = settings_for(tiny_models, tmp_path)
    first = train(settings, tmp_path, 0)
    train(settings, tmp_path, 1)
    folder = settings.store_dir / "sentiment"
    # What a reader sees between `argus models use`'s two renames.
    shutil.copyfile(folder / store.VERSIONS_DIR / first / HEAD_FILE, folder / HEAD_FILE)
    with pytest.raises(ModelLoadError, match="not the head its card names"):
        store.load_head(folder)
    assert (folder / CARD_FILE).is_file()


def test_a_running_engine_swaps_in_switched_heads_between_batches(
    tiny_models, tmp_path: Path, no_shipped
) -> None:
    settings = Settings(encoder_path=tiny_models["encoder"], model_store=tmp_path / "store")
    first = train(settings, tmp_path, 0)
    engine = ScoringEngine.from_settings(settings, portfolio_items=[])

    async def scenario() -> None:
        assert await engine.reload_models(settings) == []  # nothing changed
        second = train(settings, tmp_path, 1)
        risk = train(settings, tmp_path, 0, task="risk")
        # A batch already waiting for the model thread is scored before the swap.
        loop = asyncio.get_running_loop()
        gate = threading.Event()
        busy = loop.run_in_executor(None, engine.on_model_thread, gate.wait)
        in_flight = asyncio.ensure_future(engine.score(["profit and growth"] * 4))
        # Tokenised on the tokeniser thread, then queued behind the busy model thread.
        while not engine._model._waiting:  # noqa: ASYNC110 - another thread's state
            await asyncio.sleep(0.01)
        # The swap joins the model thread's queue behind the batch, whenever it gets there.
        swapping = asyncio.ensure_future(engine.reload_models(settings))
        gate.set()
        await busy
        changed = await swapping
        assert set(changed) == {f"{first} -> {second}", f"risk -> {risk}"}
        before = (await in_flight)[0]
        assert before.models["sentiment"] == first and "risk" not in before.models
        after = (await engine.score(["profit and growth"]))[0]
        assert after.models["sentiment"] == second
        assert [h.version for h in after.heads] == [risk]
        store.rollback(settings.store_dir, "sentiment")
        assert await engine.reload_models(settings) == [f"{second} -> {first}"]

    try:
        asyncio.run(scenario())
    finally:
        engine.close()


@pytest.fixture
def two_encoders(tmp_path: Path) -> tuple[Path, Path]:
    return build_encoder(tmp_path / "enc-a", seed=0), build_encoder(tmp_path / "enc-b", seed=1)


def test_an_encoder_switch_takes_every_head_to_its_own_for_that_encoder(
    two_encoders, tmp_path: Path, no_shipped
) -> None:
    a, b = two_encoders
    on_a = Settings(model_store=tmp_path / "store", device="cpu")  # the store's encoder
    root = on_a.store_dir
    version_a = store.keep_encoder(root, a)
    store.use_encoder(root, version_a, running=a)
    head_a = train(on_a, tmp_path, 0)
    version_b = store.keep_encoder(root, b)
    # A head for b, trained before the switch: kept, not run (workers still run a).
    with pytest.raises(ModelLoadError, match=r"no sentiment head trained on enc-b@"):
        store.use_encoder(root, version_b, running=a)
    on_b = Settings(encoder_path=store.encoder_versions(root)[version_b], model_store=root)
    train(on_b, tmp_path, 1)
    assert running(on_a) == head_a
    (head_b,) = [v for v in store.versions(root, "sentiment") if v != head_a]

    assert commands.cmd_models_use(on_a, f"encoder@{version_b.split('@')[1][:6]}") == 0
    assert store.active_encoder_version(root) == version_b
    assert running(on_a) == head_b
    assert commands.cmd_models_rollback(on_a, "encoder") == 0
    assert (store.active_encoder_version(root), running(on_a)) == (version_a, head_a)
    with pytest.raises(ModelLoadError, match="no single encoder 'ffff'"):
        commands.cmd_models_use(on_a, "encoder@ffff")


def test_a_running_engine_swaps_in_the_switched_encoder_between_batches(
    two_encoders, tmp_path: Path, no_shipped
) -> None:
    a, b = two_encoders
    settings = Settings(model_store=tmp_path / "store", device="cpu")
    root = settings.store_dir
    version_a, version_b = store.keep_encoder(root, a), store.keep_encoder(root, b)
    store.use_encoder(root, version_a, running=a)
    engine = ScoringEngine.from_settings(settings, portfolio_items=[])
    texts = ["profit and growth", "a lawsuit over patents"]

    async def scenario() -> None:
        stale = engine.prepare(texts)  # tokenised by a, scored after the swap
        loop = asyncio.get_running_loop()
        gate = threading.Event()
        busy = loop.run_in_executor(None, engine.on_model_thread, gate.wait)
        in_flight = asyncio.ensure_future(engine.score(texts))
        while not engine._model._waiting:  # noqa: ASYNC110 - another thread's state
            await asyncio.sleep(0.01)
        store.use_encoder(root, version_b, running=a)
        swapping = asyncio.ensure_future(engine.reload_models(settings))
        gate.set()
        await busy
        assert f"{version_a} -> {version_b}" in await swapping
        assert all(s.models["encoder"] == version_a for s in await in_flight)
        after = engine.on_model_thread(lambda: engine.score_batch(stale))
        assert all(s.models["encoder"] == version_b for s in after)
        fresh = await engine.score(texts)
        assert [s.embedding for s in after] == [s.embedding for s in fresh]
        assert await engine.reload_models(settings) == []

    try:
        asyncio.run(scenario())
    finally:
        engine.close()


def test_an_encoder_that_fails_to_load_is_not_tried_again_until_another_is_switched_to(
    two_encoders, tmp_path: Path, no_shipped
) -> None:
    a, b = two_encoders
    settings = Settings(model_store=tmp_path / "store", device="cpu")
    root = settings.store_dir
    version_a, version_b = store.keep_encoder(root, a), store.keep_encoder(root, b)
    store.use_encoder(root, version_a, running=a)
    engine = ScoringEngine.from_settings(settings, portfolio_items=[])
    store.use_encoder(root, version_b, running=a)
    (store.encoder_versions(root)[version_b] / "config.json").unlink()

    async def scenario() -> None:
        with pytest.raises(ModelLoadError, match="no config.json"):
            await engine.reload_models(settings)
        assert await engine.reload_models(settings) == []  # scoring is not paused again
        assert engine.versions["encoder"] == version_a
        store.rollback_encoder(root, running=a)  # back to a: nothing to load
        assert await engine.reload_models(settings) == []

    try:
        asyncio.run(scenario())
    finally:
        engine.close()
