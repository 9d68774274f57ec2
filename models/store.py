"""The model store: one folder per task holding the head workers run and its model card.

Every head saved or switched to is also kept under the task's `versions/`, and each switch
is a line of the task's `history.jsonl`: `argus models use TASK@VERSION` and `argus models
rollback TASK` move between them, and running workers pick the change up (models/engine.py).

The store may hold encoders too (`encoder/versions/<version>/`, switched the same way): heads
are trained on one encoder, so switching the encoder switches every task to its head for the
new one, and a head trained for an encoder that is not the running one is kept, not run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError
from safetensors.torch import load_file, save_file

from models.evaluate import EvalReport
from models.heads import Head, HeadSpec
from models.loading import ModelLoadError, model_version

HEAD_FILE = "head.safetensors"
CARD_FILE = "card.json"
VERSIONS_DIR = "versions"
HISTORY_FILE = "history.jsonl"
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


def save_head(folder: Path, head: Head, card: ModelCard) -> bool:
    """Keep the head among the task's versions and make it the one workers run, unless the
    store runs another encoder than the head's: then it waits for `argus models use
    encoder@…`. Whether it runs now."""
    kept = folder / VERSIONS_DIR / card.version
    kept.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(kept / HEAD_FILE))
    (kept / CARD_FILE).write_text(card.model_dump_json(indent=2) + "\n")
    running = active_encoder_version(folder.parent)
    if running is not None and running != card.encoder:
        return False
    _activate(folder, kept, card.version, "trained")
    return True


Switch = Literal["found", "trained", "use", "rollback"]


class HistoryEntry(BaseModel):
    version: str
    at: datetime
    how: Switch


def _activate(folder: Path, source: Path, version: str, how: Switch) -> None:
    if not _history(folder) and (folder / CARD_FILE).is_file():
        # A head saved before versions were kept: keep it too, so a rollback reaches it.
        found = read_card(folder).version
        if found != version:
            _copy_head(folder, folder / VERSIONS_DIR / found)
            _log_switch(folder, found, "found")
    _copy_head(source, folder)
    _log_switch(folder, version, how)


def _copy_head(source: Path, folder: Path) -> None:
    # Written beside, then renamed: a reader never sees half a file. Between the two renames
    # a reader may pair the new weights with the old card; `load_head` catches that.
    folder.mkdir(parents=True, exist_ok=True)
    for name in (HEAD_FILE, CARD_FILE):
        tmp = folder / f".{name}.tmp"
        shutil.copyfile(source / name, tmp)
        tmp.replace(folder / name)


def _log_switch(folder: Path, version: str, how: Switch) -> None:
    entry = HistoryEntry(version=version, at=datetime.now(UTC), how=how)
    with (folder / HISTORY_FILE).open("a") as f:
        f.write(entry.model_dump_json() + "\n")


def _history(folder: Path) -> list[HistoryEntry]:
    path = folder / HISTORY_FILE
    if not path.is_file():
        return []
    return [HistoryEntry.model_validate_json(line) for line in path.read_text().splitlines()]


def active_stack(folder: Path) -> list[str]:
    """The versions a task ran, oldest first, less those rolled back: the last one runs."""
    stack: list[str] = []
    for entry in _history(folder):
        if entry.how == "rollback" and stack:
            stack.pop()
        else:
            stack.append(entry.version)
    return stack


def versions(store: Path, task: str) -> dict[str, Path]:
    """Version -> folder of every head of `task` there is: kept in the store, or shipped."""
    found = {
        card.version: SHIPPED_HEADS / name
        for name, card in _cards(SHIPPED_HEADS)
        if card.task == task
    }
    kept = store / task / VERSIONS_DIR
    found.update({c.version: kept / name for name, c in _cards(kept)})
    return found


def _version_key(task: str, wanted: str) -> str:
    """`sentiment-head@6190ac970799`, `sentiment@6190ac970799` or `6190ac970799`."""
    return f"{task}-head@{wanted.rpartition('@')[2]}"


def use_version(store: Path, task: str, wanted: str) -> ModelCard:
    """Make a kept or shipped version of `task`'s head the one workers run."""
    version = _version_key(task, wanted)
    known = versions(store, task)
    if version not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise ModelLoadError(f"no head {version} in {store} or shipped (versions: {listed})")
    kept = store / task / VERSIONS_DIR / version
    if known[version] != kept:  # a shipped head: kept in the store from now on
        _copy_head(known[version], kept)
    _activate(store / task, kept, version, "use")
    return read_card(kept)


def rollback(store: Path, task: str) -> ModelCard:
    """Back to the version `task` ran before the current one."""
    stack = active_stack(store / task)
    if len(stack) < 2:
        raise ModelLoadError(
            f"no earlier {task} head to roll back to in {store}: "
            f"`argus models use {task}@VERSION` picks one (`argus models versions {task}`)"
        )
    previous = store / task / VERSIONS_DIR / stack[-2]
    _activate(store / task, previous, stack[-2], "rollback")
    return read_card(previous)


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
    if head_version(card.task, head) != card.version:
        # Read while `argus models use` was switching it, or edited by hand.
        raise ModelLoadError(
            f"{folder / HEAD_FILE} is not the head its card names ({card.version})"
        )
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


# Encoders kept in the store: `encoder/versions/<version>/<name>/`, the inner folder named as
# the encoder is, since its version (`<name>@<weights hash>`) is read from its folder's name.
ENCODER = "encoder"


def _encoder_folder(store: Path, version: str) -> Path:
    return store / ENCODER / VERSIONS_DIR / version / version.partition("@")[0]


def keep_encoder(store: Path, source: Path) -> str:
    """Copy an encoder's folder into the store (once); its version."""
    version = model_version(source)
    kept = _encoder_folder(store, version)
    if not kept.is_dir():
        # Copied beside, then renamed: a worker never loads half an encoder.
        tmp = kept.parent.with_name(f".{version}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp / kept.name)
        tmp.replace(kept.parent)
    return version


def encoder_versions(store: Path) -> dict[str, Path]:
    folder = store / ENCODER / VERSIONS_DIR
    if not folder.is_dir():
        return {}
    return {d.name: _encoder_folder(store, d.name) for d in sorted(folder.iterdir())}


def active_encoder_version(store: Path) -> str | None:
    """The encoder switched to with `argus models use encoder@…`, if one was."""
    stack = active_stack(store / ENCODER)
    return stack[-1] if stack else None


def active_encoder(store: Path) -> Path | None:
    version = active_encoder_version(store)
    return _encoder_folder(store, version) if version is not None else None


class EncoderSwitch(BaseModel):
    encoder: str
    path: Path
    heads: dict[str, str]  # task -> the head it runs from now on, trained on `encoder`


def use_encoder(store: Path, wanted: str, running: Path, how: Switch = "use") -> EncoderSwitch:
    """Make a kept encoder the one workers run, and each task's head its head for it: the
    last one it ran on that encoder, else the newest trained on it. Refused while a task of
    the store has none (a worker would drop it, or refuse to start). `running`: the encoder
    workers run now, kept as the one to roll back to when nothing was switched before."""
    known = encoder_versions(store)
    matches = [v for v in known if v == wanted or v.rpartition("@")[2].startswith(wanted)]
    if len(matches) != 1:
        listed = ", ".join(sorted(known)) or "none"
        raise ModelLoadError(
            f"no single encoder {wanted!r} in {store} (kept: {listed}): "
            "`argus models add-encoder PATH` keeps one"
        )
    (version,) = matches
    heads = {task: _head_for(store / task, version) for task in _tasks(store)}
    missing = sorted(task for task, head in heads.items() if head is None)
    if missing:
        raise ModelLoadError(
            f"no {', '.join(missing)} head trained on {version}: train them first with "
            f"ARGUS_ENCODER_PATH={_encoder_folder(store, version)} (`argus train` or "
            "`argus models build --force`; kept until the switch), then switch"
        )
    if not _history(store / ENCODER):
        _log_switch(store / ENCODER, keep_encoder(store, running), "found")
    _log_switch(store / ENCODER, version, how)  # first: workers then wait for the heads below
    switched = {t: h for t, h in heads.items() if h is not None}
    for task, head in switched.items():
        if read_card(store / task).version != head:
            # "use", also when the encoder rolls back: the head may not be the one before.
            _activate(store / task, store / task / VERSIONS_DIR / head, head, "use")
    return EncoderSwitch(encoder=version, path=_encoder_folder(store, version), heads=switched)


def rollback_encoder(store: Path, running: Path) -> EncoderSwitch:
    stack = active_stack(store / ENCODER)
    if len(stack) < 2:
        raise ModelLoadError(f"no earlier encoder to roll back to in {store}")
    return use_encoder(store, stack[-2], running, "rollback")


def _tasks(store: Path) -> list[str]:
    """The tasks the store runs a head for."""
    return [name for name, _ in _cards(store)]


def _head_for(folder: Path, encoder: str) -> str | None:
    kept = {c.version: c for _, c in _cards(folder / VERSIONS_DIR) if c.encoder == encoder}
    for version in reversed(active_stack(folder)):
        if version in kept:
            return version
    newest = max(kept.values(), key=lambda c: c.created, default=None)
    return newest.version if newest is not None else None
