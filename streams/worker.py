"""`argus worker`: load the models, build the app, attach the agents, run Faust."""

from __future__ import annotations

import asyncio
import logging

import faust
from aiohttp import web
from elasticsearch import ApiError, TransportError

from indexer.client import make_client
from indexer.portfolio_index import ABSENT, portfolio_version, put_items, read_items
from indexer.templates import install_templates
from models.engine import ScoringEngine
from models.loading import ModelLoadError
from models.noop import NoopEngine
from models.portfolio import PortfolioItem, read_portfolio
from streams.agents import ScoringPipeline, register_agents
from streams.alerting import register_alerting
from streams.app import create_app
from streams.contracts.connections import Endpoints, resolve_endpoints
from streams.contracts.settings import Settings
from streams.http import make_http_app, serve
from streams.logs import logging_config
from streams.metrics import Metrics
from streams.notifiers.channels import close_notifiers, configured_notifiers
from streams.publisher import Publisher
from streams.rules.files import load_rules
from streams.watchlist import load_watchlist

log = logging.getLogger(__name__)


async def load_portfolio(
    settings: Settings, endpoints: Endpoints
) -> tuple[list[PortfolioItem], str]:
    """The portfolio index's items and version; ARGUS_PORTFOLIO_PATH's items are added first."""
    es = make_client(settings, endpoints)
    try:
        await install_templates(es)
        if settings.portfolio_path:
            await put_items(es, read_portfolio(settings.portfolio_path))
        return await read_items(es), await portfolio_version(es)
    finally:
        await es.close()


def watch_portfolio(
    app: faust.App, pipeline: ScoringPipeline, settings: Settings, version: str
) -> None:
    """Reload the portfolio when its index changes, without a restart."""
    seen = {"version": version}

    @app.timer(interval=settings.portfolio_refresh_seconds)
    async def refresh_portfolio() -> None:
        try:
            current = await portfolio_version(pipeline.es)
            if current == seen["version"]:
                return
            if current == ABSENT:
                # A search server that lost its data (a fresh embedded one) is not an
                # instruction to forget the portfolio: keep matching until it is re-added.
                log.warning(
                    "the portfolio index is gone; keeping the %d items in memory",
                    len(pipeline.engine.portfolio.items),
                )
                seen["version"] = current  # warn once, reload when it is back
                return
            items = await read_items(pipeline.es)
        except (TransportError, ApiError) as e:
            log.warning("portfolio check failed, keeping the current one: %s", e)
            return
        await pipeline.engine.reload_portfolio(items)
        seen["version"] = current
        log.info("portfolio reloaded: %d items (version %s)", len(items), current)


def watch_models(app: faust.App, pipeline: ScoringPipeline, settings: Settings) -> None:
    """Swap in the encoder and heads switched in the model store, without a restart."""

    @app.timer(interval=settings.models_refresh_seconds)
    async def refresh_models() -> None:
        try:
            changed = await pipeline.engine.reload_models(settings)
        except (ModelLoadError, OSError) as e:  # half written, or a bad card: keep what runs
            log.warning("model store check failed, keeping the running models: %s", e)
            return
        if changed:
            log.info("models reloaded: %s", ", ".join(changed))


LAG_REFRESH_SECONDS = 10.0


def watch_consumer_lag(app: faust.App, metrics: Metrics) -> None:
    """argus_consumer_lag for the partitions of the agents' topics that this worker owns."""

    @app.timer(interval=LAG_REFRESH_SECONDS)
    async def refresh_consumer_lag() -> None:
        consumer = app.consumer
        topics = {t for agent in app.agents.values() for t in agent.get_topic_names()}
        try:
            tps = [tp for tp in consumer.assignment() if tp.topic in topics]
            ends = await consumer.highwaters(*tps)
            # Faust has no public getter for committed offsets, and its monitor sees only the
            # commits made since the last rebalance: a worker stuck since then would show none.
            committed = {tp: consumer._committed_offset.get(tp) for tp in tps}
            never = [tp for tp, offset in committed.items() if offset is None]
            # Nothing committed yet: consumption starts at the earliest offset.
            committed.update(await consumer.earliest_offsets(*never) if never else {})
        except Exception as e:  # noqa: BLE001 - a monitoring read must never stop the worker
            log.warning("consumer lag not refreshed: %r", e)
            return
        metrics.set_consumer_lag(
            {
                # max: the embedded broker under-reports high-water marks (architecture.md)
                (tp.topic, tp.partition): max(0, ends[tp] - offset)
                for tp, offset in committed.items()
                if offset is not None and ends.get(tp) is not None
            }
        )


def serve_probes(
    app: faust.App, pipeline: ScoringPipeline, settings: Settings, endpoints: Endpoints
) -> None:
    """/metrics, /healthz and /readyz on ARGUS_METRICS_HOST:ARGUS_METRICS_PORT."""
    runner: list[web.AppRunner] = []

    @app.task
    async def start_probes() -> None:
        http_app = make_http_app(
            pipeline.metrics, pipeline.es, endpoints.kafka_bootstrap, token=settings.metrics_token
        )
        try:
            runner.append(await serve(http_app, settings.metrics_host, settings.metrics_port))
        except OSError as e:  # a taken port must not stop the scoring
            log.error("cannot serve metrics on port %d: %s", settings.metrics_port, e)

    @app.on_before_shutdown.connect
    async def stop_probes(app: faust.App, **kwargs: object) -> None:
        for r in runner:
            await r.cleanup()


def run_worker(settings: Settings) -> None:
    endpoints = resolve_endpoints(settings)
    # Rules, models, then the portfolio, load before Kafka is touched: a missing model fails
    # fast, with no rebalance, and no event is scored against an empty portfolio.
    rules = load_rules(settings.rules_dir)
    tagger = load_watchlist(settings.watchlist_path)
    engine = (
        NoopEngine()
        if settings.scoring == "noop"
        else ScoringEngine.from_settings(
            settings, portfolio_items=[], find_mentions=tagger.mentions
        )
    )
    items, version = asyncio.run(load_portfolio(settings, endpoints))
    asyncio.run(engine.reload_portfolio(items))
    log.info("%d alert rules, %d watched entities", len(rules), len(tagger))
    app = create_app(settings, endpoints)
    es = make_client(settings, endpoints)
    publisher = Publisher(app, settings, endpoints)
    pipeline = ScoringPipeline(app, settings, engine, es, rules, tagger, publisher)
    register_agents(app, pipeline, settings)
    notifiers = configured_notifiers(settings)
    register_alerting(app, settings, rules, es, notifiers, pipeline.metrics, publisher)

    @app.on_before_shutdown.connect
    async def close_notifier_sessions(app: faust.App, **kwargs: object) -> None:
        await close_notifiers(notifiers)

    watch_portfolio(app, pipeline, settings, version)
    watch_models(app, pipeline, settings)
    if settings.metrics_port:
        watch_consumer_lag(app, pipeline.metrics)
        serve_probes(app, pipeline, settings, endpoints)
    faust.Worker(
        app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level),
        redirect_stdouts=False,
        quiet=True,
    ).execute_from_commandline()
