"""The first alert rule, pure: portfolio similarity at or over a threshold.

The alert id is derived from the event and the portfolio item, so a replayed
event yields the same id and `create` turns the second copy into a 409.
"""

from __future__ import annotations

import hashlib

from streams.schemas import Alert, ScoredEvent

RULE_NAME = "portfolio-similarity"


def alert_id(rule: str, event_doc_id: str, item_id: str) -> str:
    digest = hashlib.sha256(f"{rule}\x1f{event_doc_id}\x1f{item_id}".encode()).hexdigest()
    return f"{rule}:{digest[:32]}"


def similarity_alerts(event: ScoredEvent, threshold: float) -> list[Alert]:
    alerts = []
    for match in event.scores.similarity:
        if match.score < threshold:
            continue
        severity = "critical" if match.score >= 0.95 else "high"
        alerts.append(
            Alert(
                alert_id=alert_id(RULE_NAME, event.doc_id, match.item_id),
                rule=RULE_NAME,
                severity=severity,
                timestamp=event.timestamp,
                source=event.source,
                record_id=event.record_id,
                event_doc_id=event.doc_id,
                summary=(
                    f"{event.source} record {event.record_id} is {match.score:.2f} similar to "
                    f"{match.kind} {match.item_id}" + (f" ({match.owner})" if match.owner else "")
                ),
                figures={"similarity": match.score, "threshold": threshold},
                portfolio_item=match,
            )
        )
    return alerts
