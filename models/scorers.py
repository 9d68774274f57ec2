"""The scorers: a sentence encoder, and classifiers that share its embedding or run alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import torch

from models.forward import mean_pool_normalised, run_batched, softmax_logits
from models.loading import LoadedModel, ModelLoadError


class SentenceEncoder:
    def __init__(self, loaded: LoadedModel, max_tokens: int) -> None:
        self.loaded = loaded
        self.max_tokens = max_tokens
        self.version = loaded.version

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        return run_batched(self.loaded, texts, self.max_tokens, mean_pool_normalised)


class Classifier(Protocol):
    labels: list[str]
    version: str

    def predict(self, texts: Sequence[str], embeddings: torch.Tensor) -> torch.Tensor:
        """Class probabilities, one row per text, columns in `labels` order."""
        ...


class CheckpointClassifier:
    """A Hugging Face sequence-classification checkpoint that runs its own forward pass."""

    def __init__(
        self, loaded: LoadedModel, max_tokens: int, required_labels: Sequence[str] | None = None
    ) -> None:
        self.loaded = loaded
        self.max_tokens = max_tokens
        self.version = loaded.version
        id2label = loaded.model.config.id2label
        self.labels = [str(id2label[i]).lower() for i in range(len(id2label))]
        if required_labels is not None and sorted(self.labels) != sorted(required_labels):
            raise ModelLoadError(
                f"{loaded.path}: labels {self.labels} must be exactly {list(required_labels)}"
            )

    def predict(self, texts: Sequence[str], embeddings: torch.Tensor) -> torch.Tensor:
        return run_batched(self.loaded, texts, self.max_tokens, softmax_logits)


class PrototypeClassifier:
    """Zero-shot: each label is the mean embedding of a few describing phrases.

    No training data needed, so the demo has topic and sentiment columns before
    trained heads exist; it reuses the encoder's embedding, costing no extra pass.
    """

    def __init__(
        self,
        encoder: SentenceEncoder,
        phrases: Mapping[str, Sequence[str]],
        name: str,
        temperature: float = 0.05,
    ) -> None:
        self.labels = list(phrases)
        protos = [encoder.embed(list(p)).mean(0) for p in phrases.values()]
        self.prototypes = torch.nn.functional.normalize(torch.stack(protos), dim=-1)
        self.temperature = temperature
        self.version = f"{name}-prototypes@{encoder.version}"

    def predict(self, texts: Sequence[str], embeddings: torch.Tensor) -> torch.Tensor:
        return torch.softmax(embeddings @ self.prototypes.T / self.temperature, dim=-1)


SENTIMENT_LABELS = ("negative", "neutral", "positive")

SENTIMENT_PHRASES: dict[str, list[str]] = {
    "negative": [
        "This is terrible news, losses and failure.",
        "Shares plunged after the company missed forecasts and cut jobs.",
        "I hate this, it is awful and disappointing.",
        "The lawsuit alleges fraud and the outlook is grim.",
    ],
    "neutral": [
        "The company will publish its report on Tuesday.",
        "The meeting is scheduled for next week.",
        "This document describes the method and its parts.",
        "The filing lists the inventors and the application date.",
    ],
    "positive": [
        "Great news, record profits and strong growth.",
        "Shares soared after the company beat expectations.",
        "I love this, it is excellent and works perfectly.",
        "The launch was a success and customers are delighted.",
    ],
}

TOPIC_PHRASES: dict[str, list[str]] = {
    "markets": ["stock market, shares, earnings, investors", "quarterly results and revenue"],
    "technology": ["software, chips, artificial intelligence", "smartphones, cloud computing"],
    "legal": ["lawsuit, court ruling, patent infringement", "regulators fine the company"],
    "politics": ["government, election, parliament, policy", "ministers and diplomacy"],
    "health": ["medicine, drug trial, hospital, vaccine", "disease and patients"],
    "energy": ["oil, gas, solar and wind power", "electricity grid and batteries"],
    "consumer": ["retail products, brands, shopping", "food, fashion and household goods"],
}
