"""What can be checked of deploy/ without a container engine: syntax, pins, names, ports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from streams.contracts.settings import Settings
from streams.contracts.topics import INPUT_TOPICS

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


BASE = DEPLOY / "k8s" / "base"
WORKER_LABELS = {"app": "argus-worker"}


def k8s_objects() -> list[dict]:
    return [d for path in sorted((DEPLOY / "k8s").rglob("*.yaml")) for d in docs(path)]


def selects_worker(selector: dict | None) -> bool:
    labels = (selector or {}).get("matchLabels", selector or {})
    return bool(labels) and labels.items() <= WORKER_LABELS.items()


def test_worker_metrics_port_is_reachable_inside_the_cluster_only() -> None:
    resources = docs(BASE / "kustomization.yaml")[0]["resources"]
    assert {"networkpolicy.yaml", "service.yaml"} <= set(resources)
    port = Settings().metrics_port
    objects = k8s_objects()
    # No Service exposes anything outside the cluster; the worker's is a ClusterIP one.
    services = [o for o in objects if o["kind"] == "Service"]
    for service in services:
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]
        assert not service["spec"].get("externalIPs"), service["metadata"]
    [worker_service] = [s for s in services if selects_worker(s["spec"]["selector"])]
    assert [p["port"] for p in worker_service["spec"]["ports"]] == [port]
    # Nor does the pod itself (host network, host ports).
    worker = docs(BASE / "worker.yaml")[0]
    pod = worker["spec"]["template"]["spec"]
    assert not pod.get("hostNetwork")
    assert all("hostPort" not in p for c in pod["containers"] for p in c.get("ports", []))
    assert worker["spec"]["template"]["metadata"]["labels"] == WORKER_LABELS

    [policy] = [o for o in objects if o["kind"] == "NetworkPolicy"]
    spec = policy["spec"]
    assert selects_worker(spec["podSelector"])
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}  # default deny both ways
    for rule in spec["ingress"]:
        assert rule["ports"] == [{"protocol": "TCP", "port": port}], rule
        # Pods of the cluster (selectors), never an address block (the outside world).
        assert rule["from"], rule
        for peer in rule["from"]:
            assert "ipBlock" not in peer and peer.keys() <= {"namespaceSelector", "podSelector"}

    def egress_ports(namespace: str | None) -> set[tuple[str, int]]:
        found = set()
        for rule in spec["egress"]:
            for peer in rule["to"]:
                name = peer.get("namespaceSelector", {}).get("matchLabels", {})
                if namespace is None and "ipBlock" in peer:
                    found |= {(p["protocol"], p["port"]) for p in rule["ports"]}
                elif name.get("kubernetes.io/metadata.name") == namespace:
                    found |= {(p["protocol"], p["port"]) for p in rule["ports"]}
        return found

    # What the worker connects to, at the addresses the ConfigMap gives it.
    config = docs(BASE / "configmap.yaml")[0]["data"]
    for server in config["ARGUS_KAFKA_BOOTSTRAP"].split(","):
        host, _, kafka_port = server.rpartition(":")
        assert ("TCP", int(kafka_port)) in egress_ports(host.split(".")[1]), server
    es = urlsplit(config["ARGUS_ES_URL"])
    assert ("TCP", es.port) in egress_ports(es.hostname.split(".")[1])
    assert {("UDP", 53), ("TCP", 53)} <= egress_ports("kube-system")  # DNS
    smtp = Settings.model_fields["smtp_port"].default
    assert {("TCP", 443), ("TCP", smtp)} <= egress_ports(None)  # webhooks, Slack, PagerDuty


def test_the_metrics_token_is_optional_and_from_a_secret() -> None:
    container = docs(BASE / "worker.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    ref = env["ARGUS_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert ref["optional"] is True and ref["name"] and ref["key"]
    config = docs(BASE / "configmap.yaml")[0]["data"]
    assert "ARGUS_METRICS_TOKEN" not in config  # a secret, never in the ConfigMap
    assert config["ARGUS_METRICS_HOST"] == "0.0.0.0"  # a pod is reached on its IP
    # The GPU overlay appends to the container's env instead of replacing it.
    overlay = docs(DEPLOY / "k8s" / "overlays" / "gpu" / "kustomization.yaml")[0]
    env_ops = [
        op
        for patch in overlay["patches"]
        for op in yaml.safe_load(patch["patch"])
        if "/env" in op["path"]
    ]
    assert env_ops and all(op["path"].endswith("/env/-") for op in env_ops), env_ops
    # Compose: passed through from .env when set there, absent otherwise (never "": refused).
    worker_env = docs(DEPLOY / "compose" / "compose.yaml")[0]["services"]["worker"]["environment"]
    assert "ARGUS_METRICS_TOKEN" in worker_env and worker_env["ARGUS_METRICS_TOKEN"] is None


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
@pytest.mark.parametrize("target", ["base", "overlays/gpu"])
def test_kustomize_renders_the_policy_and_the_worker_env(target: str) -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "k8s" / target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    objects = [d for d in yaml.safe_load_all(out) if d]
    kinds = {o["kind"] for o in objects}
    assert {"NetworkPolicy", "Service", "Deployment"} <= kinds
    assert all(
        o["metadata"].get("namespace") == "argus" for o in objects if o["kind"] != "Namespace"
    )
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    names = [e["name"] for e in container["env"]]
    assert "ARGUS_METRICS_TOKEN" in names
    if target == "overlays/gpu":
        assert "ARGUS_DEVICE" in names and container["image"].endswith("-cuda")
    else:
        assert container["image"].endswith("-cpu")


def test_compose_publishes_nothing_beyond_loopback() -> None:
    for path in sorted((DEPLOY / "compose").glob("*.yaml")):
        services = docs(path)[0]["services"]
        worker = services.get("worker", {})
        # The worker's metrics port is on the compose network only.
        assert not worker.get("ports"), path
        for name, service in services.items():
            for port in service.get("ports", []):
                published = port if isinstance(port, str) else port.get("host_ip", "")
                assert str(published).startswith("127.0.0.1:") or published == "127.0.0.1", (
                    f"{path.name}: {name} publishes {port} beyond loopback"
                )


KIBANA_OBJECTS = DEPLOY / "kibana" / "saved-objects.ndjson"


def kibana_objects() -> dict[tuple[str, str], dict]:
    lines = KIBANA_OBJECTS.read_text().splitlines()
    objects = [json.loads(line) for line in lines]
    by_key = {(o["type"], o["id"]): o for o in objects}
    assert len(by_key) == len(objects), "duplicate type/id"
    return by_key


def is_mapped(properties: dict, dotted: str) -> bool:
    """Whether a dotted field name resolves through the mapping's `properties`; below an
    object with `dynamic: true` (alerts' `group`, `figures`) any subfield is indexed."""
    head, _, rest = dotted.partition(".")
    for name, spec in properties.items():
        if name == dotted:
            return True
        if name == head and rest:
            if spec.get("enabled") is False:
                return False  # stored, never indexed: nothing under it can be queried
            if str(spec.get("dynamic")).lower() == "true":
                return True
            return is_mapped(spec.get("properties", {}), rest)
    return False


def kql_fields(query: str) -> set[str]:
    """Field names in a KQL query: what stands before `:` or a range operator."""
    return set(re.findall(r"([\w@][\w.@]*)\s*(?::|<=|>=|<|>)", query))


def fields_by_view(obj: dict) -> dict[str, set[str]]:
    """Data view id -> the fields one saved object uses on it: columns, sort, Lens columns'
    sourceField and secondary fields, and the field names of every KQL query."""
    attrs = obj["attributes"]
    refs = {r["name"]: r["id"] for r in obj["references"]}
    used: dict[str, set[str]] = {}
    if obj["type"] == "search":
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        view = refs[source["indexRefName"]]
        used[view] = {*attrs["columns"], *(f for f, _ in attrs["sort"])}
        used[view] |= kql_fields(source["query"]["query"])
    elif obj["type"] == "lens":
        state = attrs["state"]
        for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
            view = refs[f"indexpattern-datasource-layer-{layer_id}"]
            fields = used.setdefault(view, kql_fields(state["query"]["query"]))
            for column in layer["columns"].values():
                if column.get("sourceField") not in (None, "___records___"):
                    fields.add(column["sourceField"])
                fields.update(column.get("params", {}).get("secondaryFields", []))
                fields |= kql_fields(column.get("filter", {}).get("query", ""))
    return used


def test_kibana_objects_are_well_formed_and_references_resolve() -> None:
    objects = kibana_objects()
    for (kind, oid), o in objects.items():
        assert kind and oid and isinstance(o["attributes"], dict), oid
        assert o["attributes"]["title"], oid
        for ref in o["references"]:
            assert (ref["type"], ref["id"]) in objects, f"{oid}: {ref}"
        names = [r["name"] for r in o["references"]]
        assert len(names) == len(set(names)), f"{oid}: reference names repeat"


def test_kibana_objects_match_the_index_templates() -> None:
    from indexer.templates import load_templates

    mappings = {
        pattern: t["template"]["mappings"]["properties"]
        for t in load_templates().values()
        for pattern in t["index_patterns"]
    }
    objects = kibana_objects()
    views = {oid: o["attributes"] for (kind, oid), o in objects.items() if kind == "index-pattern"}
    for view in views.values():
        # Each data view is one template's index pattern, with the time field it maps.
        assert view["title"] in mappings, view["title"]
        assert is_mapped(mappings[view["title"]], view["timeFieldName"]), view["title"]
    checked = 0
    for (_, oid), o in objects.items():
        for view, fields in fields_by_view(o).items():
            properties = mappings[views[view]["title"]]
            missing = sorted(f for f in fields if not is_mapped(properties, f))
            assert not missing, f"{oid}: not in the {views[view]['title']} mapping: {missing}"
            checked += len(fields)
    assert checked >= 30  # the extraction found the fields, not nothing


def test_kibana_field_checks_see_what_they_should() -> None:
    props = {
        "a": {"properties": {"b": {"type": "keyword"}}},
        "group": {"type": "object", "dynamic": True},
        "ev": {"type": "object", "enabled": False},
    }
    assert is_mapped(props, "a.b") and is_mapped(props, "group.anything")
    assert not is_mapped(props, "a.c") and not is_mapped(props, "ev.x")
    assert not is_mapped(props, "b")
    query = 'source : "news" and scores.x.y >= 50 and not @timestamp < now-1d and z:*'
    assert kql_fields(query) == {"source", "scores.x.y", "@timestamp", "z"}


def test_kibana_lens_charts_are_consistent() -> None:
    """What a hand-edited Lens object gets wrong: accessors or orderings naming no column."""
    lenses = [o for (kind, _), o in kibana_objects().items() if kind == "lens"]
    assert len(lenses) >= 5
    for o in lenses:
        state = o["attributes"]["state"]
        layers = state["datasourceStates"]["formBased"]["layers"]
        for layer in layers.values():
            assert list(layer["columnOrder"]) == list(layer["columns"]), o["id"]
            for column in layer["columns"].values():
                order = column.get("params", {}).get("orderBy", {})
                assert order.get("columnId", next(iter(layer["columns"]))) in layer["columns"]
        vis = state["visualization"]
        if o["attributes"]["visualizationType"] == "lnsXY":
            for vl in vis["layers"]:
                columns = layers[vl["layerId"]]["columns"]
                assert {vl["xAccessor"], vl["splitAccessor"], *vl["accessors"]} <= set(columns)
        else:
            assert o["attributes"]["visualizationType"] == "lnsDatatable", o["id"]
            columns = layers[vis["layerId"]]["columns"]
            assert [c["columnId"] for c in vis["columns"]] == list(columns), o["id"]
            assert vis["sorting"]["columnId"] in columns, o["id"]


def test_kibana_dashboards_show_every_chart() -> None:
    objects = kibana_objects()
    overview = objects[("dashboard", "argus-overview-dashboard")]
    assert overview["attributes"]["title"] == "Argus: overview"
    for (kind, oid), o in objects.items():
        if kind != "dashboard":
            continue
        panels = json.loads(o["attributes"]["panelsJSON"])
        refs = {r["name"]: r for r in o["references"]}
        assert len(panels) == len(refs), f"{oid}: a reference no panel uses"
        for panel in panels:
            # Kibana finds a panel's object under "<panelIndex>:<panelRefName>".
            ref = refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
            assert ref["type"] == panel["type"], oid
        if o is overview:
            lenses = {i for k, i in objects if k == "lens"}
            assert {r["id"] for r in refs.values() if r["type"] == "lens"} == lenses


def test_kibana_import_runs_in_compose_and_kubernetes() -> None:
    base = DEPLOY / "k8s" / "base"
    assert "kibana-import-job.yaml" in docs(base / "kustomization.yaml")[0]["resources"]
    job = docs(base / "kibana-import-job.yaml")[0]
    assert job["kind"] == "Job"
    assert job["spec"]["backoffLimit"] > 0 and job["spec"]["ttlSecondsAfterFinished"] > 0
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == "argus" and container["args"][:2] == ["kibana", "import"]
    sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
    assert sources == {"argus-config", "argus-secrets"}  # the init Job's conventions
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    config = docs(base / "configmap.yaml")[0]["data"]
    assert "ARGUS_KIBANA_URL" in env | config
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    assert any(env["ARGUS_ES_CA_CERTS"].startswith(m + "/") for m in mounts)  # Kibana's CA

    service = docs(DEPLOY / "compose" / "compose.yaml")[0]["services"]["kibana-objects"]
    assert service["command"][:2] == ["kibana", "import"]
    assert service["environment"]["ARGUS_KIBANA_URL"] == "http://kibana:5601"
    # The file given to --file is the repository's NDJSON, mounted into the container.
    path = service["command"][service["command"].index("--file") + 1]
    host, container_dir = next(
        v.split(":")[:2] for v in service["volumes"] if path.startswith(v.split(":")[1] + "/")
    )
    mounted = (DEPLOY / "compose" / host).resolve() / path.removeprefix(container_dir + "/")
    assert mounted == KIBANA_OBJECTS.resolve()


def test_the_worker_runs_one_forward_lane_per_cpu_it_requests() -> None:
    container = docs(BASE / "worker.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    ref = env["ARGUS_CPU_THREADS"]["valueFrom"]["resourceFieldRef"]
    assert ref == {"containerName": container["name"], "resource": "requests.cpu", "divisor": "1"}
    assert container["resources"]["requests"]["cpu"]
