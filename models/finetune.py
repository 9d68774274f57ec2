"""`argus train --full`: fine-tune the whole encoder with a classification head.

Slow on a CPU (hundreds of seconds per epoch on the tweets) and measured worse than a
head on frozen features after one epoch (../docs/models.md); worth it on a GPU, or when
a task's language is far from the encoder's. The result is an ordinary Hugging Face
checkpoint: use it with ARGUS_<TASK>_MODEL_PATH or `argus eval --model DIR`.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from models.datasets import Dataset
from models.device import resolve_placement
from models.evaluate import EvalReport, evaluate
from models.train import Report, label_order, split_indices


def _batches(idx: np.ndarray, size: int) -> list[np.ndarray]:
    return [idx[i : i + size] for i in range(0, len(idx), size)]


def finetune(
    task: str,
    ds: Dataset,
    encoder_dir: Path,
    out_dir: Path,
    report: Report,
    device: str = "auto",
    epochs: int = 3,
    batch_size: int = 16,
    lr: float = 3e-5,
    max_length: int = 128,
    patience: int = 1,
    seed: int = 0,
) -> EvalReport:
    placement = resolve_placement(device)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    labels = label_order(task, ds)
    y = ds.label_ids(labels)
    split = split_indices(y)
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        encoder_dir,
        local_files_only=True,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
    ).to(placement.device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    amp = placement.device.type == "cuda"

    def forward(rows: np.ndarray) -> torch.Tensor:
        enc = tokenizer(
            [ds.texts[i] for i in rows],
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        ).to(placement.device)
        with torch.autocast(placement.device.type, dtype=placement.dtype, enabled=amp):
            return model(**enc).logits.float()

    def probabilities(rows: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.inference_mode():
            return torch.cat(
                [torch.softmax(forward(b), -1).cpu() for b in _batches(rows, 64)]
            ).numpy()

    best_f1, best_state, stale, started = -1.0, None, 0, time.monotonic()
    gen = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        model.train()
        order = gen.permutation(split.train)
        for n, rows in enumerate(_batches(order, batch_size), 1):
            loss = torch.nn.functional.cross_entropy(
                forward(rows), torch.as_tensor(y[rows], device=placement.device)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            if n % 50 == 0:
                report(f"{task} fine-tune: epoch {epoch}, step {n}, loss {loss.item():.3f}")
        f1 = evaluate(y[split.val], probabilities(split.val), labels).macro_f1
        report(f"{task} fine-tune: epoch {epoch} validation macro-F1 {f1:.4f}")
        if f1 > best_f1:
            best_f1, stale = f1, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    assert best_state is not None
    model.load_state_dict(best_state)
    metrics = evaluate(y[split.test], probabilities(split.test), labels)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "argus-eval.json").write_text(
        json.dumps(
            {
                "task": task,
                "data": ds.source,
                "data_sha256": ds.sha256,
                "base": str(encoder_dir),
                "seconds": round(time.monotonic() - started, 1),
                "seed": seed,
                "metrics": metrics.model_dump(),
            },
            indent=2,
        )
        + "\n"
    )
    return metrics
