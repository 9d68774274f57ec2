"""`argus bench`: model throughput of the engine beside the usual tools, in one run.

Corpus: the shipped samples (short posts, news bodies, patent claims), repeated to size.
Measured on whatever machine runs it; writes JSON and appends a row to docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from models.engine import ScoringEngine, default_encoder_path
from streams.schemas import SCHEMAS
from streams.settings import Settings

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


def rate(fn: Callable[[], Any], n: int) -> float:
    fn()  # warm-up: first-call allocations and thread pools are not throughput
    started = time.perf_counter()
    fn()
    return n / (time.perf_counter() - started)


def classifier_checkpoint(folder: Path) -> Path:
    """A sequence-classification checkpoint on the same encoder, for the pipeline baseline."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    src = default_encoder_path()
    AutoModelForSequenceClassification.from_pretrained(src, num_labels=3).save_pretrained(folder)
    AutoTokenizer.from_pretrained(src).save_pretrained(folder)
    return folder


def run(quick: bool) -> dict[str, Any]:
    n = 200 if quick else 1000
    texts = corpus(n)
    settings = Settings(
        device="cpu" if not torch.cuda.is_available() else "auto",
        portfolio_path=SAMPLES / "portfolio.jsonl",
    )
    engine = ScoringEngine.from_settings(settings)
    out: dict[str, Any] = {"texts": n, "device": str(engine.placement)}
    out["engine_all_eps"] = rate(lambda: engine.score_texts(texts), n)
    out["engine_encoder_eps"] = rate(lambda: engine.encoder.encode(texts), n)
    out["engine_similarity_eps"] = rate(
        lambda: engine.portfolio.match(texts, 3, *engine.evidence_thresholds), n
    )

    from sentence_transformers import SentenceTransformer
    from transformers import pipeline

    st = SentenceTransformer(str(default_encoder_path()), device=engine.placement.device.type)
    out["sentence_transformers_eps"] = rate(lambda: st.encode(texts), n)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = classifier_checkpoint(Path(tmp))
        device = 0 if engine.placement.device.type == "cuda" else -1
        clf = pipeline("text-classification", model=str(ckpt), device=device, truncation=True)
        out["hf_pipeline_default_eps"] = rate(lambda: clf(texts), n)
        out["hf_pipeline_batch32_eps"] = rate(lambda: clf(texts, batch_size=32), n)
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
    out["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} CPUs ({cpu}), {gpu}, torch {torch.__version__}"


def append_report(result: dict[str, Any], quick: bool) -> None:
    header = (
        "| date | machine | mode | texts | engine all (ev/s) | encoder | ST encode | "
        "pipeline default | pipeline b32 | vs ST | vs pipeline | RSS MB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    if not REPORT.exists():
        REPORT.write_text(
            "# Benchmarks\n\nRows appended by `argus bench` (`bench/throughput.py`).\n\n" + header
        )
    r = result
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()} | {'quick' if quick else 'full'} | "
        f"{r['texts']} | {r['engine_all_eps']} | {r['engine_encoder_eps']} | "
        f"{r['sentence_transformers_eps']} | {r['hf_pipeline_default_eps']} | "
        f"{r['hf_pipeline_batch32_eps']} | {r['vs_sentence_transformers']}x | "
        f"{r['vs_hf_pipeline']}x | {r['rss_mb']} |\n"
    )
    with REPORT.open("a") as f:
        f.write(row)


def main(quick: bool, json_path: Path | None) -> int:
    result = run(quick)
    append_report(result, quick)
    text = json.dumps(result, indent=2)
    if json_path:
        json_path.write_text(text + "\n")
    print(text)
    summary = {
        "raw_eps": result["engine_all_eps"],
        "vs_sentence_transformers": result["vs_sentence_transformers"],
        "vs_hf_pipeline": result["vs_hf_pipeline"],
        "rss_mb": result["rss_mb"],
    }
    print(json.dumps(summary))
    return 0
