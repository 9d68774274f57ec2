"""What `argus models|train|eval|score` do; the argument parsing lives in streams/cli.py."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
from pydantic import ValidationError

from models.datasets import Dataset, DatasetError, read_labelled_file
from models.device import batch_tokens, resolve_placement
from models.engine import default_encoder_path
from models.evaluate import EvalReport, evaluate
from models.loading import ModelLoadError, load_checkpoint, quantised_int8
from models.scorers import CheckpointClassifier, Classifier, HeadClassifier, SentenceEncoder
from models.store import CARD_FILE, list_cards, load_head, read_card
from models.train import (
    DEFAULT_HEADS,
    build_default_heads,
    load_encoder,
    missing_default_heads,
    split_indices,
    train_task,
)
from streams.progress import Progress
from streams.schemas import SCHEMAS, Source
from streams.settings import Settings
from streams.validation import describe_validation_error


def say(text: str) -> None:
    Progress().update(text, final=True)


def cmd_models_build(settings: Settings, force: bool, finance: bool = False) -> int:
    tasks = list(DEFAULT_HEADS) if force else missing_default_heads(settings)
    if not tasks:
        print(
            f"model store {settings.store_dir} already holds the default heads (--force rebuilds)"
        )
        return 0
    cards = build_default_heads(settings, tasks, Progress().update, finance)
    for c in cards:
        print(c.summary())
    return 0


def cmd_models_list(settings: Settings) -> int:
    cards = list_cards(settings.store_dir)
    if not cards:
        print(f"no heads in {settings.store_dir}: run `argus models build`")
        return 1
    for c in cards:
        print(c.summary())
    return 0


def cmd_models_info(settings: Settings, task: str) -> int:
    print(read_card(settings.store_dir / task).model_dump_json(indent=2))
    return 0


def cmd_train(
    settings: Settings,
    task: str,
    data: Path,
    text_field: str,
    label_field: str,
    seed: int,
    full_out: Path | None = None,
    epochs: int = 3,
) -> int:
    """Head-only training into the store, or (`full_out`) a fine-tuned checkpoint there."""
    ds = read_labelled_file(data, text_field, label_field)
    if full_out is not None:
        from models.finetune import finetune

        metrics = finetune(
            task,
            ds,
            settings.encoder_path or default_encoder_path(),
            full_out,
            Progress().update,
            device=settings.device,
            epochs=epochs,
            seed=seed,
        )
        print(
            f"{task}: accuracy {metrics.accuracy:.3f}, macro-F1 {metrics.macro_f1:.3f} on "
            f"{metrics.n} held-out examples; checkpoint in {full_out}"
        )
        print(f"use it with ARGUS_{task.upper()}_MODEL_PATH={full_out}")
        return 0
    encoder = load_encoder(settings)
    progress = Progress()
    card = train_task(task, ds, encoder, settings.store_dir, progress.update, seed)
    print(card.summary())
    print(f"stored in {settings.store_dir / task}; workers pick it up when they start")
    return 0


def _classifier_for(model: Path, encoder: SentenceEncoder, settings: Settings) -> Classifier:
    if (model / CARD_FILE).is_file():
        return HeadClassifier(*load_head(model), encoder)
    placement = resolve_placement(settings.device)
    loaded = load_checkpoint(model, placement, classifier=True, max_length=settings.max_length)
    return CheckpointClassifier(loaded, batch_tokens(settings.max_batch_tokens, placement))


def _eval_data(task: str, data: Path | None, labels: list[str]) -> tuple[Dataset, np.ndarray]:
    """The rows to evaluate: a user's file whole, or the default dataset's held-out split."""
    if data is not None:
        ds = read_labelled_file(data)
        return ds, np.arange(len(ds.texts))
    if task not in DEFAULT_HEADS:
        raise DatasetError(f"no default data for task {task!r}: pass --data FILE")
    ds = DEFAULT_HEADS[task]()
    return ds, split_indices(ds.label_ids(labels)).test


def _score(clf: Classifier, encoder: SentenceEncoder, texts: list[str]) -> np.ndarray:
    return clf.predict(texts, encoder.encode(texts)).numpy()


def cmd_eval(
    settings: Settings,
    task: str,
    model: Path | None,
    data: Path | None,
    as_json: bool,
    int8: bool,
) -> int:
    encoder = load_encoder(settings)
    model = model or settings.store_dir / task
    if not model.is_dir():
        raise ModelLoadError(
            f"no {task} model at {model}: run `argus models build` or pass --model"
        )
    clf = _classifier_for(model, encoder, settings)
    ds, rows = _eval_data(task, data, clf.labels)
    texts = [ds.texts[i] for i in rows]
    y = ds.label_ids(clf.labels)[rows]
    say(f"evaluating {clf.version} on {len(texts)} {ds.name} examples")
    started = time.monotonic()
    report = evaluate(y, _score(clf, encoder, texts), clf.labels)
    seconds = time.monotonic() - started
    print(report.to_text())
    out: dict[str, object] = {
        "task": task,
        "model": clf.version,
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "n": report.n,
    }
    if int8:
        out.update(_int8_change(encoder, clf, texts, y, report, seconds))
    if as_json:
        print(json.dumps(out))
    return 0


def _int8_change(
    encoder: SentenceEncoder,
    clf: Classifier,
    texts: list[str],
    y: np.ndarray,
    fp32: EvalReport,
    fp32_seconds: float,
) -> dict[str, float]:
    """Re-run with the encoder's Linear layers quantised to int8 (per-channel weights)."""
    if encoder.loaded.model.device.type != "cpu":
        return {}
    original = encoder.loaded.model
    object.__setattr__(encoder.loaded, "model", quantised_int8(original))
    try:
        started = time.monotonic()
        report = evaluate(y, _score(clf, encoder, texts), clf.labels)
        seconds = time.monotonic() - started
    finally:
        object.__setattr__(encoder.loaded, "model", original)
    change = {
        "int8_accuracy": report.accuracy,
        "int8_macro_f1": report.macro_f1,
        "int8_macro_f1_change": round(report.macro_f1 - fp32.macro_f1, 4),
        "int8_speedup": round(fp32_seconds / max(seconds, 1e-9), 2),
    }
    print(
        f"\nint8 (dynamic, per-channel): accuracy {report.accuracy:.3f}, macro-F1 "
        f"{report.macro_f1:.3f} ({change['int8_macro_f1_change']:+.4f}), "
        f"{change['int8_speedup']:.2f}x the fp32 speed"
    )
    return change


@dataclass(frozen=True, slots=True)
class ScoreInput:
    id: str
    text: str | None  # None: the line is not a valid record
    error: str = ""


def read_score_inputs(
    lines: TextIO, source: Source | None, text_mode: bool
) -> Iterator[ScoreInput]:
    """One input per non-blank line: plain text, or a record of `source` (or of any source)."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if text_mode:
            yield ScoreInput(str(n), line.rstrip("\n"))
            continue
        errors = []
        for s in [source] if source else list(SCHEMAS):
            try:
                rec = SCHEMAS[s].model_validate_json(line)
            except ValidationError as e:
                errors.append(f"not a {s} record: {describe_validation_error(e, limit=2)}")
                continue
            yield ScoreInput(rec.record_id, rec.scoring_text())
            break
        else:
            yield ScoreInput(f"line {n}", None, "; ".join(errors))


def cmd_score(settings: Settings, source: Source | None, text_mode: bool, batch: int = 64) -> int:
    from models.engine import ScoringEngine

    engine = ScoringEngine.from_settings(settings)
    bad = 0
    pending: list[ScoreInput] = []

    def flush() -> None:
        texts = [p.text for p in pending if p.text is not None]
        scores = iter(engine.score_texts(texts) if texts else [])
        for item in pending:
            if item.text is None:
                print(json.dumps({"id": item.id, "error": item.error}))
                continue
            s = next(scores)
            print(
                json.dumps(
                    {
                        "id": item.id,
                        "sentiment": s.sentiment.model_dump(),
                        "topic": s.topic.model_dump(),
                        "similarity": {"matches": [m.model_dump() for m in s.similarity]},
                        "models": engine.versions,
                    }
                )
            )
        sys.stdout.flush()
        pending.clear()

    for item in read_score_inputs(sys.stdin, source, text_mode):
        bad += item.text is None
        pending.append(item)
        if len(pending) >= batch:
            flush()
    flush()
    return 1 if bad else 0
