"""Infringement evidence, pure: claim elements / sentences, their alignment, a calibrated score.

A whole-text cosine says two texts are alike; an analyst needs to see *where*. Each
portfolio item is cut into elements (claim elements at `;` and `:`, sentences elsewhere),
each element is paired with the passage of the event that matches it best, and the share
of elements that found a close passage is the coverage: the all-elements rule of patent
infringement, approximated.
"""

from __future__ import annotations

import math
import re

import torch

from models.scripts import HAN, HANGUL, KANA
from streams.contracts.schemas import Evidence

# Chinese and Japanese end sentences with full-width marks and no space after them.
_SPLIT = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；])\s*|\n+")
_CJK = re.compile(f"[{KANA}{HAN}{HANGUL}]")
MIN_SEGMENT_CHARS = 12  # a CJK character counts twice: it carries about a word

# Logistic calibration of the soft-coverage score into P(near copy), fitted by
# `python -m bench.matching` on its calibration half (see docs/models.md).
MINILM_CALIBRATION = (17.52, -10.85)  # slope, intercept


def split_segments(text: str) -> list[str]:
    """Sentences, or claim elements (which end in `;` or `:`); fragments join the next one."""
    parts: list[str] = []
    carry = ""
    for piece in _SPLIT.split(text.strip()):
        piece = join_segments(carry, piece.strip()) if carry else piece.strip()
        if len(piece) + len(_CJK.findall(piece)) < MIN_SEGMENT_CHARS:
            carry = piece
            continue
        parts.append(piece)
        carry = ""
    if carry:
        if parts:
            parts[-1] = join_segments(parts[-1], carry)
        else:
            parts.append(carry)
    return parts


def join_segments(first: str, second: str) -> str:
    # No space after a full-width mark: Chinese puts none there.
    return first + second if first.endswith(("。", "！", "？", "；")) else f"{first} {second}"


def align(
    elements: list[str],
    passages: list[str],
    best: torch.Tensor,
    where: torch.Tensor,
    covered_at: float,
    keep: int = 3,
) -> tuple[list[Evidence], float]:
    """Evidence from each element's best passage (`best` similarity at passage `where`).

    Returns the `keep` strongest pairs and the share of elements reaching `covered_at`.
    """
    # As reported (4 decimals), ties in element order: float noise never reorders evidence.
    order = torch.round(best, decimals=4).argsort(descending=True, stable=True)[:keep]
    evidence = [
        Evidence(
            element=elements[int(i)],
            passage=passages[int(where[i])],
            similarity=round(float(best[i]), 4),
        )
        for i in order
    ]
    coverage = float((best >= covered_at).float().mean())
    return evidence, round(coverage, 4)


def infringement_score(
    similarity: float, calibration: tuple[float, float] = MINILM_CALIBRATION
) -> float:
    """0-100: the calibrated probability that the text is a near copy of the item.
    `calibration`: (slope, intercept) fitted for the encoder by `python -m bench.matching`."""
    slope, intercept = calibration
    z = slope * similarity + intercept
    return round(100.0 / (1.0 + math.exp(-z)), 1)
