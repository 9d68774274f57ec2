"""Training task heads on the shared encoder's features: `argus models build` and `argus train`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from models.datasets import Dataset, news_topics, stratified_split, tweet_sentiment
from models.device import batch_tokens, resolve_placement
from models.engine import default_encoder_path
from models.evaluate import evaluate
from models.heads import HeadSpec, TrainConfig, train_head
from models.loading import load_checkpoint, model_version
from models.scorers import SENTIMENT_LABELS, SentenceEncoder
from models.store import DataCard, ModelCard, head_version, list_cards, save_head, usable_heads
from streams.settings import Settings

log = logging.getLogger(__name__)

Report = Callable[[str], None]

TEST_SHARE = 0.2  # held out, never seen in training or early stopping
VAL_SHARE = 0.1  # of the rest, for early stopping
SPLIT_SEED = 0


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_indices(y: np.ndarray, seed: int = SPLIT_SEED) -> Split:
    """The one split every command uses: `argus eval` recomputes it to find the held-out rows."""
    rest, test = stratified_split(y, TEST_SHARE, seed)
    fit, val = stratified_split(y[rest], VAL_SHARE, seed + 1)
    return Split(rest[fit], rest[val], test)


def load_encoder(settings: Settings) -> SentenceEncoder:
    placement = resolve_placement(settings.device)
    loaded = load_checkpoint(
        settings.encoder_path or default_encoder_path(),
        placement,
        classifier=False,
        max_length=settings.max_length,
    )
    return SentenceEncoder(loaded, batch_tokens(settings.max_batch_tokens, placement))


def encode_with_progress(
    encoder: SentenceEncoder, texts: list[str], what: str, report: Report, chunk: int = 2048
) -> torch.Tensor:
    parts, started = [], time.monotonic()
    for start in range(0, len(texts), chunk):
        parts.append(encoder.encode(texts[start : start + chunk]).features)
        done = min(len(texts), start + chunk)
        rate = done / max(1e-9, time.monotonic() - started)
        report(f"{what}: encoded {done}/{len(texts)} texts ({rate:.0f}/s)")
    return torch.cat(parts)


def label_order(task: str, ds: Dataset) -> list[str]:
    names = ds.label_names
    if task == "sentiment":
        # Scored events promise exactly these three labels.
        missing = sorted(set(SENTIMENT_LABELS) ^ set(names))
        if missing:
            raise ValueError(f"sentiment labels must be {list(SENTIMENT_LABELS)}, got {names}")
        return list(SENTIMENT_LABELS)
    return names


def train_task(
    task: str,
    ds: Dataset,
    encoder: SentenceEncoder,
    store: Path,
    report: Report,
    seed: int = 0,
    extra_train: Dataset | None = None,
) -> ModelCard:
    """Train, evaluate on the held-out split of `ds`, store. `extra_train` rows only train."""
    started = time.monotonic()
    labels = label_order(task, ds)
    y = ds.label_ids(labels)
    split = split_indices(y)
    x = encode_with_progress(encoder, ds.texts, task, report)
    x_train, y_train = x[split.train], y[split.train]
    source, sha256 = ds.source, ds.sha256
    if extra_train is not None:
        x_extra = encode_with_progress(encoder, extra_train.texts, extra_train.name, report)
        x_train = torch.cat([x_train, x_extra])
        y_train = np.concatenate([y_train, extra_train.label_ids(labels)])
        source = f"{ds.source} + training only: {extra_train.source}"
        sha256 = f"{ds.sha256} + {extra_train.sha256}"
    spec = HeadSpec(in_dim=x.shape[1], labels=labels)
    cfg = TrainConfig(seed=seed)
    report(f"{task}: training a {spec.arch} head on {len(y_train)} examples")
    head, info = train_head(spec, x_train, y_train, x[split.val], y[split.val], cfg)
    metrics = evaluate(y[split.test], head.probabilities(x[split.test]).numpy(), labels)
    card = ModelCard(
        task=task,
        version=head_version(task, head),
        head=spec,
        features="mean-pool of the last two encoder layers, each L2-normalised",
        encoder=encoder.version,
        data=DataCard(
            source=source,
            sha256=sha256,
            n_train=len(y_train),
            n_val=len(split.val),
            n_test=len(split.test),
            split=f"stratified, test {TEST_SHARE}, val {VAL_SHARE} of the rest, seed {SPLIT_SEED}",
        ),
        metrics=metrics,
        training={**info, "seconds": round(time.monotonic() - started, 1), "seed": seed},
        created=datetime.now(UTC),
    )
    save_head(store / task, head, card)
    report(
        f"{task}: {card.version} accuracy {metrics.accuracy:.3f}, macro-F1 {metrics.macro_f1:.3f} "
        f"on {metrics.n} held-out examples"
    )
    return card


DEFAULT_HEADS: dict[str, Callable[[], Dataset]] = {
    "sentiment": tweet_sentiment,
    "topic": news_topics,
}


def missing_default_heads(settings: Settings) -> list[str]:
    """Default tasks with no head in the store (the ones `argus models build` trains)."""
    have = {c.task for c in list_cards(settings.store_dir)}
    return [task for task in DEFAULT_HEADS if task not in have]


def heads_in_use(settings: Settings) -> dict[str, Path]:
    """Task -> the head folder a worker with these settings runs (models.store.usable_heads)."""
    encoder = model_version(settings.encoder_path or default_encoder_path())
    return usable_heads(settings.store_dir, encoder)


def build_default_heads(
    settings: Settings, tasks: list[str], report: Report, finance: bool = False
) -> list[ModelCard]:
    """`finance`: also train sentiment on the distant-supervision finance sentences."""
    encoder = load_encoder(settings)
    cards = []
    for task in tasks:
        extra = None
        if finance and task == "sentiment":
            from models.finance import distant_finance_sentences

            extra = distant_finance_sentences()
        cards.append(
            train_task(task, DEFAULT_HEADS[task](), encoder, settings.store_dir, report, 0, extra)
        )
    return cards
