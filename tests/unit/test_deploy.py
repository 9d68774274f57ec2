"""What can be checked of deploy/ without a container engine: syntax, pins, names, ports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from streams.settings import Settings
from streams.topics import INPUT_TOPICS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
YAML_FILES = sorted(DEPLOY.rglob("*.yaml"))
SETTINGS_VARS = {f"ARGUS_{name.upper()}" for name in Settings.model_fields}


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def all_text() -> str:
    files = [*YAML_FILES, DEPLOY / "docker" / "Dockerfile"]
    return "\n".join(p.read_text() for p in files)


def test_every_yaml_file_parses() -> None:
    assert len(YAML_FILES) >= 10
    for path in YAML_FILES:
        assert docs(path), path


def test_every_argus_variable_exists_in_the_settings() -> None:
    used = set(re.findall(r"\bARGUS_[A-Z0-9_]+\b", all_text()))
    assert used, "no settings found in deploy/"
    assert used <= SETTINGS_VARS, sorted(used - SETTINGS_VARS)


def test_images_are_pinned() -> None:
    text = all_text()
    images = re.findall(r"^\s*image:\s*(\S+)", text, re.MULTILINE)
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE))
    images += [i for i in re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE) if i not in stages]
    assert len(images) >= 8
    for image in images:
        if image in ("argus", "argus:cpu", "argus:cuda"):  # built here, tagged by kustomize
            continue
        if "${" in image:  # FROM runtime-${RUNTIME}: one of the file's own stages
            pattern = re.sub(r"\\\$\\\{\w+\\\}", ".+", re.escape(image))
            assert any(re.fullmatch(pattern, s) for s in stages), image
            continue
        assert re.search(r":[0-9][\w.-]*$", image), f"{image} is not pinned to a version"
    for path in DEPLOY.rglob("kustomization.yaml"):
        for img in docs(path)[0].get("images", []):
            assert img["newTag"] not in ("latest", ""), path


def test_topics_group_ports_and_partitions_agree_with_the_code() -> None:
    keda = docs(DEPLOY / "k8s" / "base" / "keda-scaledobject.yaml")[0]
    triggers = [t["metadata"] for t in keda["spec"]["triggers"]]
    assert {t["topic"] for t in triggers} == set(INPUT_TOPICS.values())
    assert {t["consumerGroup"] for t in triggers} == {Settings().app_id}
    config = docs(DEPLOY / "k8s" / "base" / "configmap.yaml")[0]["data"]
    assert keda["spec"]["maxReplicaCount"] == int(config["ARGUS_PARTITIONS"])
    port = Settings().metrics_port
    assert int(config["ARGUS_METRICS_PORT"]) == port
    worker = docs(DEPLOY / "k8s" / "base" / "worker.yaml")[0]
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == port
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    compose = docs(DEPLOY / "compose" / "compose.yaml")[0]
    assert compose["services"]["worker"]["expose"] == [str(port)]
    assert f"EXPOSE {port}" in (DEPLOY / "docker" / "Dockerfile").read_text()


@pytest.mark.parametrize("service", ["init", "worker"])
def test_compose_workers_point_at_the_cluster(service: str) -> None:
    env = docs(DEPLOY / "compose" / "compose.yaml")[0]["services"][service]["environment"]
    assert env["ARGUS_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["ARGUS_ES_URL"].startswith("https://elasticsearch:")
    assert "${ELASTIC_PASSWORD" in env["ARGUS_ES_PASSWORD"]  # from .env, never inline


def _mapped_fields(properties: dict, prefix: str = "") -> set[str]:
    out = set()
    for name, spec in properties.items():
        out.add(prefix + name)
        out |= _mapped_fields(spec.get("properties", {}), f"{prefix}{name}.")
    return out


def test_kibana_objects_match_the_index_templates() -> None:
    from indexer.templates import load_templates

    templates = load_templates()
    fields = {
        "argus-events-*": _mapped_fields(
            templates["argus-events"]["template"]["mappings"]["properties"]
        ),
        "argus-alerts-*": _mapped_fields(
            templates["argus-alerts"]["template"]["mappings"]["properties"]
        ),
    }
    lines = (DEPLOY / "kibana" / "saved-objects.ndjson").read_text().splitlines()
    objects = [json.loads(line) for line in lines]
    views = {o["id"]: o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"}
    assert set(views.values()) == set(fields)
    for o in objects:
        if o["type"] != "search":
            continue
        view = views[o["references"][0]["id"]]
        assert set(o["attributes"]["columns"]) <= fields[view], o["id"]
