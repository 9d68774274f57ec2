from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tiny_models import build_classifier, build_encoder

# Tests never read a developer's config file or stack.
for name in [k for k in os.environ if k.startswith("ARGUS_")]:
    del os.environ[name]


@pytest.fixture(autouse=True)
def isolated_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A developer's .argus (stack.json, a built model store) must not leak into tests.
    monkeypatch.setenv("ARGUS_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "encoder": build_encoder(root / "encoder"),
        "topic": build_classifier(root / "topic", ["markets", "legal", "technology"]),
        "sentiment": build_classifier(root / "sentiment", ["negative", "neutral", "positive"]),
    }
