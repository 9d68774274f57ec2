from __future__ import annotations

import random

import pytest

from models.batching import plan_batches


@pytest.mark.parametrize("seed", range(20))
def test_every_text_once_and_budget_kept(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [rng.randint(1, 256) for _ in range(rng.randint(1, 300))]
    budget = rng.choice([256, 1024, 8192])
    batches = plan_batches(lengths, budget, max_batch=64)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 64
        padded = len(b) * max(lengths[i] for i in b)
        # A single text longer than the budget still gets its own batch.
        assert padded <= budget or len(b) == 1


def test_sorted_by_length_so_padding_is_small() -> None:
    lengths = [5, 100, 6, 99, 7, 98]
    batches = plan_batches(lengths, max_tokens=300)
    assert [sorted(lengths[i] for i in b) for b in batches] == [[98, 99, 100], [5, 6, 7]]


def test_empty() -> None:
    assert plan_batches([], 100) == []


def test_a_gpu_budget_takes_more_short_texts_per_batch() -> None:
    # CPU budget (2,048): at most 256 texts; GPU budget (16,384): up to 1,024.
    assert [len(b) for b in plan_batches([4] * 600, 2048)] == [256, 256, 88]
    assert [len(b) for b in plan_batches([4] * 2000, 16384)] == [1024, 976]


def test_a_few_texts_are_shared_among_the_lanes() -> None:
    lengths = [50, 40, 30, 20, 10, 10, 10, 10, 5, 5]
    assert len(plan_batches(lengths, 2048)) == 1
    shared = plan_batches(lengths, 2048, parts=2)
    assert len(shared) == 2
    assert sorted(i for b in shared for i in b) == list(range(len(lengths)))
    # Enough texts for many batches: the budget is the configured one.
    many = [100] * 200
    assert plan_batches(many, 2048, parts=2) == plan_batches(many, 2048)
    assert plan_batches([7], 2048, parts=4) == [[0]]
