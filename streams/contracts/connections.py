"""Where Kafka and Elasticsearch are: the settings if set, else the embedded stack."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from streams.contracts.settings import ConfigError, Settings


class StackInfo(BaseModel):
    """Contents of `.argus/stack.json`, written by `argus stack up`. Holds no secrets."""

    kafka: str
    elasticsearch: str
    pids: dict[str, int]


def stack_file(settings: Settings) -> Path:
    return settings.state_dir / "stack.json"


def read_stack(settings: Settings) -> StackInfo | None:
    path = stack_file(settings)
    if not path.is_file():
        return None
    return StackInfo.model_validate(json.loads(path.read_text()))


@dataclass(frozen=True, slots=True)
class Endpoints:
    kafka_bootstrap: str
    es_url: str
    embedded: bool

    @property
    def faust_broker(self) -> str:
        return ",".join(f"kafka://{h}" for h in self.kafka_bootstrap.split(","))


def resolve_endpoints(settings: Settings) -> Endpoints:
    if settings.kafka_bootstrap and settings.es_url:
        return Endpoints(settings.kafka_bootstrap, settings.es_url, embedded=False)
    stack = read_stack(settings)
    if stack is None:
        raise ConfigError(
            "no Kafka/Elasticsearch to talk to: set ARGUS_KAFKA_BOOTSTRAP and ARGUS_ES_URL, "
            "or start the embedded stack with `argus stack up`"
        )
    return Endpoints(
        settings.kafka_bootstrap or stack.kafka,
        settings.es_url or stack.elasticsearch,
        embedded=not (settings.kafka_bootstrap or settings.es_url),
    )
