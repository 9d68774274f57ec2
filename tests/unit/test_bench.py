"""The end-to-end benchmark's arithmetic (the run itself is `argus bench`, not a test)."""

from __future__ import annotations

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
