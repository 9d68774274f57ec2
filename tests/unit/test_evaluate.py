from __future__ import annotations

import numpy as np
import pytest

from models.datasets import stratified_split
from models.evaluate import evaluate, expected_calibration_error


def test_report_matches_hand_computed_values() -> None:
    y = [0, 0, 1, 1, 2, 2]
    pred = [0, 1, 1, 1, 2, 0]
    probs = np.eye(3)[pred] * 0.9 + 0.1 / 3
    r = evaluate(y, probs, ["a", "b", "c"])
    assert r.accuracy == pytest.approx(4 / 6, abs=1e-4)
    a, b, c = r.per_class
    assert (a.precision, a.recall) == (0.5, 0.5)
    assert (b.precision, b.recall, b.f1) == (pytest.approx(0.6667, abs=1e-4), 1.0, 0.8)
    assert (c.precision, c.recall) == (1.0, 0.5)
    assert r.macro_f1 == pytest.approx((0.5 + 0.8 + 2 / 3) / 3, abs=1e-4)
    assert r.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert "macro avg" in r.to_text() and "confusion matrix" in r.to_text()


def test_calibration_error() -> None:
    conf = np.array([0.9, 0.9, 0.9, 0.9])
    assert expected_calibration_error(conf, np.array([1, 1, 1, 1])) == pytest.approx(0.1)
    assert expected_calibration_error(conf, np.array([0, 0, 0, 0])) == pytest.approx(0.9)


def test_stratified_split_is_deterministic_and_proportional() -> None:
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    train, test = stratified_split(y, 0.2, seed=0)
    assert len(set(train) & set(test)) == 0 and len(train) + len(test) == 100
    assert np.bincount(y[test]).tolist() == [10, 6, 4]
    again = stratified_split(y, 0.2, seed=0)
    assert (again[1] == test).all()
