"""Which relation extractor a worker runs (ARGUS_RELATIONS, ARGUS_RELATIONS_PATH)."""

from __future__ import annotations

import logging

from models.loading import ModelLoadError
from models.relations import PatternExtractor, RelationExtractor, read_relations
from models.scorers import SentenceEncoder
from streams.contracts.settings import Settings

log = logging.getLogger(__name__)


def load_relation_extractor(
    settings: Settings, multilingual: SentenceEncoder | None
) -> RelationExtractor | None:
    """None when no relation set is configured; the cue baseline or the trained head, as
    ARGUS_RELATIONS says. `multilingual`: the encoder the head was trained on, if loaded."""
    path = settings.relations_path
    if path is None or not path.exists():
        return None
    relation_set = read_relations(path)
    if settings.relations == "patterns":
        return PatternExtractor(relation_set)
    head = None  # the trained head lands with models/relation_head.py
    if head is None:
        if settings.relations == "head":
            raise ModelLoadError(
                "ARGUS_RELATIONS=head: no relation head for the multilingual encoder"
                + ("" if multilingual else " (none is loaded: `argus models e5` makes it)")
                + "; ARGUS_RELATIONS=patterns runs the cue baseline"
            )
        log.info("relations: the cue baseline (%d relations)", len(relation_set.relations))
        return PatternExtractor(relation_set)
    return head
