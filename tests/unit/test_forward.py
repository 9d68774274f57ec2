from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models.device import resolve_placement
from models.forward import pad
from models.lanes import forward_lanes
from models.loading import load_checkpoint
from models.scorers import SentenceEncoder


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


def test_forward_lanes_run_single_threaded_and_leave_the_caller_alone() -> None:
    caller = torch.get_num_threads()
    lanes = forward_lanes(2)
    assert lanes is forward_lanes(2)  # one pool per process and size

    def after_a_parallel_op(_: int) -> tuple[str, int]:
        torch.ones(256, 256) @ torch.ones(256, 256)
        return threading.current_thread().name, torch.get_num_threads()

    seen = dict(lanes.map(after_a_parallel_op, range(8)))
    assert set(seen.values()) == {1}
    assert torch.get_num_threads() == caller
    with ThreadPoolExecutor(1) as later:
        # Threads started later take the process's count, not a lane's.
        assert later.submit(torch.get_num_threads).result() == caller


def test_lanes_give_the_rows_one_pass_at_a_time_gives(tiny_models: dict[str, Path]) -> None:
    def encoder(lanes: int | None) -> SentenceEncoder:
        placement = replace(resolve_placement("cpu"), lanes=lanes)
        loaded = load_checkpoint(tiny_models["encoder"], placement, classifier=False, max_length=64)
        return SentenceEncoder(loaded, max_tokens=64)

    texts = [("a battery with a sensor " * n).strip() for n in range(1, 12)]
    alone, shared = encoder(None), encoder(2)
    ids = alone.tokenize(texts)
    expected = alone.encode_tokens(ids).features
    got = shared.encode_tokens(ids).features
    assert torch.allclose(got, expected, atol=1e-6)
