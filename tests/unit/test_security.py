"""Kafka TLS/SASL settings, and secrets kept out of everything Argus prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import faust
import pytest

from streams.contracts.settings import load_settings
from streams.kafka_security import aiokafka_kwargs, faust_credentials

SECRET = "s3cr3t-Do-Not-Print"


def test_plaintext_by_default() -> None:
    s = load_settings()
    assert aiokafka_kwargs(s) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(s) is None


def test_sasl_ssl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGUS_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ARGUS_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("ARGUS_KAFKA_SASL_USERNAME", "argus")
    monkeypatch.setenv("ARGUS_KAFKA_SASL_PASSWORD", SECRET)
    s = load_settings()
    kw = aiokafka_kwargs(s)
    assert kw["sasl_mechanism"] == "SCRAM-SHA-512" and kw["sasl_plain_password"] == SECRET
    assert kw["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SASLCredentials) and creds.protocol.value == "SASL_SSL"
    assert SECRET not in repr(creds) and SECRET not in repr(s)


def test_secrets_never_printed(tmp_path: Path) -> None:
    env = {
        "PATH": "",
        "ARGUS_ES_PASSWORD": SECRET,
        "ARGUS_ES_API_KEY": SECRET,
        "ARGUS_KAFKA_SASL_PASSWORD": SECRET,
        "ARGUS_STATE_DIR": str(tmp_path),
    }
    runs = [
        ["config"],
        ["--help"],
        ["worker", "--help"],
        ["worker"],  # fails: no stack; the error must not carry the secret either
        ["stack", "status"],
    ]
    for args in runs:
        proc = subprocess.run(
            [sys.executable, "-m", "streams.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert SECRET not in proc.stdout + proc.stderr, args
