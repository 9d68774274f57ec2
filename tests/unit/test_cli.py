from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli import JSON_HELP, _parser, main

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


def leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command of the parser (`models list`, `worker`, …) with its parser."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from leaf_commands(child, (*path, name))


def test_every_command_that_prints_a_result_has_the_same_json_flag() -> None:
    leaves = dict(leaf_commands(_parser()))
    assert {("models", "list"), ("rules", "check"), ("alerts", "show"), ("bench",)} <= set(leaves)
    for path, parser in leaves.items():
        flags = {o: a for a in parser._actions for o in a.option_strings}
        if path == ("worker",):  # runs until stopped; prints no result
            assert "--json" not in flags
            continue
        flag = flags.get("--json")
        assert flag is not None, f"argus {' '.join(path)} lacks --json"
        assert isinstance(flag, argparse._StoreTrueAction) and flag.help == JSON_HELP, path
    bench = {o: a for a in leaves["bench",]._actions for o in a.option_strings}
    assert bench["--out"].metavar == "FILE" and isinstance(
        bench["--record"], argparse._StoreTrueAction
    )


def last_json_line(out: str) -> dict[str, object]:
    last = out.rstrip("\n").splitlines()[-1]
    result = json.loads(last)
    assert isinstance(result, dict)
    return result


def test_models_list_ends_with_a_json_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ARGUS_MODEL_STORE", str(tmp_path / "store"))
    assert main(["models", "list", "--json"]) == 0  # nothing built: the shipped heads
    out = capsys.readouterr().out
    listed = last_json_line(out)
    assert listed["store"] == str(tmp_path / "store")
    assert {h["task"]: h["where"] for h in listed["heads"]} == {  # type: ignore[union-attr]
        "sentiment": "shipped",
        "news-topic": "shipped",
    }
    assert main(["models", "list"]) == 0
    assert "{" not in capsys.readouterr().out  # no JSON without the flag
    monkeypatch.setattr("models.store.SHIPPED_HEADS", tmp_path / "none")
    assert main(["models", "list", "--json"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("no heads in") and last_json_line(out)["heads"] == []


def test_rules_check_and_list_end_with_a_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    rules = str(REPO / "rules")
    assert main(["rules", "check", "--dir", rules, "--json"]) == 0
    checked = last_json_line(capsys.readouterr().out)
    assert checked["ok"] is True and checked["dir"] == rules
    enabled = checked["enabled"]
    assert isinstance(enabled, int) and enabled > 0
    assert main(["rules", "list", "--dir", rules, "--json"]) == 0
    out = capsys.readouterr().out
    listed = last_json_line(out)["rules"]
    assert isinstance(listed, list) and len(listed) == enabled
    assert len(out.splitlines()) == enabled + 1  # one human line per rule, then the JSON
    for rule, line in zip(listed, out.splitlines(), strict=False):
        assert {"name", "type", "severity", "group_by", "notify", "file"} <= set(rule)
        assert line.split()[0] == rule["name"]


def test_config_json_is_the_settings_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 and last_json_line(out)["device"] == "auto"
