"""Integration fixtures: a real embedded stack on free ports, and real worker processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from indexer.client import make_client
from streams import demo
from streams.contracts.connections import Endpoints, resolve_endpoints
from streams.contracts.settings import Settings
from streams.produce import produce_lines
from streams.stack import stack_down, stack_up
from tests.reliability_report import REPORT_ENV, FaultRecorder, FaultReport

pytestmark = pytest.mark.integration

PORTFOLIO_TEXT = "drone brand launch"
WATCHLIST = Path(__file__).resolve().parents[2] / "watchlist.yaml"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Settings, Endpoints]]:
    settings = Settings(state_dir=tmp_path / ".argus")
    stack_up(settings)
    try:
        yield settings, resolve_endpoints(settings)
    finally:
        stack_down(settings)


# Random tiny encoders make every text look alike: only an exact copy alerts.
INFRINGEMENT_RULE = """
name: portfolio-infringement
type: threshold
filter: {portfolio.score: {gte: 0.9999}}
field: portfolio.score
gte: 0.9999
group_by: [portfolio.item_id, doc_id]
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """The rules a test's workers load; tests add their own files to it."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "portfolio-infringement.yaml").write_text(INFRINGEMENT_RULE)
    return folder


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    p = tmp_path / "portfolio.jsonl"
    item = {"id": "tm-1", "kind": "trademark", "owner": "Acme", "text": PORTFOLIO_TEXT}
    p.write_text(json.dumps(item) + "\n")
    return p


WorkerFactory = Callable[..., subprocess.Popen[bytes]]


def scored(
    stack: tuple[Settings, Endpoints],
    worker: subprocess.Popen[bytes],
    topic: str,
    rows: list[dict],
    ids: list[str],
) -> dict[str, dict]:
    """Produce `rows` to `topic`, wait until `worker` indexed them, and read their events
    (ids `ids`) back, by event id."""
    settings, endpoints = stack
    lines = [json.dumps(r).encode() for r in rows]
    produced = asyncio.run(produce_lines(endpoints.kafka_bootstrap, topic, lines, False))
    deadline = time.monotonic() + 60
    log = settings.state_dir / "worker-0.log"
    while asyncio.run(demo.count_indexed(settings, endpoints, produced)) < len(rows):
        assert time.monotonic() < deadline and worker.poll() is None, log.read_text()
        time.sleep(0.3)

    async def read() -> dict[str, dict]:
        es = make_client(settings, endpoints)
        try:
            found = await es.search(index="argus-events-*", query={"ids": {"values": ids}})
            return {h["_id"]: h["_source"] for h in found["hits"]["hits"]}
        finally:
            await es.close()

    return asyncio.run(read())


@pytest.fixture
def start_worker(
    stack: tuple[Settings, Endpoints],
    tiny_models: dict[str, Path],
    portfolio: Path,
    rules_dir: Path,
) -> Iterator[WorkerFactory]:
    settings, _ = stack
    procs: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        """`env`: variables for the worker; an empty value leaves one of these unset."""
        overrides = {
            "ARGUS_STATE_DIR": str(settings.state_dir),
            "ARGUS_ENCODER_PATH": str(tiny_models["encoder"]),
            "ARGUS_TOPIC_MODEL_PATH": str(tiny_models["topic"]),
            "ARGUS_SENTIMENT_MODEL_PATH": str(tiny_models["sentiment"]),
            "ARGUS_PORTFOLIO_PATH": str(portfolio),
            "ARGUS_RULES_DIR": str(rules_dir),
            "ARGUS_WATCHLIST_PATH": str(WATCHLIST),
            "ARGUS_DEVICE": "cpu",
            "ARGUS_METRICS_PORT": "0",  # several workers share this machine
            **env,
        }
        overrides = {k: v for k, v in overrides.items() if v}
        proc = demo.start_worker(settings, overrides, f"worker-{len(procs)}.log")
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        demo.stop_worker(p)


@pytest.fixture(scope="session")
def _fault_rows(tmp_path_factory: pytest.TempPathFactory) -> FaultReport:
    # Under pytest's temporary directory unless asked: CI writes nothing into the repository.
    path = os.environ.get(REPORT_ENV) or tmp_path_factory.getbasetemp() / "reliability.json"
    return FaultReport(Path(path))


@pytest.fixture
def fault_report(_fault_rows: FaultReport, request: pytest.FixtureRequest) -> FaultRecorder:
    """Records the test's fault figures for docs/reliability.md (`make reliability`)."""
    return FaultRecorder(_fault_rows, request.node.nodeid.removeprefix("tests/integration/"))
