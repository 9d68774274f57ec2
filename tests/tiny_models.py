"""Tiny random-initialised Hugging Face checkpoints, built on the fly (no downloads)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

WORDS = (
    "the a of and to in is for on that with shares profit loss patent claim battery "
    "drone sensor market court lawsuit record growth company said new launch brand"
).split()


def _tokenizer(folder: Path, extra: Sequence[str] = ()) -> BertTokenizerFast:
    folder.mkdir(parents=True, exist_ok=True)
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *string.ascii_lowercase,
        *string.digits,
        *[f"##{c}" for c in string.ascii_lowercase + string.digits],
        *WORDS,
        *extra,
    ]
    # transformers 5 takes the vocabulary itself (`vocab_file=` is ignored: every token
    # became [UNK], and every text looked alike to the tiny models).
    ids = {token: i for i, token in enumerate(dict.fromkeys(vocab))}
    return BertTokenizerFast(vocab=ids, model_max_length=64)


def _config(tok: BertTokenizerFast, **extra: object) -> BertConfig:
    return BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        **extra,
    )


def build_encoder(folder: Path, seed: int = 0, extra: Sequence[str] = ()) -> Path:
    """`extra`: tokens beyond the English vocabulary (Chinese characters, for a tokenizer
    that splits them one by one, as BERT's does)."""
    torch.manual_seed(seed)
    tok = _tokenizer(folder, extra)
    BertModel(_config(tok)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_classifier(folder: Path, labels: list[str], seed: int = 0) -> Path:
    torch.manual_seed(seed)
    tok = _tokenizer(folder)
    cfg = _config(
        tok,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
    )
    BertForSequenceClassification(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
