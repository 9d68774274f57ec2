"""What `argus train` says about a head (workers run sentiment and topic only), and the
`--json` lines of `argus train`, `models list` and `models info`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.engine import ScoringEngine
from streams import model_commands as commands
from streams.contracts.settings import Settings

ROWS = [
    ("record profit growth", "positive"),
    ("shares soared on launch", "positive"),
    ("lawsuit and loss", "negative"),
    ("shares fell on lawsuit", "negative"),
    ("the company said", "neutral"),
    ("the meeting of the board", "neutral"),
] * 5


def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in ROWS))
    return path


def test_a_new_task_is_stored_evaluated_and_scored_by_workers(
    tiny_models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        encoder_path=tiny_models["encoder"], model_store=tmp_path / "store", device="cpu"
    )
    data = labelled(tmp_path)
    assert commands.cmd_train(settings, "risk", data, "text", "label", 0, as_json=True) == 0
    out = capsys.readouterr().out
    assert f"stored in {tmp_path / 'store' / 'risk'}" in out
    assert "into scores.heads (risk)" in out and "`argus eval --task risk` evaluates it" in out
    result = json.loads(out.splitlines()[-1])
    assert result["task"] == "risk" and result["scored_by_workers"] is True
    assert result["model"].startswith("risk-head@") and result["n"] > 0
    # Every event gets it, under its name and version.
    engine = ScoringEngine.from_settings(settings)
    (scores,) = engine.score_texts(["the company reported a loss"])
    assert [(h.name, h.version) for h in scores.heads] == [("risk", result["model"])]
    assert engine.versions["risk"] == result["model"]

    assert commands.cmd_train(settings, "sentiment", data, "text", "label", 0) == 0
    out = capsys.readouterr().out
    assert "score every event with it into scores.sentiment" in out

    assert commands.cmd_models_list(settings, as_json=True) == 0
    heads = json.loads(capsys.readouterr().out.splitlines()[-1])["heads"]
    assert [h["task"] for h in heads] == ["risk", "sentiment"]

    assert commands.cmd_models_info(settings, "risk", as_json=True) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 and json.loads(out)["version"] == result["model"]
