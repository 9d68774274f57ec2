"""Which relation extractor a worker runs (ARGUS_RELATIONS, ARGUS_RELATIONS_PATH)."""

from __future__ import annotations

import logging

from models.loading import ModelLoadError
from models.relation_head import load_relation_head
from models.relations import PatternExtractor, RelationExtractor, read_relations
from models.scorers import SentenceEncoder
from models.store import SHIPPED_HEADS
from streams.contracts.settings import Settings

log = logging.getLogger(__name__)

# The head trained on multilingual-e5-small (python -m models.relation_head train).
SHIPPED_RELATION_HEAD = SHIPPED_HEADS / "relations-multilingual-e5-small"


def load_relation_extractor(
    settings: Settings, encoders: list[SentenceEncoder]
) -> RelationExtractor | None:
    """None when no relation set is configured; the trained head or the cue baseline, as
    ARGUS_RELATIONS says. `encoders`: the loaded encoders, the one the head was trained on
    among them or not."""
    path = settings.relations_path
    if path is None or not path.exists():
        return None
    relation_set = read_relations(path)
    if settings.relations == "patterns":
        return PatternExtractor(relation_set)
    problem = "none of the loaded encoders is the one it was trained on"
    for encoder in encoders:
        try:
            head = load_relation_head(SHIPPED_RELATION_HEAD, encoder, relation_set)
        except ModelLoadError as e:
            problem = str(e)
            continue
        log.info("relations: the head %s over %s", head.card.version, encoder.version)
        return head
    if settings.relations == "head":
        raise ModelLoadError(
            f"ARGUS_RELATIONS=head: {problem} (`argus models e5` makes the multilingual "
            "encoder); ARGUS_RELATIONS=patterns runs the cue baseline"
        )
    log.info("relations: the cue baseline (%d relations): %s", len(relation_set.relations), problem)
    return PatternExtractor(relation_set)
