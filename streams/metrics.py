"""Prometheus metrics of one worker, in a registry of its own (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


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
        self.model_seconds = Histogram(
            "argus_model_seconds",
            "Scoring time per micro-batch (all models).",
            ["source"],
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

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
