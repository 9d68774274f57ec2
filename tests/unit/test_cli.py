from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("stack", "worker", "produce", "demo"):
        assert cmd in out


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "worker"],
        capture_output=True,
        text=True,
        env={"ARGUS_BATCH_MAX_SIZE": "0", "PATH": ""},
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("argus: error: invalid configuration: ARGUS_BATCH_MAX_SIZE")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ARGUS_RULES_DIR": str(REPO / "rules")}, "argus: error: model directory"),
        ({}, "argus: error: rules directory rules does not exist (ARGUS_RULES_DIR)"),
    ],
)
def test_missing_model_or_rules_is_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    (tmp_path / ".argus").mkdir()
    (tmp_path / ".argus" / "stack.json").write_text(
        '{"kafka": "127.0.0.1:1", "elasticsearch": "http://127.0.0.1:1", "pids": {}}'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "worker"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={"ARGUS_ENCODER_PATH": str(tmp_path / "no-model"), "PATH": "", **env},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(message) and "Traceback" not in proc.stderr


def test_produce_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["produce", "--source", "news", str(tmp_path / "x.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_main_leaves_sigpipe_alone(capsys: pytest.CaptureFixture[str]) -> None:
    # A test runner calling main() in-process must not be killed by the next closed socket.
    before = signal.getsignal(signal.SIGPIPE)
    assert main(["config"]) == 0
    assert signal.getsignal(signal.SIGPIPE) == before
