"""device=auto: CUDA with half precision when present, CPU float32 otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.lanes import default_lanes


@dataclass(frozen=True, slots=True)
class Placement:
    device: torch.device
    dtype: torch.dtype
    # Forward passes run at once, each on one core (models/lanes.py); None: one at a time,
    # in the caller's thread, as a GPU queues them anyway.
    lanes: int | None = None

    def __str__(self) -> str:
        return f"{self.device.type}/{str(self.dtype).removeprefix('torch.')}"


# Padded tokens per forward pass. On 2 CPU cores 1-2k tokens ran 10% faster than 4k and
# 40% faster than 8k on the mixed benchmark corpus; a GPU wants big batches.
DEFAULT_BATCH_TOKENS = {"cpu": 2048, "cuda": 16384}


def batch_tokens(configured: int | None, placement: Placement) -> int:
    return configured or DEFAULT_BATCH_TOKENS[placement.device.type]


def resolve_placement(setting: str = "auto", cpu_threads: int | None = None) -> Placement:
    """`cpu_threads`: forward lanes on CPU (default: torch's thread count); on CUDA, the
    process's torch threads, when given."""
    if setting == "cuda" or (setting == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("device=cuda was asked for, but torch sees no CUDA device")
        if cpu_threads:
            # Several workers sharing one GPU host: each keeps its torch work (what stays on
            # the host) to its share of the cores instead of a team of all of them.
            torch.set_num_threads(cpu_threads)
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return Placement(torch.device("cuda"), dtype)
    return Placement(torch.device("cpu"), torch.float32, cpu_threads or default_lanes())
