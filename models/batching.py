"""Token-budget batching, pure: which texts go into which forward pass.

Texts are sorted by token count so that each batch pads little, then cut so that
`batch size x longest text in it` stays under the token budget (the padded
tensor the model actually computes on), as text-embeddings-inference does.
"""

from __future__ import annotations

from collections.abc import Sequence


def plan_batches(
    lengths: Sequence[int], max_tokens: int, max_batch: int | None = None, parts: int = 1
) -> list[list[int]]:
    """Group positions of `lengths` into batches; every position appears exactly once.

    `max_batch` (texts per batch) defaults to 256, or a sixteenth of the token budget when
    that is more: a GPU's budget fills with many short texts (passages of ~20 tokens).
    `parts`: forward passes that run at once (models/lanes.py). Texts that would fit in
    fewer batches get a smaller budget, so that each of those passes has a share.
    """
    if max_batch is None:
        max_batch = max(256, max_tokens // 16)
    if parts > 1 and lengths:
        longest = max(1, max(lengths))
        max_tokens = min(max_tokens, max(longest, -(-len(lengths) * longest // parts)))
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        n = max(1, lengths[i])
        # Sorted descending: the first text of a batch is its longest.
        width = longest or n
        if current and ((len(current) + 1) * width > max_tokens or len(current) >= max_batch):
            batches.append(current)
            current, width = [], n
        current.append(i)
        longest = width
    if current:
        batches.append(current)
    return batches
