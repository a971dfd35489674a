"""A wire-level Kubernetes API emulator for tests: HTTPS, bearer auth, realistic objects.

The official `kubernetes` client talks to it exactly as to a real cluster::

    with KubeEmulator() as kube:
        kube.write_kubeconfig(tmp_path / "kubeconfig", context_name="emulator")
        config.load_kube_config(config_file=str(tmp_path / "kubeconfig"), context="emulator")
        client.AppsV1Api().read_namespaced_deployment("api-gateway", "api-gateway")

Tests shape the cluster through `kube.store` (put/delete/load_yaml/replace_all), container logs
through `kube.logs` (`GET .../pods/{name}/log`), RBAC through `kube.access`, failures through
`kube.faults`, and read the request log with `kube.count(...)`. Jobs and CronJobs (with the
pods and runs their controllers make) come from `make_job` / `make_cronjob`, put into the store
by the test: the default fixtures hold none.
"""

from __future__ import annotations

from sandbox.kube.access import AccessPolicy, Rule, rule
from sandbox.kube.batch import batch_network_policy, batch_pod_template, make_cronjob, make_job
from sandbox.kube.emulator import DEFAULT_FIXTURES_DIR, KubeEmulator
from sandbox.kube.faults import Faults
from sandbox.kube.generate import default_pod_template, make_pods
from sandbox.kube.helm import decode_release, encode_release, release_secret
from sandbox.kube.kubeconfig import kubeconfig_document, write_kubeconfig
from sandbox.kube.logs import PodLogs
from sandbox.kube.requestlog import RequestRecord
from sandbox.kube.store import ObjectStore

__all__ = [
    "DEFAULT_FIXTURES_DIR",
    "AccessPolicy",
    "Faults",
    "KubeEmulator",
    "ObjectStore",
    "PodLogs",
    "RequestRecord",
    "Rule",
    "batch_network_policy",
    "batch_pod_template",
    "decode_release",
    "default_pod_template",
    "encode_release",
    "kubeconfig_document",
    "make_cronjob",
    "make_job",
    "make_pods",
    "release_secret",
    "rule",
    "write_kubeconfig",
]
