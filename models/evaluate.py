"""Classification metrics, pure numpy: the report, the confusion matrix, calibration error."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel


class ClassReport(BaseModel):
    label: str
    precision: float
    recall: float
    f1: float
    support: int


class EvalReport(BaseModel):
    labels: list[str]
    per_class: list[ClassReport]
    accuracy: float
    macro_f1: float
    weighted_f1: float
    macro_precision: float
    macro_recall: float
    ece: float
    n: int
    confusion: list[list[int]]

    def to_text(self) -> str:
        width = max(12, *(len(c.label) for c in self.per_class))
        lines = [f"{'':>{width}}  precision  recall  f1-score  support"]
        for c in self.per_class:
            lines.append(
                f"{c.label:>{width}}  {c.precision:9.3f}  {c.recall:6.3f}  {c.f1:8.3f}  {c.support:7d}"
            )
        lines += [
            "",
            f"{'accuracy':>{width}}  {'':9}  {'':6}  {self.accuracy:8.3f}  {self.n:7d}",
            f"{'macro avg':>{width}}  {self.macro_precision:9.3f}  {self.macro_recall:6.3f}  "
            f"{self.macro_f1:8.3f}  {self.n:7d}",
            f"{'weighted avg':>{width}}  {'':9}  {'':6}  {self.weighted_f1:8.3f}  {self.n:7d}",
            f"{'ECE (10 bins)':>{width}}  {self.ece:.4f}",
            "",
            "confusion matrix (rows: true, columns: predicted)",
            " " * (width + 2) + " ".join(f"{lab[:8]:>8}" for lab in self.labels),
        ]
        for lab, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"{lab:>{width}}  " + " ".join(f"{v:>8d}" for v in row))
        return "\n".join(lines)


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def evaluate(y_true: Sequence[int], probs: np.ndarray, labels: Sequence[str]) -> EvalReport:
    """Report for integer labels `y_true` against class probabilities (rows = texts)."""
    y = np.asarray(y_true)
    pred = probs.argmax(1)
    k = len(labels)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm).astype(float)
    support = cm.sum(1)
    precision = np.divide(tp, cm.sum(0), out=np.zeros(k), where=cm.sum(0) > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros(k), where=precision + recall > 0
    )
    present = support > 0
    return EvalReport(
        labels=list(labels),
        per_class=[
            ClassReport(
                label=labels[i],
                precision=round(float(precision[i]), 4),
                recall=round(float(recall[i]), 4),
                f1=round(float(f1[i]), 4),
                support=int(support[i]),
            )
            for i in range(k)
        ],
        accuracy=round(float(tp.sum() / max(1, len(y))), 4),
        macro_f1=round(float(f1[present].mean()), 4),
        weighted_f1=round(float((f1 * support).sum() / max(1, support.sum())), 4),
        macro_precision=round(float(precision[present].mean()), 4),
        macro_recall=round(float(recall[present].mean()), 4),
        ece=round(expected_calibration_error(probs.max(1), pred == y), 4),
        n=len(y),
        confusion=cm.tolist(),
    )
