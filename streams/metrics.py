"""Prometheus metrics of one worker, in a registry of its own (no process-global state but
the count of undecodable batches, which the fetcher keeps: see `UndecodableBatches`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from streams.faust_shims import undecodable_batches

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Powers of two around the token budgets (2048 on CPU, 16384 on CUDA by default).
TOKEN_BUCKETS = tuple(2**n for n in range(6, 17))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records = Counter(
            "argus_records",
            "Records by source and outcome: consumed, indexed, dead_lettered.",
            ["source", "outcome"],
            registry=r,
        )
        self.dead_letters = Counter(
            "argus_dead_letters",
            "Dead letters by source and stage.",
            ["source", "stage"],
            registry=r,
        )
        self.batch_size = Histogram(
            "argus_batch_records",
            "Records per micro-batch.",
            ["source"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.batch_tokens = Histogram(
            "argus_batch_tokens",
            "Padded tokens per model forward pass (texts x longest text), the figure "
            "ARGUS_MAX_BATCH_TOKENS caps: passes bunched at the cap mean the cap decides the "
            "batch shape (raise it if accelerator memory allows); passes far below it mean "
            "micro-batches are too small to fill it.",
            buckets=TOKEN_BUCKETS,
            registry=r,
        )
        self.model_seconds = Histogram(
            "argus_model_seconds",
            "Scoring time per micro-batch (all models).",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.scorer_seconds = Histogram(
            "argus_scorer_seconds",
            "Time per scoring call by scorer: tokenize (texts and passages, on its own thread, "
            "beside the model's), encoder, topic, sentiment, portfolio (its own encoder pass "
            "over passages included), novelty (patents only). Heads on the encoder's features "
            "take next to nothing; checkpoint classifiers run their own pass.",
            ["scorer"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.bulk_seconds = Histogram(
            "argus_bulk_seconds",
            "Elasticsearch bulk write time per micro-batch.",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.bulk_failures = Counter(
            "argus_bulk_item_failures",
            "Documents Elasticsearch refused for good.",
            ["source"],
            registry=r,
        )
        self.rule_hits = Counter(
            "argus_rule_hits", "Rule hits published, by rule.", ["rule"], registry=r
        )
        self.alerts = Counter(
            "argus_alerts",
            "Alerts raised or resolved, by rule and action.",
            ["rule", "action"],
            registry=r,
        )
        self.rule_seconds = Histogram(
            "argus_rule_seconds",
            "Rule evaluation time per hit, alert writes included.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.notifications = Counter(
            "argus_notifications",
            "Notifications by channel and outcome: delivered, failed, silenced, duplicate.",
            ["channel", "outcome"],
            registry=r,
        )
        self.notify_seconds = Histogram(
            "argus_notify_seconds",
            "Delivery time per notification, retries included.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "argus_consumer_lag",
            "Records not yet committed per partition this worker's agents own: high-water "
            "mark minus committed offset (the earliest offset if none), read every 10 s. "
            "Approximate (too low) on the embedded broker, which under-reports high-water "
            "marks of partitions written in multi-record batches.",
            ["topic", "partition"],
            registry=r,
        )

        r.register(UndecodableBatches())

    def set_consumer_lag(self, lags: Mapping[tuple[str, int], int]) -> None:
        """Replace every lag series, so partitions this worker lost stop being reported."""
        self.consumer_lag.clear()
        for (topic, partition), lag in lags.items():
            self.consumer_lag.labels(topic, str(partition)).set(lag)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class UndecodableBatches(Collector):
    """`argus_undecodable_batches_total`: counted by the consumer's fetcher, which is one per
    process (streams/faust_shims.py, `skip_undecodable_batches`), so read from there."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "argus_undecodable_batches",
            "Record batches the consumer could not decode (a codec's library missing, a "
            "damaged payload, a CRC that fails on every fetch), by topic: each offset of such "
            "a batch is dead-lettered with the reason, the first with the batch's raw bytes.",
            labels=["topic"],
        )
        for topic, n in sorted(undecodable_batches().items()):
            family.add_metric([topic], n)
        yield family
