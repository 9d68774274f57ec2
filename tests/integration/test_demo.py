"""The README's first command, end to end: real weights, shipped samples, embedded stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_demo_accounts_for_every_record(tmp_path: Path) -> None:
    env = {**os.environ, "ARGUS_STATE_DIR": str(tmp_path / ".argus")}
    proc = subprocess.run(
        # --no-build: training the default heads takes minutes; tests/unit covers training.
        [sys.executable, "-m", "streams.cli", "demo", "--json", "--no-build", "--timeout", "300"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=420,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    lines = {
        p.name: sum(1 for ln in p.read_bytes().splitlines() if ln.strip())
        for p in SAMPLES.glob("*.jsonl")
        if p.name != "portfolio.jsonl"
    }
    bad = sum(n for name, n in lines.items() if name.startswith("bad-"))
    assert summary["produced"] == sum(lines.values())
    assert summary["dlq"] == bad
    assert summary["indexed"] == summary["produced"] - bad
    # The samples hold ten near-copies of portfolio items; the other rule types depend on
    # the trained heads, which --no-build leaves out.
    by_rule = summary["alerts_by_rule"]
    assert by_rule["portfolio-infringement"] == 10
    # The samples' lawsuits between watch-list companies: one alert per plaintiff and
    # defendant, read from the sentence that states it.
    assert by_rule["watched-litigation"] >= 1
    assert summary["alerts_by_type"]["threshold"] == 10 + by_rule["watched-litigation"]
    assert summary["relations"]["litigation"] >= by_rule["watched-litigation"]
    assert any(line.startswith("relation: ") for line in summary["litigation"])
    assert " -litigation-> " in summary["litigation"][0]
    # An eleventh copy is the owner's own post: matched and kept, no alert.
    owners = [a for a in summary["authorised"] if a["infringement_score"] >= 90]
    assert [(a["doc_id"], a["authorised"]) for a in owners] == [("social:post-0078", "owner")]
    assert summary["alerts"] == sum(summary["alerts_by_type"].values())
    # One of them as on-call reads it: the matched item and its element <-> passage pairs.
    assert summary["notice"][1].startswith("matched item: ") and "on-call reads" in proc.stdout
    assert any(line.startswith("  item (") for line in summary["notice"])
    assert "every record accounted for" in proc.stdout
    # The demo started the stack, so it stopped it too.
    assert not (tmp_path / ".argus" / "stack.json").exists()
