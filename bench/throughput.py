"""`argus bench`: model throughput of the engine beside the usual tools, then end to end.

Corpus: the shipped samples (short posts, news bodies, patent claims), repeated to size.
Measured on whatever machine runs it; prints the figures (`--json`: and a summary line),
writes the whole result as JSON with `--out FILE`, and adds a row to docs/benchmarks.md only
with `--record`.
The end-to-end part (`bench/end_to_end.py`) runs a real worker on a fresh embedded stack.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from bench import end_to_end
from models.engine import ScoringEngine, default_encoder_path
from streams.cli import print_json
from streams.contracts.schemas import SCHEMAS
from streams.contracts.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
REPORT = ROOT / "docs" / "benchmarks.md"


def corpus(n: int) -> list[str]:
    """`n` texts, the sources interleaved so that any prefix mixes short and long ones."""
    per_source = [
        [
            SCHEMAS[s].model_validate_json(line).scoring_text()
            for line in (SAMPLES / f"{s}.jsonl").read_text().splitlines()
        ]  # type: ignore[index]
        for s in ("social", "news", "patents")
    ]
    mixed = [t for group in zip(*per_source, strict=False) for t in group]
    return (mixed * (n // len(mixed) + 1))[:n]


def rate(fn: Callable[[list[str]], Any], texts: list[str]) -> float:
    # Warm-up on the longest texts: the largest batch shapes, so that first-call allocations
    # (the CUDA caching allocator's growth) and thread pools are not timed as throughput.
    fn(sorted(texts, key=len)[-64:])
    started = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - started)


def classifier_checkpoint(folder: Path) -> Path:
    """A sequence-classification checkpoint on the same encoder, for the pipeline baseline."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    src = default_encoder_path()
    AutoModelForSequenceClassification.from_pretrained(src, num_labels=3).save_pretrained(folder)
    AutoTokenizer.from_pretrained(src).save_pretrained(folder)
    return folder


@dataclass(frozen=True)
class Sizes:
    raw_texts: int
    e2e_records: int
    latency_seconds: float
    noop_records: int


# Each phase should last seconds, not milliseconds: a GPU scores ~100x faster than 2 cores.
# End to end, a worker's three agents each fill and drain a pipeline: on 2 cores 150 records
# (one micro-batch per source) measured mostly that (the model idle 24 %), 600 the stream
# (idle 6 %); 300 no-op records were indexed in under a second, timed by a 0.25 s poll.
SIZES = {
    ("cpu", True): Sizes(120, 600, 10, 3000),
    ("cpu", False): Sizes(1000, 600, 40, 2000),
    ("cuda", True): Sizes(2000, 1500, 10, 1500),
    ("cuda", False): Sizes(10000, 6000, 40, 6000),
}


def run(quick: bool) -> dict[str, Any]:
    """Raw model throughput beside the usual tools, then end to end with and without models."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = SIZES[device, quick]
    out = raw_throughput(size.raw_texts)
    store = str(Settings().store_dir.resolve())  # the heads the raw run used
    e2e = end_to_end.run(
        {"ARGUS_DEVICE": device, "ARGUS_MODEL_STORE": store},
        n=size.e2e_records,
        latency_seconds=size.latency_seconds,
    )
    noop = end_to_end.run({"ARGUS_SCORING": "noop"}, n=size.noop_records, latency_seconds=8)
    out["e2e"] = asdict(e2e)
    out["noop"] = asdict(noop)
    out["e2e_eps"] = e2e.eps
    out["ratio"] = round(e2e.eps / out["engine_all_eps"], 2)
    out["p99_ms"] = e2e.p99_ms
    out["worker_rss_mb"] = e2e.worker_peak_rss_mb
    out["worker_gpu_mb"] = e2e.worker_gpu_mb
    out["noop_eps"] = noop.eps
    return out


def raw_throughput(n: int) -> dict[str, Any]:
    texts = corpus(n)
    settings = Settings(device="auto", portfolio_path=SAMPLES / "portfolio.jsonl")
    engine = ScoringEngine.from_settings(settings)
    # Everything is timed on the engine's model thread, the baselines too: the worker runs
    # its models there, and one thread keeps one OpenMP team (models/model_thread.py).
    on_thread = engine.on_model_thread
    out: dict[str, Any] = {"texts": n, "device": str(engine.placement)}
    out["engine_all_eps"] = on_thread(lambda: rate(engine.score_texts, texts))
    out["engine_encoder_eps"] = on_thread(lambda: rate(engine.encoder.encode, texts))
    out["engine_similarity_eps"] = on_thread(
        lambda: rate(lambda t: engine.portfolio.match(t, 3, *engine.evidence_thresholds), texts)
    )

    from sentence_transformers import SentenceTransformer
    from transformers import pipeline

    # The baselines at the engine's precision and truncation: the ratios compare designs.
    device, dtype = engine.placement.device.type, engine.placement.dtype
    st = on_thread(
        lambda: SentenceTransformer(
            str(default_encoder_path()), device=device, model_kwargs={"dtype": dtype}
        )
    )
    st.max_seq_length = settings.max_length
    out["sentence_transformers_eps"] = on_thread(lambda: rate(st.encode, texts))
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = on_thread(lambda: classifier_checkpoint(Path(tmp)))
        clf = on_thread(
            lambda: pipeline(
                "text-classification",
                model=str(ckpt),
                device=0 if device == "cuda" else -1,
                dtype=dtype,
                truncation=True,
                max_length=settings.max_length,
            )
        )
        out["hf_pipeline_default_eps"] = on_thread(lambda: rate(clf, texts))
        out["hf_pipeline_batch32_eps"] = on_thread(
            lambda: rate(lambda t: clf(t, batch_size=32), texts)
        )
    if device == "cpu":  # ARGUS_INT8 (models.md): CPU only
        int8 = ScoringEngine.from_settings(
            settings.model_copy(update={"int8": True}), executor=engine.executor
        )
        out["engine_all_int8_eps"] = on_thread(lambda: rate(int8.score_texts, texts))
    out = {k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}
    # The engine's classifiers are heads on the encoder pass: its classification cost is
    # the encoder pass, compared with one pipeline per task.
    out["vs_sentence_transformers"] = round(
        out["engine_encoder_eps"] / out["sentence_transformers_eps"], 2
    )
    out["vs_hf_pipeline"] = round(out["engine_encoder_eps"] / out["hf_pipeline_batch32_eps"], 2)
    out["vs_hf_pipeline_default"] = round(
        out["engine_encoder_eps"] / out["hf_pipeline_default_eps"], 2
    )
    out["bench_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if torch.cuda.is_available():
        out["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} CPUs ({cpu}), {gpu}, torch {torch.__version__}"


HEADER = (
    "| date | machine | mode | texts | engine all (ev/s) | encoder | ST encode | "
    "pipeline default | pipeline b32 | vs ST | vs pipeline | end to end (ev/s) | e2e / raw | "
    "p50 / p95 / p99 ms | no-op ceiling (ev/s) | worker RSS MB | engine all int8 (ev/s) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def append_report(result: dict[str, Any], quick: bool) -> None:
    r, e = result, result["e2e"]
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()} | {'quick' if quick else 'full'} | "
        f"{r['texts']} | {r['engine_all_eps']} | {r['engine_encoder_eps']} | "
        f"{r['sentence_transformers_eps']} | {r['hf_pipeline_default_eps']} | "
        f"{r['hf_pipeline_batch32_eps']} | {r['vs_sentence_transformers']}x | "
        f"{r['vs_hf_pipeline']}x | {r['e2e_eps']} | {r['ratio']} | "
        f"{e['p50_ms']:.0f} / {e['p95_ms']:.0f} / {e['p99_ms']:.0f} | {r['noop_eps']} | "
        f"{r['worker_rss_mb']} | {r.get('engine_all_int8_eps', '–')} |\n"
    )
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    REPORT.write_text(with_row(text, row))


def with_row(text: str, row: str) -> str:
    """`text` with `row` added at the end of its results table, so that the prose after the
    table stays after it; a document without the table gets one at its end."""
    lines = text.splitlines(keepends=True)
    try:
        end = next(i for i, line in enumerate(lines) if line.startswith(HEADER.splitlines()[0]))
    except StopIteration:
        return text.rstrip("\n") + "\n\n" + HEADER + row
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "".join(lines[:end] + [row] + lines[end:])


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The `--json` line: the headline figures of a run."""
    return {
        "raw_eps": result["engine_all_eps"],
        "e2e_eps": result["e2e_eps"],
        "ratio": result["ratio"],
        "vs_sentence_transformers": result["vs_sentence_transformers"],
        "vs_hf_pipeline": result["vs_hf_pipeline"],
        "p99_ms": result["p99_ms"],
        "rss_mb": result["worker_rss_mb"],
    }


def report_lines(result: dict[str, Any]) -> list[str]:
    """The run for people: one line per measurement."""
    r, e = result, result["e2e"]
    int8 = r.get("engine_all_int8_eps")
    return [
        f"device              {r['device']}, {r['texts']} texts",
        f"engine, all tasks   {r['engine_all_eps']} texts/s"
        + (f" (int8: {int8})" if int8 is not None else ""),
        f"engine encoder      {r['engine_encoder_eps']} texts/s: "
        f"{r['vs_sentence_transformers']}x sentence-transformers "
        f"({r['sentence_transformers_eps']}), {r['vs_hf_pipeline']}x the HF pipeline at "
        f"batch 32 ({r['hf_pipeline_batch32_eps']}; default batch "
        f"{r['hf_pipeline_default_eps']})",
        f"end to end          {r['e2e_eps']} events/s ({r['ratio']} of raw), "
        f"p50 / p95 / p99 {e['p50_ms']:.0f} / {e['p95_ms']:.0f} / {e['p99_ms']:.0f} ms",
        f"no-op ceiling       {r['noop_eps']} events/s",
        *(
            f"{name:<19} worker {run['profile'].get('worker_cpu_ms_per_event')} ms CPU/event, "
            f"{run['profile'].get('kafka_messages_per_event')} Kafka messages/event beyond "
            f"the input, {run['profile'].get('bytes_per_document')} bytes/document"
            for name, run in (("  models run", e), ("  no-op run", r.get("noop")))
            if run and run.get("profile")
        ),
        f"worker RSS          {r['worker_rss_mb']} MB",
    ]


def main(quick: bool, as_json: bool = False, out: Path | None = None, record: bool = False) -> int:
    """`argus bench`: `out` gets the whole result as JSON; `record` adds the table row to
    docs/benchmarks.md, which is otherwise left alone."""
    result = run(quick)
    print("\n".join(report_lines(result)))
    if out:
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
    if record:
        append_report(result, quick)
        print(f"added a row to {REPORT}")
    if as_json:
        print_json(summary(result))
    return 0
