"""The model store: one folder per task holding a trained head and its model card."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError
from safetensors.torch import load_file, save_file

from models.evaluate import EvalReport
from models.heads import Head, HeadSpec
from models.loading import ModelLoadError

HEAD_FILE = "head.safetensors"
CARD_FILE = "card.json"
# The default heads, trained by `argus models build` on the packaged encoder and committed
# with their cards, so that a fresh clone scores with measured models at once.
SHIPPED_HEADS = Path(__file__).parent / "default_heads"


class DataCard(BaseModel):
    source: str
    sha256: str
    n_train: int
    n_val: int
    n_test: int
    split: str


class ModelCard(BaseModel):
    task: str
    version: str  # `{task}-head@{sha256 of the weights, 12}`
    head: HeadSpec
    features: str
    encoder: str  # the encoder version the head was trained on
    data: DataCard
    metrics: EvalReport
    training: dict[str, float]
    created: datetime

    def summary(self) -> str:
        return (
            f"{self.task:<10} {self.version:<28} {self.head.arch:<6} "
            f"acc {self.metrics.accuracy:.3f}  macro-F1 {self.metrics.macro_f1:.3f}  "
            f"n_test {self.metrics.n}  {self.created:%Y-%m-%d}"
        )


def head_version(task: str, head: Head) -> str:
    h = hashlib.sha256()
    if head.spec.rules:  # the same weights with rules are another model
        h.update(head.spec.rules.encode())
    for name, t in sorted(head.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().numpy().tobytes())
    return f"{task}-head@{h.hexdigest()[:12]}"


def save_head(folder: Path, head: Head, card: ModelCard) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # Write beside, then rename: a worker reloading the store never sees half a head.
    tmp_weights, tmp_card = folder / f".{HEAD_FILE}.tmp", folder / f".{CARD_FILE}.tmp"
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(tmp_weights))
    tmp_card.write_text(card.model_dump_json(indent=2) + "\n")
    tmp_weights.replace(folder / HEAD_FILE)
    tmp_card.replace(folder / CARD_FILE)


def read_card(folder: Path) -> ModelCard:
    path = folder / CARD_FILE
    if not path.is_file():
        raise ModelLoadError(f"{folder} has no {CARD_FILE}: not a head from `argus models build`")
    try:
        return ModelCard.model_validate(json.loads(path.read_text()))
    except (ValueError, ValidationError) as e:
        raise ModelLoadError(f"{path} is not a valid model card: {e}") from None


def load_head(folder: Path) -> tuple[Head, ModelCard]:
    card = read_card(folder)
    head = Head(card.head)
    try:
        head.load_state_dict(load_file(str(folder / HEAD_FILE)))
    except (OSError, RuntimeError) as e:
        raise ModelLoadError(f"cannot load {folder / HEAD_FILE}: {e}") from None
    head.eval()
    return head, card


def _cards(store: Path) -> list[tuple[str, ModelCard]]:
    if not store.is_dir():
        return []
    return [(d.name, read_card(d)) for d in sorted(store.iterdir()) if (d / CARD_FILE).is_file()]


def list_cards(store: Path) -> list[ModelCard]:
    return [card for _, card in _cards(store)]


def usable_heads(store: Path, encoder_version: str) -> dict[str, Path]:
    """Task -> the folder of the head a worker runs for it: a head in the store (built or
    trained here) wins; else the shipped one; either only if trained on this encoder (a head
    on another encoder's features would score nonsense). Shipped heads sit in folders of any
    name, one per task and encoder."""
    found = {
        card.task: SHIPPED_HEADS / folder
        for folder, card in _cards(SHIPPED_HEADS)
        if card.encoder == encoder_version
    }
    found.update({c.task: store / f for f, c in _cards(store) if c.encoder == encoder_version})
    return found


def refuse_stale_heads(store: Path, encoders: set[str], encoder: str) -> None:
    """A head in the store trained on none of the worker's `encoders` is a forgotten rebuild
    (another ARGUS_ENCODER_PATH since): one clear error, not a head silently left out."""
    for card in list_cards(store):
        if card.encoder not in encoders:
            raise ModelLoadError(
                f"the {card.task} head {card.version} was trained on encoder {card.encoder}, "
                f"but the encoder is {encoder}: rebuild it with `argus models build`"
            )
