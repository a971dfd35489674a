"""The rollback checks' declarations, apart from their logic (``checks.rollback``): the catalog
lists them in every run, and only a run that verifies a rollback imports what judges them."""

from __future__ import annotations

from pytest_deployverify.checks.declarations import declare, needs

__all__ = ["CHECKS", "HELM_ROLLBACK", "NO_FAILED_PODS", "RECOVERED", "RUNNING"]

RUNNING = declare(
    "ROLLBACK-RUNNING",
    title="The release rolled back to runs everywhere",
    section="infra",
    severity="critical",
    components=("kubernetes", "http"),
    keys=("kubernetes.workloads", "kubernetes.expect.container", "http.expect.version_path"),
    reads=("kubernetes.objects", "http.version"),
    applies=needs("kubernetes.workloads"),
    description="Rollback runs (--rollback-to VERSION): every [kubernetes] workload's image and "
    "every one of its running pods carry VERSION, and the version endpoint (when [http] is "
    "configured) reports it.",
)

NO_FAILED_PODS = declare(
    "ROLLBACK-NO-FAILED-PODS",
    title="No pod of the failed release remains",
    section="infra",
    severity="critical",
    components=("kubernetes",),
    keys=("version", "kubernetes.workloads"),
    reads=("kubernetes.objects",),
    description="Rollback runs: no pod of the namespace still runs the failed release (the "
    "profile's version) in an image of the workloads, or carries it in its "
    "app.kubernetes.io/version label; each one left is named.",
)

HELM_ROLLBACK = declare(
    "ROLLBACK-HELM",
    title="The Helm release's latest revision is the rollback to the previous release",
    section="infra",
    severity="critical",
    components=("kubernetes",),
    keys=("kubernetes.expect.helm",),
    reads=("kubernetes.objects",),
    applies=needs("kubernetes.expect.helm"),
    description="Rollback runs: the latest revision of [kubernetes.expect.helm] release was "
    "made by helm rollback ('Rollback to N'), is deployed, and carries VERSION, as revision N "
    "does; its time is the rollback time unless --rollback-at says otherwise.",
)

RECOVERED = declare(
    "ROLLBACK-RECOVERED",
    title="The rollback triggers recovered after the rollback (error rate, P95 latency)",
    section="monitoring",
    severity="high",
    components=("prometheus", "kubernetes"),
    keys=("rollback.triggers", "rollback.recovery", "rollback.settle", "gates"),
    reads=("prometheus.gates",),
    description="Rollback runs: each [rollback] triggers gate (default the ready-made "
    "rollback_error_rate and rollback_p95_latency) held at every point of the recovery window, "
    "which starts [rollback] settle after the rollback time (the Helm revision's, or "
    "--rollback-at); too early a run is inconclusive.",
)

CHECKS = (RUNNING, NO_FAILED_PODS, HELM_ROLLBACK, RECOVERED)
