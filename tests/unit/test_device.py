"""device=auto: CUDA in half precision when present, CPU float32 otherwise.

The `gpu` tests run where a CUDA device is (bench/gpu.sh runs them); CI has none, so there
they are skipped and the CPU fallback tests below carry the weight.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from models.device import DEFAULT_BATCH_TOKENS, batch_tokens, resolve_placement
from models.engine import ScoringEngine
from streams.contracts.settings import Settings

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def test_auto_falls_back_to_cpu_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    placement = resolve_placement("auto")
    assert (placement.device.type, placement.dtype) == ("cpu", torch.float32)
    assert batch_tokens(None, placement) == DEFAULT_BATCH_TOKENS["cpu"]
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_placement("cuda")


def test_cpu_threads_on_cuda_set_the_process_torch_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    before = torch.get_num_threads()
    try:
        assert resolve_placement("auto").lanes is None
        assert torch.get_num_threads() == before  # unset: torch's own count stays
        placement = resolve_placement("auto", cpu_threads=1)
        assert (str(placement), placement.lanes) == ("cuda/bfloat16", None)
        assert torch.get_num_threads() == 1
        with ThreadPoolExecutor(1) as later:  # a thread started afterwards (the model's)
            assert later.submit(torch.get_num_threads).result() == 1
    finally:
        torch.set_num_threads(before)


def test_engine_on_auto_without_cuda_scores(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    engine = ScoringEngine.from_settings(Settings(encoder_path=tiny_models["encoder"]))
    assert str(engine.placement) == "cpu/float32"
    assert len(engine.score_texts(["a battery with a sensor"])) == 1


@pytest.mark.gpu
@needs_cuda
def test_auto_picks_cuda_in_half_precision() -> None:
    placement = resolve_placement("auto")
    assert placement.device.type == "cuda"
    assert placement.dtype in (torch.bfloat16, torch.float16)
    assert batch_tokens(None, placement) == DEFAULT_BATCH_TOKENS["cuda"]


@pytest.mark.gpu
@needs_cuda
def test_cuda_scores_match_cpu(tiny_models: dict[str, Path]) -> None:
    kw = {
        "encoder_path": tiny_models["encoder"],
        "topic_model_path": tiny_models["topic"],
        "sentiment_model_path": tiny_models["sentiment"],
    }
    texts = [("the company " * n).strip() for n in range(1, 60)]
    cpu = ScoringEngine.from_settings(Settings(device="cpu", **kw))
    gpu = ScoringEngine.from_settings(Settings(device="cuda", **kw))
    a, b = cpu.encoder.embed(texts), gpu.encoder.embed(texts).float().cpu()
    assert torch.nn.functional.cosine_similarity(a, b).min() > 0.99  # half precision
    for x, y in zip(cpu.score_texts(texts), gpu.score_texts(texts), strict=True):
        assert x.sentiment.probabilities == pytest.approx(y.sentiment.probabilities, abs=0.05)
