"""The topic taxonomy the user owns (`topics.yaml`), and the classifier built from it.

No labelled corpus ships for market-risk topics, so each topic is a prototype: the mean
embedding of its description and its examples (docs/models.md, "Topics from topics.yaml").
Company names are masked in the examples first: the shipped examples name the same few
companies across topics, and MiniLM's embedding of a sentence leans on its names, so
unmasked prototypes learn "Voltaris" rather than "earnings" (leave-one-out accuracy on the
examples 0.38 unmasked, 0.66 masked).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.scorers import TOPIC_PHRASES, Classifier, PrototypeClassifier, SentenceEncoder
from streams.contracts.settings import ConfigError, Settings
from streams.contracts.yaml_files import load_yaml, require_unique

log = logging.getLogger(__name__)


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", description="The label on events.")
    description: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1, description="English examples.")
    examples_zh: list[str] = Field(default_factory=list, description="Chinese examples.")


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: list[Topic] = Field(min_length=2)

    @field_validator("topics")
    @classmethod
    def _unique(cls, topics: list[Topic]) -> list[Topic]:
        require_unique("topic", (t.name for t in topics))
        return topics


def load_taxonomy(path: Path) -> Taxonomy:
    return load_yaml(path, Taxonomy)


Masker = Callable[[str], list[tuple[int, int, str]]]


def mask_names(text: str, find: Masker | None) -> str:
    """`text` with each mention `find` reports replaced by "the company"."""
    if find is None:
        return text
    out, last = [], 0
    for start, end, _ in find(text):
        out += [text[last:start], "the company"]
        last = end
    return "".join(out) + text[last:]


def taxonomy_classifier(
    taxonomy: Taxonomy,
    encoder: SentenceEncoder,
    languages: Sequence[str],
    find_names: Masker | None,
) -> PrototypeClassifier:
    """Prototypes of every topic; Chinese examples count only if the encoder reads Chinese
    (otherwise their embeddings are of [UNK] tokens)."""
    phrases = {
        t.name: [
            t.description,
            *(mask_names(e, find_names) for e in t.examples),
            *(
                (mask_names(e, find_names) for e in t.examples_zh)
                if {"zh", "*"} & set(languages)
                else ()
            ),
        ]
        for t in taxonomy.topics
    }
    digest = hashlib.sha256(repr(sorted(phrases.items())).encode()).hexdigest()[:12]
    version = f"topics-prototypes@{digest}+{encoder.version}"
    return PrototypeClassifier(encoder, phrases, "topics", version=version)


def topics_from_settings(
    settings: Settings,
    encoder: SentenceEncoder,
    languages: Sequence[str],
    find_names: Masker | None,
) -> Classifier:
    """Topics from ARGUS_TOPICS_PATH; without the file, the placeholder prototypes."""
    path = settings.topics_path
    if path is not None and path.is_file():
        return taxonomy_classifier(load_taxonomy(path), encoder, languages, find_names)
    if path is not None and "topics_path" in settings.model_fields_set:
        raise ConfigError(f"topics file {path} does not exist (ARGUS_TOPICS_PATH)")
    log.warning("no topics file %s: topics are zero-shot placeholders", path)
    return PrototypeClassifier(encoder, TOPIC_PHRASES, "topic")
