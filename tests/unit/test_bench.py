"""The end-to-end benchmark's arithmetic and what `argus bench` writes where, on a fake
result (the run itself is `argus bench`, not a test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import throughput
from bench.end_to_end import Samples, percentile, profile
from bench.throughput import HEADER, with_row


def histogram(name: str, total: float, count: float, **labels: str) -> Samples:
    lab = tuple(sorted(labels.items()))
    return {(f"{name}_sum", lab): total, (f"{name}_count", lab): count}


def test_profile_splits_the_wall_time_from_metric_deltas() -> None:
    before: Samples = {
        **histogram("argus_scorer_seconds", 1.0, 1, scorer="encoder"),
        **histogram("argus_batch_records", 30, 1, source="news"),
    }
    after: Samples = {
        **histogram("argus_scorer_seconds", 7.0, 11, scorer="encoder"),
        **histogram("argus_scorer_seconds", 2.0, 10, scorer="portfolio"),
        **histogram("argus_scorer_seconds", 0.5, 10, scorer="tokenize"),
        **histogram("argus_bulk_seconds", 1.0, 5, source="news"),
        **histogram("argus_bulk_seconds", 1.0, 5, source="social"),
        **histogram("argus_batch_records", 130, 6, source="news"),
        **histogram("argus_batch_tokens", 40_000, 21),
    }
    p = profile(before, after, seconds=10.0, events=100)
    assert p["model_busy"] == 0.8  # (6 + 2) s of model thread in 10 s; tokenize is not on it
    assert p["model_ms_per_event"] == 80.0
    assert p["encoder_ms_per_event"] == 60.0 and p["tokenize_ms_per_event"] == 5.0
    assert p["bulk_ms_per_event"] == 20.0  # both sources
    assert p["batch_records"] == 20.0  # 100 events in 5 batches
    assert p["pass_tokens"] == round(40_000 / 21, 1)


def test_nearest_rank_percentile() -> None:
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 50) != percentile([], 50)  # nan


def test_a_row_goes_to_the_end_of_the_table_not_of_the_document() -> None:
    table = HEADER + "| 2026-01-01 | old |\n"
    doc = f"# Benchmarks\n\nintro\n\n{table}\nWhat the rows say.\n"
    out = with_row(doc, "| 2026-11-26 | new |\n")
    assert out == f"# Benchmarks\n\nintro\n\n{table}| 2026-11-26 | new |\n\nWhat the rows say.\n"
    assert with_row("# Benchmarks\n", "| r |\n") == f"# Benchmarks\n\n{HEADER}| r |\n"


def fake_result() -> dict[str, Any]:
    e2e = {"p50_ms": 40.0, "p95_ms": 80.0, "p99_ms": 120.0}
    return {
        "texts": 120,
        "device": "cpu/float32",
        "engine_all_eps": 30.0,
        "engine_encoder_eps": 60.0,
        "sentence_transformers_eps": 50.0,
        "hf_pipeline_default_eps": 40.0,
        "hf_pipeline_batch32_eps": 20.0,
        "vs_sentence_transformers": 1.2,
        "vs_hf_pipeline": 3.0,
        "e2e": e2e,
        "e2e_eps": 25.0,
        "ratio": 0.83,
        "p99_ms": 120.0,
        "noop_eps": 900.0,
        "worker_rss_mb": 800.0,
        "worker_gpu_mb": None,
    }


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`argus bench` without the run: docs/benchmarks.md is a copy in tmp_path."""
    report = tmp_path / "benchmarks.md"
    report.write_text(f"# Benchmarks\n\n{HEADER}| 2026-01-01 | old |\n")
    monkeypatch.setattr(throughput, "run", lambda quick: fake_result())
    monkeypatch.setattr(throughput, "REPORT", report)
    return report


def test_bench_writes_the_docs_only_with_record(
    bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = bench.read_text()
    assert throughput.main(quick=True) == 0
    out = capsys.readouterr().out
    assert bench.read_text() == before
    assert "end to end" in out and "{" not in out  # human lines, no JSON without --json

    assert throughput.main(quick=True, as_json=True, out=tmp_path / "r.json", record=True) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[-1]) == {
        "raw_eps": 30.0,
        "e2e_eps": 25.0,
        "ratio": 0.83,
        "vs_sentence_transformers": 1.2,
        "vs_hf_pipeline": 3.0,
        "p99_ms": 120.0,
        "rss_mb": 800.0,
    }
    assert json.loads((tmp_path / "r.json").read_text()) == fake_result()
    rows = [x for x in bench.read_text().splitlines() if x.startswith("| ")]
    assert len(rows) == 3 and "| quick | 120 | 30.0 |" in rows[-1]


def test_bench_cli_takes_json_as_a_flag(bench: Path, tmp_path: Path) -> None:
    from streams.cli import main

    assert main(["bench", "--quick", "--json", "--out", str(tmp_path / "r.json")]) == 0
    assert (tmp_path / "r.json").is_file() and "| quick |" not in bench.read_text()
