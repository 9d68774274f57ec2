"""The frozen evaluation sets of data/eval/ stay as they were measured on."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "data" / "eval"
ROW = re.compile(r"^\| `(?P<file>[\w.-]+\.jsonl)` \|[^|]*\| `(?P<sha>[0-9a-f]{64})` \|", re.M)


def test_every_set_is_listed_and_unchanged() -> None:
    listed = {m["file"]: m["sha"] for m in ROW.finditer((EVAL / "README.md").read_text())}
    assert sorted(listed) == sorted(p.name for p in EVAL.glob("*.jsonl"))
    for name, sha in listed.items():
        assert hashlib.sha256((EVAL / name).read_bytes()).hexdigest() == sha, name


def test_sets_parse_with_unique_ids_and_known_labels() -> None:
    for path in EVAL.glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        assert len({r["id"] for r in rows}) == len(rows), path.name
        if "sentiment" in path.name:
            assert {r["label"] for r in rows} == {"negative", "neutral", "positive"}, path.name
