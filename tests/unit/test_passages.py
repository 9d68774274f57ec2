from __future__ import annotations

from pathlib import Path

import torch

from models.engine import ScoringEngine
from models.passages import Passages, encode_texts, passages_of, text_features
from models.scorers import Encoded
from streams.contracts.settings import Settings


def unit(*values: float) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.tensor(values, dtype=torch.float32), dim=0)


def test_a_texts_features_are_its_passages_token_weighted_and_normalised_per_half() -> None:
    passages = Passages([["a", "b"], ["c"]], [[0, 1, 2, 3, 4], [0, 1, 2], [0, 1, 2]])
    rows = torch.stack(
        [
            torch.cat([unit(1, 0), unit(0, 1)]),
            torch.cat([unit(0, 1), unit(0, 1)]),
            torch.cat([unit(1, 1), unit(1, 0)]),
        ]
    )
    out = text_features(passages, Encoded(rows, passages.ids), window=100)
    # Passage a has 5 tokens, b 3: the first half leans towards a's direction.
    assert torch.allclose(out[0, :2], unit(5, 3))
    assert torch.allclose(out[0, 2:], unit(0, 1))
    assert torch.allclose(out[1], rows[2])  # one passage: its own features


def test_passages_past_the_window_do_not_count() -> None:
    # Passages of 4, 4 and 4 inner tokens: with a 6-token window the third begins at 8.
    ids = [[0, 1, 2, 3, 4, 5]] * 3
    passages = Passages([["a", "b", "c"]], ids)
    rows = torch.stack([torch.cat([unit(1, 0), unit(1, 0)])] * 2 + [torch.cat([unit(0, 1)] * 2)])
    out = text_features(passages, Encoded(rows, ids), window=6)
    assert torch.allclose(out[0], rows[0])
    assert not torch.allclose(text_features(passages, Encoded(rows, ids), window=9)[0], rows[0])


def test_a_blank_text_is_its_own_passage(tiny_models: dict[str, Path]) -> None:
    encoder = ScoringEngine.from_settings(
        Settings(encoder_path=tiny_models["encoder"], device="cpu")
    ).encoder
    assert passages_of(encoder, ["...", "One. Two is here."]).per_text[0] == ["..."]
    features = encode_texts(encoder, ["...", "Chips rally on strong demand."]).features
    assert torch.isfinite(features).all() and torch.allclose(
        features.norm(dim=1), torch.tensor(2.0).sqrt()
    )
    # A one-sentence text reads as one pass over it would.
    whole = encoder.encode(["Chips rally on strong demand."]).features
    assert torch.allclose(features[1], whole[0], atol=1e-5)
