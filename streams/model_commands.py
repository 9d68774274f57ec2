"""What `argus models|train|eval|score` do; the argument parsing lives in streams/cli.py."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from pydantic import BaseModel, ValidationError

from models.datasets import Dataset, DatasetError, read_labelled_file
from models.device import batch_tokens, resolve_placement
from models.engine import resolve_encoder_path
from models.evaluate import EvalReport, evaluate
from models.loading import ModelLoadError, load_checkpoint, model_version, quantised_int8
from models.passages import encode_texts
from models.scorers import CheckpointClassifier, Classifier, HeadClassifier, SentenceEncoder
from models.store import (
    CARD_FILE,
    ENCODER,
    SHIPPED_HEADS,
    EncoderSwitch,
    ModelCard,
    encoder_versions,
    keep_encoder,
    load_head,
    read_card,
    rollback,
    rollback_encoder,
    use_encoder,
    use_version,
    versions,
)
from models.train import (
    DEFAULT_HEADS,
    build_default_heads,
    heads_in_use,
    load_encoder,
    missing_default_heads,
    split_indices,
    train_task,
)
from streams.cli import print_json
from streams.contracts.schemas import SCHEMAS, InputRecord, Source, describe_validation_error
from streams.contracts.settings import Settings
from streams.progress import Progress


def say(text: str) -> None:
    Progress().update(text, final=True)


# Tasks a fine-tuned checkpoint can replace (ARGUS_<TASK>_MODEL_PATH).
CHECKPOINT_TASKS = ("sentiment", "topic")


def cmd_models_build(settings: Settings, force: bool, as_json: bool = False) -> int:
    tasks = list(DEFAULT_HEADS) if force else missing_default_heads(settings)
    if not tasks:
        print(
            f"model store {settings.store_dir} already holds the default heads (--force rebuilds)"
        )
        cards = []
    else:
        cards = build_default_heads(settings, tasks, Progress().update)
        for c in cards:
            print(c.summary())
    if as_json:
        print_json({"store": str(settings.store_dir), "built": [_card(c) for c in cards]})
    return 0


def cmd_models_e5(settings: Settings, out: Path | None, dtype: str, as_json: bool) -> int:
    """A local Hugging Face folder of multilingual-e5-small (docs/models.md)."""
    from models.e5 import E5FormatError, ensure_e5

    folder = out or settings.multilingual_dir
    started = time.monotonic()
    try:
        ensure_e5(folder, dtype=dtype)
    except (ModuleNotFoundError, E5FormatError) as e:
        raise ModelLoadError(str(e)) from None
    routed = (
        "workers score the text MiniLM cannot read with it"
        if out is None
        else (
            f"set ARGUS_MULTILINGUAL_ENCODER_PATH={folder} to score the text MiniLM cannot read with it"
        )
    )
    say(f"{folder} ready in {time.monotonic() - started:.1f} s: {routed}")
    if as_json:
        print_json({"encoder_path": str(folder), "dtype": dtype})
    return 0


def _card(card: ModelCard) -> dict[str, object]:
    return card.model_dump(mode="json")


def cmd_models_list(settings: Settings, as_json: bool = False) -> int:
    """The heads workers with these settings run: the store's, else the shipped ones."""
    heads = heads_in_use(settings)
    if not heads:
        print(f"no heads in {settings.store_dir}: run `argus models build`")
    rows = []
    for _, folder in sorted(heads.items()):
        card = read_card(folder)
        where = "shipped" if folder.parent == SHIPPED_HEADS else "store"
        # Where workers put its scores (a head trained on another encoder does not run).
        runs = f"scores.{card.task}" if card.task in CHECKPOINT_TASKS else "scores.heads"
        print(f"{card.summary()}  {where}  -> {runs}")
        rows.append({**_card(card), "path": str(folder), "where": where, "scored_into": runs})
    if as_json:
        print_json({"store": str(settings.store_dir), "heads": rows})
    return 0 if heads else 1


def cmd_models_info(settings: Settings, task: str, as_json: bool = False) -> int:
    folder = heads_in_use(settings).get(task)
    if folder is None:
        raise ModelLoadError(f"no {task} head in {settings.store_dir} and none shipped for it")
    card = read_card(folder)
    if as_json:
        print_json(_card(card))
    else:
        print(card.model_dump_json(indent=2))
    return 0


def cmd_models_versions(settings: Settings, task: str, as_json: bool = False) -> int:
    if task == ENCODER:
        return _encoder_versions(settings, as_json)
    running = heads_in_use(settings).get(task)
    current = read_card(running).version if running is not None else None
    found = versions(settings.store_dir, task)
    if not found:
        raise ModelLoadError(f"no {task} head in {settings.store_dir} and none shipped for it")
    rows = []
    for version, folder in sorted(found.items(), key=lambda kv: read_card(kv[1]).created):
        card = read_card(folder)
        mark = "*" if version == current else " "
        where = "shipped" if folder.parent == SHIPPED_HEADS else "kept"
        print(f"{mark} {card.summary()}  {where}  encoder {card.encoder}")
        rows.append({**_card(card), "path": str(folder), "running": version == current})
    if as_json:
        print_json({"task": task, "versions": rows})
    return 0


def _switched(settings: Settings, card: ModelCard, as_json: bool) -> int:
    say(
        f"{card.task} now {card.version}: running workers swap it in within "
        f"{settings.models_refresh_seconds:g} s (ARGUS_MODELS_REFRESH_SECONDS)"
    )
    if as_json:
        print_json(_card(card))
    return 0


def cmd_models_use(settings: Settings, wanted: str, as_json: bool = False) -> int:
    task, at, version = wanted.partition("@")
    if not at or not task or not version:
        raise ModelLoadError(f"{wanted!r} is not TASK@VERSION (e.g. sentiment@6190ac970799)")
    if task == ENCODER:
        running = resolve_encoder_path(settings)
        return _encoder_switched(
            settings, use_encoder(settings.store_dir, version, running), as_json
        )
    task = task.removesuffix("-head")
    return _switched(settings, use_version(settings.store_dir, task, version), as_json)


def cmd_models_rollback(settings: Settings, task: str, as_json: bool = False) -> int:
    if task == ENCODER:
        running = resolve_encoder_path(settings)
        return _encoder_switched(settings, rollback_encoder(settings.store_dir, running), as_json)
    return _switched(settings, rollback(settings.store_dir, task), as_json)


def cmd_models_add_encoder(settings: Settings, path: Path, as_json: bool = False) -> int:
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{path} is not a Hugging Face model folder (no config.json)")
    version = keep_encoder(settings.store_dir, path)
    kept = encoder_versions(settings.store_dir)[version]
    say(
        f"kept encoder {version} in {settings.store_dir}: train its heads with "
        f"ARGUS_ENCODER_PATH={kept} (`argus models build --force`, `argus train`), then "
        f"`argus models use {ENCODER}@{version.rpartition('@')[2]}` switches workers to it"
    )
    if as_json:
        print_json({"encoder": version, "path": str(kept)})
    return 0


def _encoder_versions(settings: Settings, as_json: bool) -> int:
    running = model_version(resolve_encoder_path(settings))
    found = encoder_versions(settings.store_dir)
    if not found:
        raise ModelLoadError(
            f"no encoder kept in {settings.store_dir} (workers run {running}): "
            "`argus models add-encoder PATH` keeps one"
        )
    for version in found:
        print(f"{'*' if version == running else ' '} {version}")
    if as_json:
        print_json(
            {
                "task": ENCODER,
                "versions": [
                    {"version": v, "path": str(p), "running": v == running}
                    for v, p in found.items()
                ],
            }
        )
    return 0


def _encoder_switched(settings: Settings, switch: EncoderSwitch, as_json: bool) -> int:
    heads = ", ".join(f"{t} {v}" for t, v in sorted(switch.heads.items())) or "none in the store"
    pinned = (
        f"; workers with ARGUS_ENCODER_PATH={settings.encoder_path} keep theirs"
        if settings.encoder_path
        else ""
    )
    say(
        f"encoder now {switch.encoder} (heads: {heads}): running workers reload within "
        f"{settings.models_refresh_seconds:g} s (ARGUS_MODELS_REFRESH_SECONDS){pinned}"
    )
    if as_json:
        print_json(switch.model_dump(mode="json"))
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
    as_json: bool = False,
) -> int:
    """Head-only training into the store, or (`full_out`) a fine-tuned checkpoint there."""
    ds = read_labelled_file(data, text_field, label_field)
    if full_out is not None:
        from models.finetune import finetune

        metrics = finetune(
            task,
            ds,
            resolve_encoder_path(settings),
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
        if task in CHECKPOINT_TASKS:
            print(
                f"workers (and `argus score`) use it with ARGUS_{task.upper()}_MODEL_PATH="
                f"{full_out}; `argus eval --task {task} --model {full_out}` evaluates it"
            )
        else:
            print(
                f"`argus eval --task {task} --model {full_out}` evaluates it; workers run "
                f"checkpoints for {' and '.join(CHECKPOINT_TASKS)} only (a head of the store, "
                "`argus train` without --full, runs for any task)"
            )
        if as_json:
            print_json(
                {
                    "task": task,
                    "model": str(full_out),  # the checkpoint's folder
                    "accuracy": metrics.accuracy,
                    "macro_f1": metrics.macro_f1,
                    "n": metrics.n,
                    "scored_by_workers": task in CHECKPOINT_TASKS,
                }
            )
        return 0
    encoder = load_encoder(settings)
    progress = Progress()
    card = train_task(task, ds, encoder, settings.store_dir, progress.update, seed)
    print(card.summary())
    stored = settings.store_dir / task
    where = f"scores.{task}" if task in CHECKPOINT_TASKS else f"scores.heads ({task})"
    runs = (stored / CARD_FILE).is_file() and read_card(stored).version == card.version
    if runs:
        print(
            f"stored in {stored}; workers score every event with it into {where} (running ones "
            f"swap it in within {settings.models_refresh_seconds:g} s; `argus models rollback "
            f"{task}` goes back); `argus eval --task {task}` evaluates it"
        )
    else:
        print(
            f"kept in {stored / 'versions'}: it is for encoder {card.encoder}, not the one "
            f"workers run; `argus models use {ENCODER}@{card.encoder.rpartition('@')[2]}` "
            "switches them to that encoder and its heads"
        )
    if as_json:
        print_json(
            {
                "task": task,
                "model": card.version,
                "stored": str(stored),
                "running": runs,
                "accuracy": card.metrics.accuracy,
                "macro_f1": card.metrics.macro_f1,
                "n": card.metrics.n,
                "scored_by_workers": True,
            }
        )
    return 0


def _classifier_for(model: Path, encoder: SentenceEncoder, settings: Settings) -> Classifier:
    if (model / CARD_FILE).is_file():
        return HeadClassifier(*load_head(model), encoder)
    placement = resolve_placement(settings.device, settings.cpu_threads)
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
    return clf.predict(texts, encode_texts(encoder, texts)).numpy()


def cmd_eval(
    settings: Settings,
    task: str,
    model: Path | None,
    data: Path | None,
    as_json: bool,
    int8: bool,
) -> int:
    if task == "relations":
        return _eval_relations(settings, data, as_json)
    if task == "entities":
        return _eval_entities(settings, data, as_json)
    encoder = load_encoder(settings)
    model = model or heads_in_use(settings).get(task)
    if model is None and task == "topic":
        # What workers run without a topic head: the taxonomy of ARGUS_TOPICS_PATH.
        from models.engine import readable_languages
        from models.topics import topics_from_settings
        from streams.watchlist import load_watchlist

        names = load_watchlist(settings.watchlist_path).mentions
        languages = readable_languages(settings, encoder)
        clf = topics_from_settings(settings, encoder, languages, names)
    else:
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
        print_json(out)
    return 0


# The frozen relation sets (data/eval/README-relations.md), English and Chinese.
RELATION_SETS = ("data/eval/relations_en.jsonl", "data/eval/relations_zh.jsonl")
ENTITY_SETS = ("data/eval/entities_en.jsonl", "data/eval/entities_zh.jsonl")


def _eval_sets(
    task: str,
    model: str,
    paths: list[Path],
    evaluate: Callable[[Path], tuple[Any, str]],
    as_json: bool,
) -> int:
    """Each labelled set's table, under its name and digest (the frozen sets' READMEs list
    them), and with --json all reports in one line. `evaluate`: a set's report (a pydantic
    model with `sentences` and `table()`) and a note on it."""
    out = []
    for path in paths:
        report, note = evaluate(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.name} (sha256 {digest[:12]}): {report.sentences} sentences, {note}")
        print(report.table())
        out.append({"data": str(path), "sha256": digest, **report.model_dump(mode="json")})
    if as_json:
        print_json({"task": task, "model": model, "reports": out})
    return 0


def _eval_relations(settings: Settings, data: Path | None, as_json: bool) -> int:
    """The pattern baseline and, where the multilingual encoder is, the shipped relation head
    on labelled relation sentences: precision, recall and F1 per relation."""
    from models.relation_head import load_relation_head
    from models.relation_setup import SHIPPED_RELATION_HEAD
    from models.relations import (
        SHIPPED_RELATIONS,
        PatternExtractor,
        RelationExtractor,
        RelationReport,
        evaluate_relations,
        read_relation_examples,
        read_relations,
    )

    relation_set = read_relations()
    extractors: dict[str, RelationExtractor] = {"patterns": PatternExtractor(relation_set)}
    folder = settings.multilingual_dir
    if folder.is_dir():
        encoder = load_encoder(settings, folder)
        head = load_relation_head(SHIPPED_RELATION_HEAD, encoder, relation_set)
        extractors[head.card.version] = head
    else:
        say(f"no multilingual encoder at {folder} (`argus models e5` makes it): the baseline only")
    root = SHIPPED_RELATIONS.parent  # the checkout the shipped relation set sits in
    paths = [data] if data is not None else [root / p for p in RELATION_SETS]

    def evaluator(name: str) -> Callable[[Path], tuple[RelationReport, str]]:
        def evaluate(path: Path) -> tuple[RelationReport, str]:
            report = evaluate_relations(read_relation_examples(path), extractors[name])
            given = report.negatives_with_predictions
            return report, f"{given} of {report.negatives} negatives given a relation; {name}"

        return evaluate

    for name in extractors:
        _eval_sets("relations", name, paths, evaluator(name), as_json)
    return 0


def _eval_entities(settings: Settings, data: Path | None, as_json: bool) -> int:
    """The entity finder on labelled sentences: organisation and person mentions, exact and
    overlapping spans."""
    from models.entities import (
        EntityFinder,
        EntityReport,
        evaluate_entities,
        read_entity_examples,
    )
    from models.relations import SHIPPED_RELATIONS
    from streams.watchlist import load_watchlist

    finder = EntityFinder(load_watchlist(settings.watchlist_path).mentions)

    def evaluate(path: Path) -> tuple[EntityReport, str]:
        report = evaluate_entities(read_entity_examples(path), finder)
        return report, "organisation and person mentions, the watch list linked"

    root = SHIPPED_RELATIONS.parent
    paths = [data] if data is not None else [root / p for p in ENTITY_SETS]
    return _eval_sets("entities", "rules", paths, evaluate, as_json)


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
    record: InputRecord | None = None  # a whole record, not a text line


TEXT_LINE = '{"id": ..., "text": ...}'  # what `argus train`/`eval` read, less the label


def _expected(source: Source | None) -> str:
    records = f"a {source} record" if source else f"a record of {', '.join(SCHEMAS)}"
    return f"expected {records} or {TEXT_LINE} (plain text lines: --text)"


def _text_line(obj: dict[str, object], n: int) -> ScoreInput | None:
    """`{"text": ..., "id": ...}` (other fields, such as `label`, are ignored); `id` defaults
    to the line number, as with --text."""
    text, rid = obj.get("text"), obj.get("id", n)
    if not isinstance(text, str) or not text.strip():
        return None
    if isinstance(rid, bool) or not isinstance(rid, str | int) or not str(rid).strip():
        return None
    return ScoreInput(str(rid).strip(), text)


def read_score_inputs(
    lines: TextIO, source: Source | None, text_mode: bool
) -> Iterator[ScoreInput]:
    """One input per non-blank line: plain text (`text_mode`); else a record of `source` (or
    of any source), or a JSON object with a `text` string and an optional `id`, the lines
    `argus train` and `argus eval` read. Anything else is an input with an error that says
    what was expected."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if text_mode:
            yield ScoreInput(str(n), line.rstrip("\n"))
            continue
        yield _score_input(line, n, source)


def _score_input(line: str, n: int, source: Source | None) -> ScoreInput:
    where = f"line {n}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return ScoreInput(where, None, f"not JSON ({e.msg}): {_expected(source)}")
    if not isinstance(obj, dict):
        return ScoreInput(where, None, f"not a JSON object: {_expected(source)}")
    errors = []
    for s in [source] if source else list(SCHEMAS):
        try:
            rec = SCHEMAS[s].model_validate_json(line)  # as the worker reads it
        except ValidationError as e:
            errors.append(f"not a {s} record: {describe_validation_error(e, limit=2)}")
            continue
        return ScoreInput(rec.record_id, rec.scoring_text(), record=rec)
    if source:  # a whole record of another source is on the wrong feed, not a text line
        for other, schema in SCHEMAS.items():
            if other != source and _validates(schema, line):
                return ScoreInput(where, None, f"a {other} record, not a {source} record")
    found = _text_line(obj, n)
    if found is not None:
        return found
    return ScoreInput(where, None, f"{_expected(source)}; " + "; ".join(errors))


def _validates(schema: type[BaseModel], line: str) -> bool:
    try:
        schema.model_validate_json(line)
    except ValidationError:
        return False
    return True


def cmd_score(
    settings: Settings,
    source: Source | None,
    text_mode: bool,
    batch: int = 64,
    as_json: bool = False,
) -> int:
    """Scores each input line to one JSON line; an invalid line gives `{"id", "error"}`."""
    from models.engine import ScoringEngine
    from models.portfolio import explain_matches
    from streams.watchlist import load_watchlist

    tagger = load_watchlist(settings.watchlist_path)
    engine = ScoringEngine.from_settings(settings, find_mentions=tagger.mentions)
    bad = 0
    scored = 0
    pending: list[ScoreInput] = []

    def flush() -> None:
        texts = [p.text for p in pending if p.text is not None]
        scores = iter(engine.score_texts(texts) if texts else [])
        for item in pending:
            if item.text is None:
                print(json.dumps({"id": item.id, "error": item.error}, ensure_ascii=False))
                continue
            s = next(scores)
            if item.record is not None:
                explain_matches(s.similarity, item.record, engine.portfolio_item)
            print(
                json.dumps(
                    {
                        "id": item.id,
                        "language": s.language.model_dump() if s.language else None,
                        "entities": tagger.tag(item.text),
                        "sentiment": s.sentiment.model_dump() if s.sentiment else None,
                        "entity_sentiment": [v.model_dump() for v in s.entity_sentiment],
                        "relations": [r.model_dump() for r in s.relations],
                        "summary": s.summary,
                        "topic": s.topic.model_dump() if s.topic else None,
                        "heads": [h.model_dump() for h in s.heads],
                        "unscored": s.unscored,
                        "similarity": {"matches": [m.model_dump() for m in s.similarity]},
                        "models": s.models,
                    },
                    ensure_ascii=False,
                )
            )
        sys.stdout.flush()
        pending.clear()

    for item in read_score_inputs(sys.stdin, source, text_mode):
        bad += item.text is None
        scored += item.text is not None
        pending.append(item)
        if len(pending) >= batch:
            flush()
    flush()
    if as_json:
        print_json({"scored": scored, "errors": bad})
    return 1 if bad else 0
