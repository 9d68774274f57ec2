"""The scorers: a sentence encoder, and classifiers that share its embedding or run alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from models.forward import pooled_last_two_layers, run_batched, softmax_logits, tokenize
from models.heads import Head
from models.loading import LoadedModel, ModelLoadError, same_tokenization
from models.store import ModelCard


@dataclass(frozen=True)
class Encoded:
    features: torch.Tensor  # [n, 2d]: what the task heads read
    ids: Sequence[list[int]]  # the token ids they came from, for models that tokenise alike

    @property
    def embeddings(self) -> torch.Tensor:
        """[n, d] L2-normalised sentence embeddings: what similarity compares."""
        return self.features[:, : self.features.shape[1] // 2]


class SentenceEncoder:
    def __init__(self, loaded: LoadedModel, max_tokens: int) -> None:
        self.loaded = loaded
        self.max_tokens = max_tokens
        self.version = loaded.version

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return tokenize(self.loaded, texts)

    def encode_tokens(self, ids: Sequence[list[int]]) -> Encoded:
        """The forward passes alone, on texts `tokenize` has already made ids of."""
        feats = run_batched(
            self.loaded, ids, self.max_tokens, pooled_last_two_layers, output_hidden_states=True
        )
        return Encoded(feats, ids)

    def encode(self, texts: Sequence[str]) -> Encoded:
        return self.encode_tokens(self.tokenize(texts))

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        return self.encode(texts).embeddings

    @property
    def dim(self) -> int:
        """Width of `embed`'s rows: the encoder's hidden size (mean pooling keeps it)."""
        return int(self.loaded.model.config.hidden_size)


class Classifier(Protocol):
    labels: list[str]
    version: str

    def predict(self, texts: Sequence[str], encoded: Encoded) -> torch.Tensor:
        """Class probabilities, one row per text, columns in `labels` order."""
        ...


def check_labels(where: object, labels: Sequence[str], required: Sequence[str] | None) -> None:
    if required is not None and sorted(labels) != sorted(required):
        raise ModelLoadError(f"{where}: labels {list(labels)} must be exactly {list(required)}")


class CheckpointClassifier:
    """A Hugging Face sequence-classification checkpoint that runs its own forward pass."""

    def __init__(
        self,
        loaded: LoadedModel,
        max_tokens: int,
        required_labels: Sequence[str] | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        """`encoder`: the engine's, whose token ids it reuses if both tokenise alike (a
        checkpoint fine-tuned from that encoder does)."""
        self.loaded = loaded
        self.max_tokens = max_tokens
        self.version = loaded.version + ("+int8" if loaded.int8 else "")
        self.reuses_encoder_ids = encoder is not None and same_tokenization(encoder.loaded, loaded)
        id2label = loaded.model.config.id2label
        self.labels = [str(id2label[i]).lower() for i in range(len(id2label))]
        check_labels(loaded.path, self.labels, required_labels)

    def predict(self, texts: Sequence[str], encoded: Encoded) -> torch.Tensor:
        ids = encoded.ids if self.reuses_encoder_ids else tokenize(self.loaded, texts)
        return run_batched(self.loaded, ids, self.max_tokens, softmax_logits)


class HeadClassifier:
    """A head from the model store, reading the shared encoder's features."""

    def __init__(
        self,
        head: Head,
        card: ModelCard,
        encoder: SentenceEncoder,
        required_labels: Sequence[str] | None = None,
    ) -> None:
        if card.encoder != encoder.version:
            raise ModelLoadError(
                f"the {card.task} head {card.version} was trained on encoder {card.encoder}, "
                f"but the encoder is {encoder.version}: rebuild it with `argus models build`"
            )
        # On the encoder's device, where the features are made: on a GPU the two small matrix
        # products cost less there than on host cores the tokeniser and event loop share.
        self.device = encoder.loaded.device
        self.head = head.to(self.device)
        self.labels = list(card.head.labels)
        self.version = card.version
        check_labels(card.version, self.labels, required_labels)

    def predict(self, texts: Sequence[str], encoded: Encoded) -> torch.Tensor:
        with torch.inference_mode():
            return self.head.predict(encoded.features.to(self.device), texts).cpu()


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
        version: str | None = None,
    ) -> None:
        """`version`: what events name it by, if not `<name>-prototypes@<encoder>`."""
        self.labels = list(phrases)
        protos = [encoder.embed(list(p)).mean(0) for p in phrases.values()]
        self.prototypes = torch.nn.functional.normalize(torch.stack(protos), dim=-1)
        self.temperature = temperature
        self.version = version or f"{name}-prototypes@{encoder.version}"

    def predict(self, texts: Sequence[str], encoded: Encoded) -> torch.Tensor:
        return torch.softmax(encoded.embeddings @ self.prototypes.T / self.temperature, dim=-1)


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
