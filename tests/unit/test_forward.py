from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.device import resolve_placement
from models.forward import pad
from models.loading import load_checkpoint


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_matches_the_tokenizers_own(tiny_models: dict[str, Path], side: str) -> None:
    loaded = load_checkpoint(
        tiny_models["encoder"], resolve_placement("cpu"), classifier=False, max_length=64
    )
    loaded.tokenizer.padding_side = side
    ids = [loaded.tokenizer(t)["input_ids"] for t in ["a", "a battery with a sensor", "the"]]
    ours = pad(loaded, ids)
    theirs = loaded.tokenizer.pad({"input_ids": ids}, return_tensors="pt")
    assert torch.equal(ours["input_ids"], theirs["input_ids"])
    assert torch.equal(ours["attention_mask"], theirs["attention_mask"])
