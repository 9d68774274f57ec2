"""What `argus score` reads from stdin: source records, `{"id", "text"}` lines, plain text."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from streams.contracts.schemas import Source
from streams.contracts.settings import Settings
from streams.model_commands import ScoreInput, read_score_inputs

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"

POST = {
    "id": "p1",
    "platform": "x",
    "author": "a",
    "text": "shares soared",
    "created_at": "2026-01-01",
}


def inputs(
    lines: list[str], source: Source | None = None, text_mode: bool = False
) -> list[ScoreInput]:
    return list(read_score_inputs(io.StringIO("".join(f"{x}\n" for x in lines)), source, text_mode))


def test_a_record_of_a_source_is_read_as_the_worker_reads_it() -> None:
    news = (SAMPLES / "news.jsonl").read_text().splitlines()[0]
    [item] = inputs([news])
    assert item.id == json.loads(news)["id"] and item.text and not item.error
    assert item.text.startswith(json.loads(news)["title"])
    [post] = inputs([json.dumps(POST)], source="social")
    assert (post.id, post.text) == ("p1", "shares soared")


def test_id_and_text_lines_as_train_and_eval_read_them() -> None:
    got = inputs(
        [
            json.dumps({"id": "a", "text": "profit soared"}),
            json.dumps({"id": 7, "text": "lawsuit filed", "label": "negative"}),  # extra field
            json.dumps({"text": "no id here", "label": "neutral"}),  # id: the line number
        ]
    )
    assert [(i.id, i.text, i.error) for i in got] == [
        ("a", "profit soared", ""),
        ("7", "lawsuit filed", ""),
        ("3", "no id here", ""),
    ]
    # With --source too: a text line is not a record, but it still scores.
    [item] = inputs([json.dumps({"id": "a", "text": "t"})], source="news")
    assert (item.id, item.text) == ("a", "t")


def test_a_line_that_is_neither_names_what_was_expected() -> None:
    got = inputs(
        [
            "not json",
            json.dumps(["a", "list"]),
            json.dumps({"id": "x", "title": "no text"}),
            json.dumps({"id": "x", "text": "   "}),
            json.dumps({"id": {"nested": 1}, "text": "t"}),
        ]
    )
    assert [i.id for i in got] == [f"line {n}" for n in range(1, 6)]
    for item in got:
        assert item.text is None
        assert "expected a record of news, social, patents" in item.error
        assert '{"id": ..., "text": ...}' in item.error and "--text" in item.error
    assert got[0].error.startswith("not JSON")
    assert "not a news record" in got[2].error  # why it is not a record either
    [one] = inputs(["{}"], source="patents")
    assert one.error.startswith("expected a patents record or {")


def test_a_record_of_another_source_is_an_error_not_a_text_line() -> None:
    # A social post has id and text: with --source news it is on the wrong feed.
    [item] = inputs([json.dumps(POST)], source="news")
    assert item.text is None and item.error == "a social record, not a news record"


def test_text_mode_reads_every_line_as_text() -> None:
    got = inputs([json.dumps({"id": "a", "text": "t"}), "plain", "", "more"], text_mode=True)
    assert [(i.id, i.text) for i in got] == [
        ("1", '{"id": "a", "text": "t"}'),
        ("2", "plain"),
        ("4", "more"),
    ]


def test_score_reads_a_labelled_file_and_ends_with_a_json_line(
    tiny_models: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streams import model_commands as commands

    settings = Settings(
        encoder_path=tiny_models["encoder"], model_store=tmp_path / "store", device="cpu"
    )
    rows = [{"id": "a", "text": "profit soared", "label": "positive"}, {"text": "a loss"}, 5]
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(json.dumps(r) + "\n" for r in rows)))
    assert commands.cmd_score(settings, None, text_mode=False, as_json=True) == 1  # one bad
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["id"] for x in lines[:3]] == ["a", "2", "line 3"]
    assert lines[0]["sentiment"]["label"] in {"negative", "neutral", "positive"}
    assert "expected" in lines[2]["error"]
    assert lines[-1] == {"scored": 2, "errors": 1} and len(lines) == 4
