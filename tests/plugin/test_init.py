"""`deployverify init`: the profile built from a cluster's objects (pure), the command against the
Kubernetes API emulator (read-only), the template, and never overwriting a file. What it writes
passes `deployverify profile check`, and its commented-out candidates validate once uncommented."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.cli import main
from pytest_deployverify.cli.init_profile import (
    ClusterView,
    accepted_kinds,
    candidates,
    image_tag,
    release_version,
    render_profile,
)
from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.profile.loader import _interpolate, _Variables

TODAY = dt.date(2026, 11, 21)
NS = "shop"


def _meta(name: str, namespace: str = NS, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, **extra}


def _workload(
    kind: str,
    name: str,
    *,
    image: str,
    labels: dict[str, str] | None = None,
    namespace: str = NS,
    env: list[dict[str, Any]] | None = None,
    replicas: int = 3,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pod_labels = {"app.kubernetes.io/name": name, **(labels or {})}
    template = {
        "metadata": {"labels": pod_labels},
        "spec": {"containers": [{"name": name, "image": image, "env": env or []}]},
    }
    spec: dict[str, Any] = {"replicas": replicas, "template": template}
    if kind == "CronJob":
        spec = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": _meta(name, namespace, labels=pod_labels, **(meta or {})),
        "spec": spec,
        "status": {"readyReplicas": replicas},
    }


def _service(name: str, namespace: str, ports: list[tuple[int, str]], **labels: str) -> dict:
    return {
        "kind": "Service",
        "metadata": _meta(name, namespace, labels=labels),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"port": port, "name": port_name} for port, port_name in ports],
        },
    }


def shop_view() -> ClusterView:
    """A shop's namespace: a Deployment behind a Service and a TLS Ingress, an HPA and a PDB, a
    StatefulSet, a DaemonSet, a CronJob and the Job it made; Redis, PostgreSQL, Prometheus,
    Alertmanager and a Redis exporter elsewhere in the cluster."""
    api = _workload(
        "Deployment",
        "shop-api",
        image="registry.example.com/shop/api:2.3.1@sha256:" + "a" * 64,
        labels={"app.kubernetes.io/version": "2.3.0"},
        env=[
            {
                "name": "REDIS_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "shop-secrets", "key": "redis-password"}},
            },
            {"name": "LOG_LEVEL", "value": "info"},
        ],
        meta={"annotations": {"meta.helm.sh/release-name": "shop"}},
    )
    api["metadata"]["labels"]["helm.sh/chart"] = "shop-1.8.0"
    job = _workload("Job", "nightly-28112026", image="registry.example.com/shop/jobs:2.3.1")
    job["metadata"]["ownerReferences"] = [
        {"kind": "CronJob", "name": "nightly", "controller": True}
    ]
    ingress = {
        "kind": "Ingress",
        "metadata": _meta("shop"),
        "spec": {
            "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {"paths": [{"backend": {"service": {"name": "shop-api"}}}]},
                }
            ],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
    }
    hpa = {
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta("shop-api"),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "shop-api"},
            "minReplicas": 3,
            "maxReplicas": 12,
        },
    }
    pdb = {
        "kind": "PodDisruptionBudget",
        "metadata": _meta("shop-api"),
        "spec": {
            "minAvailable": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "shop-api"}},
        },
    }
    postgres = _workload(
        "StatefulSet",
        "orders-db",
        image="postgres:16.4",
        namespace="data",
        env=[
            {
                "name": "POSTGRES_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "orders-db", "key": "password"}},
            }
        ],
    )
    cluster_services = [
        _service("shop-api", NS, [(80, "http")]),
        _service("cache", "data", [(6379, "redis")]),
        _service(
            "cache-exporter",
            "data",
            [(9121, "metrics")],
            **{"app.kubernetes.io/name": "redis-exporter"},
        ),
        _service("orders-db", "data", [(5432, "tcp-postgresql")]),
        _service("prometheus-server", "monitoring", [(9090, "web")]),
        _service("alertmanager-main", "monitoring", [(9093, "web")]),
    ]
    return ClusterView(
        namespace=NS,
        context="prod-eu",
        endpoint="https://k8s.example.com (context prod-eu)",
        objects={
            "Deployment": [api],
            "StatefulSet": [_workload("StatefulSet", "search", image="search:8.1", replicas=2)],
            "DaemonSet": [_workload("DaemonSet", "log-agent", image="agent:1.2.0")],
            "CronJob": [
                _workload("CronJob", "nightly", image="registry.example.com/shop/jobs:2.3.1")
            ],
            "Job": [job],
            "Service": [cluster_services[0]],
            "Ingress": [ingress],
            "HorizontalPodAutoscaler": [hpa],
            "PodDisruptionBudget": [pdb],
        },
        cluster_services=cluster_services,
        cluster_workloads=[api, postgres],
    )


def uncommented(text: str) -> str:
    """The profile with every commented-out key and table header switched on (prose stays)."""
    return "\n".join(
        line[2:] if re.match(r"^# (\[\[?[a-z_.]+\]\]?$|[a-z_]+ = )", line) else line
        for line in text.splitlines()
    )


def prose(text: str) -> str:
    """The comments as one line (init wraps them), to look for a phrase."""
    return " ".join(line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#"))


def validate(text: str, environ: dict[str, str] | None = None) -> Any:
    data = tomllib.loads(text)
    data.setdefault("name", "prod")
    variables = _Variables(environ or {})
    return profile_from_dict(_interpolate(data, variables, (), "prod.toml", text))


# -- the pure part ---------------------------------------------------------------------------------


def test_profile_from_a_cluster_names_what_was_read() -> None:
    text = render_profile("prod", shop_view(), today=TODAY)
    profile = validate(text)
    k8s = profile.kubernetes
    assert (k8s.context, k8s.namespace) == ("prod-eu", NS)
    expected = ["shop-api"] + [
        f"{kind}/{name}"
        for kind, name in (
            ("StatefulSet", "search"),
            ("DaemonSet", "log-agent"),
            ("CronJob", "nightly"),
        )
        if kind in accepted_kinds()
    ]
    assert list(k8s.workloads) == expected
    # The Job its CronJob made is the CronJob's, never a workload of its own.
    assert "nightly-28112026" not in text
    if "CronJob" not in accepted_kinds():
        assert "Not listed: CronJob nightly" in prose(text)
    assert k8s.expect.service == "shop-api"
    assert k8s.expect.ingress == "shop"
    assert k8s.expect.public_host == "shop.example.com"
    assert "TLS for shop.example.com (Secret shop-tls)" in prose(text)
    assert "HorizontalPodAutoscaler shop-api: Deployment/shop-api, 3 to 12 replicas" in prose(text)
    assert "PodDisruptionBudget shop-api: minAvailable 2; covers shop-api" in prose(text)
    assert k8s.expect.helm.release == "shop"
    assert k8s.expect.helm.chart == "shop"
    assert '# chart_version = "1.8.0"' in text
    # The DNS pin is offered, never switched on by init.
    assert '# resolve = { "shop.example.com" = ["203.0.113.7"] }' in text
    assert profile.protected
    assert text.startswith("#:schema ./profile.schema.json\n")
    # Comments are wrapped (only a word that cannot be broken, an image digest, runs over).
    long = [line for line in text.splitlines() if line.startswith("#") and len(line) > 99]
    assert all(" " not in line[1:].strip() for line in long), long


def test_release_version_from_tag_and_label_with_disagreement_marked() -> None:
    text = render_profile("prod", shop_view(), today=TODAY)
    # The label says 2.3.0, the image 2.3.1: the label wins, the other source is a marked guess.
    assert 'version = "2.3.0"' in text
    assert "guess: other sources say otherwise:" in prose(text)
    assert "image registry.example.com/shop/api:2.3.1@sha256:" in prose(text)
    assert image_tag("registry:5000/team/app:v1.4.2@sha256:abc") == "v1.4.2"
    assert image_tag("registry:5000/team/app") is None
    plain = _workload("Deployment", "a", image="app:latest")
    assert release_version(plain).value is None
    text = render_profile(
        "prod", ClusterView(namespace=NS, objects={"Deployment": [plain]}), today=TODAY
    )
    assert '# version = "${RELEASE_VERSION}"' in text
    validate(text)


def test_candidates_by_port_and_name_and_exporters_left_out() -> None:
    found = candidates(shop_view().cluster_services)
    assert [c.shown for c in found["redis"]] == ["Service data/cache port 6379"]
    assert [c.shown for c in found["postgres"]] == ["Service data/orders-db port 5432"]
    assert found["prometheus"][0].host == "prometheus-server.monitoring.svc"
    assert found["alertmanager"][0].port == 9093
    assert not any("exporter" in c.shown for c in found["redis"])


def test_candidates_are_commented_out_with_their_secrets_as_variables() -> None:
    text = render_profile("prod", shop_view(), today=TODAY)
    assert "# [redis]" in text
    assert "\n[redis]" not in text
    assert '# url = "redis://cache.data.svc:6379/0"' in text
    # The variable is named, and where the value is kept (never the value: Secrets are not read).
    assert (
        "secret: export REDIS_PASSWORD: Deployment shop-api reads it from Secret shop/shop-secrets key redis-password"
        in prose(text)
    )
    assert '# password = "${REDIS_PASSWORD}"' in text
    assert (
        "secret: export POSTGRES_PASSWORD: StatefulSet orders-db reads it from Secret data/orders-db key password"
        in prose(text)
    )
    assert '# url = "http://prometheus-server.monitoring.svc:9090"' in text
    assert '# url = "http://alertmanager-main.monitoring.svc:9093"' in text
    assert '# base_url = "https://shop.example.com"' in text
    # Switched on, the candidates, manual item and waiver examples are a valid profile once the
    # variables are exported; without them the check names the variable.
    on = uncommented(text)
    profile = validate(
        on, {"REDIS_PASSWORD": "a-redis-password-1234", "POSTGRES_PASSWORD": "pg-password-123456"}
    )
    assert profile.redis.url.display == "redis://cache.data.svc:6379/0"
    assert profile.postgres is not None
    assert profile.http is not None
    assert profile.waivers[0].check == "K8S-HPA"
    with pytest.raises(Exception, match="REDIS_PASSWORD"):
        validate(on)


def test_template_without_a_cluster_is_valid_and_so_is_every_commented_example() -> None:
    text = render_profile("staging", None, today=TODAY)
    profile = validate(text)
    assert profile.protected
    assert profile.sections.get("kubernetes") is None
    on = uncommented(text)
    assert "\n[kubernetes]" in on
    assert "\n[redis]" in on
    secrets = {
        "REDIS_PASSWORD": "a-redis-password-1234",
        "POSTGRES_PASSWORD": "pg-password-123456",
        "RELEASE_VERSION": "1.0.0",
    }
    full = validate(on, secrets)
    assert full.kubernetes.workloads[0] == "my-service"
    assert full.version == "1.0.0"


# -- the command -----------------------------------------------------------------------------------


def test_init_writes_a_template_that_profile_check_passes_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "profiles"
    assert main(["init", "staging", "--env-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out
    assert "staging.toml" in out
    written = (folder / "staging.toml").read_text()
    assert (folder / "profile.schema.json").is_file()
    assert main(["profile", "check", "staging", "--env-dir", str(folder)]) == 0
    capsys.readouterr()
    # A second init refuses, names the file, and leaves it as it was.
    assert main(["init", "staging", "--env-dir", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "staging.toml already exists" in err
    assert "never overwrites" in err
    assert (folder / "staging.toml").read_text() == written
    # Another profile keeps the schema that is there.
    (folder / "profile.schema.json").write_text("{}")
    assert main(["init", "qa", "--env-dir", str(folder)]) == 0
    assert "kept" in capsys.readouterr().out
    assert (folder / "profile.schema.json").read_text() == "{}"


def test_init_follows_the_env_dir_setting_like_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\ndeployverify_env_dir = envs\n")
    assert main(["init", "qa"]) == 0
    assert (tmp_path / "envs" / "qa.toml").is_file()
    assert main(["profile", "check", "qa"]) == 0
    capsys.readouterr()
    assert main(["init", "bad name"]) == 2
    assert "not valid" in capsys.readouterr().err


def test_init_rejects_a_missing_kubeconfig(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["init", "prod", "--env-dir", str(tmp_path), "--kubeconfig", str(tmp_path / "nope")]
    )
    assert code == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "prod.toml").exists()


@pytest.fixture(scope="module")
def emulator() -> Any:
    pytest.importorskip("kubernetes")
    from sandbox.kube.emulator import KubeEmulator

    with KubeEmulator() as kube:
        yield kube


def test_init_reads_the_cluster_read_only_and_profile_check_passes(
    emulator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = emulator.write_kubeconfig(tmp_path / "kubeconfig", context_name="sandbox")
    emulator.reset_counts()
    folder = tmp_path / "profiles"
    code = main(
        [
            "init", "sandbox", "--env-dir", str(folder), "--kubeconfig", str(kubeconfig),
            "--kube-context", "sandbox", "--namespace", "api-gateway",
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    text = (folder / "sandbox.toml").read_text()
    requests = emulator.requests
    assert requests
    assert all(r.method == "GET" and not r.mutating for r in requests)
    assert not any(r.resource == "secrets" for r in requests), "init never reads Secrets"
    profile = validate(text)
    assert list(profile.kubernetes.workloads) == ["api-gateway"]
    assert profile.kubernetes.expect.public_host == "api.example.com"
    assert profile.version == "1.4.2"
    assert profile.kubernetes.expect.helm.release == "api-gateway"
    # The sandbox's Redis lives in another namespace; its password's Secret is named.
    assert '# url = "redis://redis.redis.svc:6379/0"' in text
    assert "Secret redis/redis-auth key password" in prose(text)
    capsys.readouterr()
    assert main(["profile", "check", "sandbox", "--env-dir", str(folder)]) == 0
    assert "components: kubernetes" in capsys.readouterr().out


def test_init_says_what_it_could_not_read(
    emulator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = emulator.write_kubeconfig(tmp_path / "kubeconfig", context_name="sandbox")
    emulator.access.forbid("horizontalpodautoscalers", "api-gateway")
    try:
        code = main(
            ["init", "p", "--env-dir", str(tmp_path), "--kubeconfig", str(kubeconfig),
             "--kube-context", "sandbox"]
        )  # fmt: skip
    finally:
        emulator.access.reset()
    assert code == 0, capsys.readouterr().err
    text = (tmp_path / "p.toml").read_text()
    # The context's namespace is used when --namespace is not given.
    assert 'namespace = "api-gateway"' in text
    assert "# Not read: HorizontalPodAutoscaler:" in text


def test_init_against_an_unreachable_cluster_fails_in_one_line(
    emulator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    text = emulator.write_kubeconfig(tmp_path / "real", context_name="sandbox").read_text()
    kubeconfig.write_text(text.replace(emulator.url, "https://127.0.0.1:9"))
    code = main(["init", "p", "--env-dir", str(tmp_path), "--kubeconfig", str(kubeconfig)])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot read the cluster" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.toml").exists()
