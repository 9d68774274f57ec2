"""Load Hugging Face checkpoints from local directories only; never from a hub."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Belt and braces: nothing in Argus may reach a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModel,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging  # noqa: E402

from models.device import Placement  # noqa: E402

hf_logging.disable_progress_bar()
hf_logging.set_verbosity_error()

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
GENERIC_DIR_NAMES = frozenset({"model", "models", "checkpoint", "weights"})


class ModelLoadError(Exception):
    """A model directory is missing or unusable; the message says which and why."""


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    version: str
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    max_length: int
    int8: bool = False  # Linear layers quantised (CPU only)
    # From the folder's argus-encoder.json, if any: what goes before every text (e5 wants
    # "query: "), and the languages it reads ("*": any) when ARGUS_ENCODER_LANGUAGES is unset.
    text_prefix: str = ""
    languages: tuple[str, ...] | None = None
    # (slope, intercept) of the logistic turning its soft coverage into P(near copy), when
    # not MiniLM's (cosines of another encoder sit elsewhere: e5's unrelated texts at ~0.8).
    matching_calibration: tuple[float, float] | None = None
    tokenizer_lock: threading.Lock = field(default_factory=threading.Lock, compare=False)
    lanes: int | None = None  # the placement's: how many forward passes run at once

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def model_version(path: Path) -> str:
    """`<dir name>@<sha256 of the weights, 12 hex>`: changes whenever the weights do."""
    for name in WEIGHT_FILES:
        f = path / name
        if f.is_file():
            h = hashlib.sha256()
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            # Packages often ship weights in a folder just called "model".
            name = path.parent.name if path.name in GENERIC_DIR_NAMES else path.name
            return f"{name}@{h.hexdigest()[:12]}"
    raise ModelLoadError(f"model directory {path} has no weights ({' or '.join(WEIGHT_FILES)})")


def quantised_int8(model: PreTrainedModel) -> PreTrainedModel:
    """A copy with the Linear layers in int8 (dynamic, per-channel weights), for the CPU."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})


def same_tokenization(a: LoadedModel, b: LoadedModel) -> bool:
    """Whether two models turn every text into the same ids, so one tokenisation serves both."""
    if not (a.tokenizer.is_fast and b.tokenizer.is_fast) or a.max_length != b.max_length:
        return False
    same = a.tokenizer.backend_tokenizer.to_str() == b.tokenizer.backend_tokenizer.to_str()
    return bool(same and a.text_prefix == b.text_prefix)


def load_checkpoint(
    path: Path, placement: Placement, *, classifier: bool, max_length: int, int8: bool = False
) -> LoadedModel:
    """`int8`: quantise the Linear layers when on the CPU (ignored on CUDA)."""
    path = Path(path).expanduser().resolve()
    if not path.is_dir():
        raise ModelLoadError(f"model directory {path} does not exist")
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{path} is not a Hugging Face model directory (no config.json)")
    version = model_version(path)
    auto: Any = AutoModelForSequenceClassification if classifier else AutoModel
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = auto.from_pretrained(path, local_files_only=True, dtype=placement.dtype)
    except (OSError, ValueError, KeyError) as e:
        raise ModelLoadError(f"cannot load the model in {path}: {e}") from None
    model.to(placement.device).eval()
    int8 = int8 and placement.device.type == "cpu"
    if int8:
        model = quantised_int8(model)
    limit = min(
        max_length,
        int(getattr(model.config, "max_position_embeddings", max_length) or max_length),
        int(tokenizer.model_max_length) if tokenizer.model_max_length < 1e9 else max_length,
    )
    marker = _encoder_marker(path)
    languages = marker.get("languages")
    calibration = marker.get("matching_calibration")
    return LoadedModel(
        path,
        version,
        tokenizer,
        model,
        limit,
        int8,
        text_prefix=str(marker.get("text_prefix", "")),
        languages=tuple(languages) if languages else None,
        matching_calibration=(float(calibration[0]), float(calibration[1]))
        if calibration
        else None,
        lanes=placement.lanes,
    )


ENCODER_MARKER = "argus-encoder.json"


def _encoder_marker(path: Path) -> dict[str, Any]:
    file = path / ENCODER_MARKER
    if not file.is_file():
        return {}
    try:
        found = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"{file}: not readable JSON: {e}") from None
    if not isinstance(found, dict):
        raise ModelLoadError(f"{file}: expected a JSON object")
    return found
