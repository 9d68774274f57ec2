"""The fault table's renderer: what `make reliability` writes into docs/reliability.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability_report import END, START, FaultRecorder, FaultReport, main, render


def report(tmp_path: Path, **row: object) -> dict:
    rows = FaultReport(tmp_path / "r.json")
    defaults = {
        "fault": "search server down",
        "injected": "osmem stopped | restarted",
        "records": 2000,
        "lost": 0,
        "duplicated": 0,
        "dead_lettered": None,
        "recovery_s": 13.04,
        "extra": {"recovery": "back → indexed"},
    }
    FaultRecorder(rows, "test_faults.py::test_x").add(**{**defaults, **row})  # type: ignore[arg-type]
    return json.loads(rows.path.read_text())


def test_rows_render_with_rounding_separators_and_escaped_pipes(tmp_path: Path) -> None:
    table = render(report(tmp_path), status=0)
    assert "All fault tests passed." in table
    row = table.splitlines()[-1]
    assert row == (
        "| search server down | `test_faults.py::test_x` | osmem stopped \\| restarted | 2,000 "
        "| 0 | 0 | — | 13.0 | recovery: back → indexed |"
    )


def test_a_run_that_lost_records_did_not_recover(tmp_path: Path) -> None:
    table = render(report(tmp_path, lost=5, recovery_s=120.0), status=1)
    assert "Some fault tests failed (pytest exit status 1)." in table
    assert "| not within 120.0 |" in table.splitlines()[-1]


def test_main_replaces_only_the_marked_table(tmp_path: Path) -> None:
    report(tmp_path)
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{START}\nold table\n{END}\noutro\n")
    assert main([str(tmp_path / "r.json"), "--doc", str(doc), "--status", "0"]) == 0
    text = doc.read_text()
    assert text.startswith(f"intro\n{START}\nLast run: ") and text.endswith(f"{END}\noutro\n")
    assert "old table" not in text


def test_a_document_without_markers_is_refused(tmp_path: Path) -> None:
    report(tmp_path)
    doc = tmp_path / "doc.md"
    doc.write_text("no markers\n")
    with pytest.raises(ValueError, match="fault-table:start"):
        main([str(tmp_path / "r.json"), "--doc", str(doc)])


def test_indexing_faults_derive_lost_and_duplicated(tmp_path: Path) -> None:
    rows = FaultReport(tmp_path / "r.json")
    FaultRecorder(rows, "t").add_indexing(
        fault="f",
        injected="i",
        records=100,
        indexed=97,
        documents=99,
        dead_lettered=None,
        recovery_s=1.0,
    )
    row = json.loads(rows.path.read_text())["rows"][0]
    assert (row["records"], row["lost"], row["duplicated"]) == (100, 3, 2)
