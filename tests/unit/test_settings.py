from __future__ import annotations

from pathlib import Path

import pytest

from streams.contracts.connections import resolve_endpoints
from streams.contracts.settings import ConfigError, load_settings


def test_env_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "argus.toml"
    cfg.write_text('batch_max_size = 10\nkafka_bootstrap = "k:9092"\nes_url = "http://e:9200"\n')
    monkeypatch.delenv("ARGUS_CONFIG", raising=False)
    monkeypatch.setenv("ARGUS_BATCH_MAX_SIZE", "20")
    s = load_settings(str(cfg))
    assert s.batch_max_size == 20 and s.kafka_bootstrap == "k:9092"
    ep = resolve_endpoints(s)
    assert not ep.embedded and ep.faust_broker == "kafka://k:9092"


def test_bad_value_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGUS_BATCH_MAX_SIZE", "lots")
    with pytest.raises(ConfigError, match="ARGUS_BATCH_MAX_SIZE"):
        load_settings()


def test_unknown_key_in_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARGUS_CONFIG", raising=False)
    cfg = tmp_path / "argus.toml"
    cfg.write_text("batch_size = 3\n")
    with pytest.raises(ConfigError, match="batch_size"):
        load_settings(str(cfg))


def test_missing_file_and_no_stack(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="argus stack up"):
        resolve_endpoints(load_settings(state_dir=tmp_path))


def test_secrets_are_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGUS_ES_PASSWORD", "hunter2")
    assert "hunter2" not in repr(load_settings())


def test_configuration_doc_is_current() -> None:
    from streams.contracts.settings import settings_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    assert settings_table() in doc, "docs/configuration.md is stale: run `make docs`"
