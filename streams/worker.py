"""`argus worker`: load the models, build the app, attach the agents, run Faust."""

from __future__ import annotations

import faust

from indexer.client import make_client
from models.engine import ScoringEngine
from streams.agents import ScoringPipeline, register_agents
from streams.app import create_app
from streams.connections import resolve_endpoints
from streams.logs import logging_config
from streams.settings import Settings


def run_worker(settings: Settings) -> None:
    endpoints = resolve_endpoints(settings)
    # Models load before Kafka is touched: a missing model fails fast, with no rebalance.
    engine = ScoringEngine.from_settings(settings)
    app = create_app(settings, endpoints)
    pipeline = ScoringPipeline(app, settings, engine, make_client(settings, endpoints))
    register_agents(app, pipeline, settings)
    faust.Worker(
        app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level),
        redirect_stdouts=False,
        quiet=True,
    ).execute_from_commandline()
