"""Secrets in container logs: found with the shared scanner, named by pod, container and line."""

from __future__ import annotations

from pytest_deployverify.checks.kube.logs import pod_log_findings, scanned_summary
from pytest_deployverify.checks.kube.snapshots import ContainerLog

from .test_kube_builders import ids

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.q2Vq1m1yJx0W8c4mS9n5dQ7oP3rZ6tU1"
HEALTHY = (
    '{"level":"info","msg":"server listening on :3000"}',
    '{"level":"info","msg":"request completed","path":"/api/v1/venues","status":200}',
)


def _log(*lines: str, previous: bool = False, pod: str = "gw-abc") -> ContainerLog:
    return ContainerLog("api-gateway", "prod", pod, "gateway", previous, tuple(lines))


def test_healthy_and_masked_logs_have_no_findings() -> None:
    masked = (
        '{"level":"info","msg":"login","password":"***"}',
        "Authorization: Bearer [REDACTED]",
        "password=${DB_PASSWORD}",
    )
    assert pod_log_findings([_log(*HEALTHY), _log(*masked, pod="gw-def")]) == []


def test_a_logged_token_is_found_by_pod_container_and_line_never_shown() -> None:
    found = pod_log_findings([_log(*HEALTHY, f"calling auth: Bearer {JWT}")])
    assert ids(found) == {"pod-log-secret"}
    (finding,) = found
    assert finding.subject == "Pod prod/gw-abc container gateway"
    assert "line 3 of the last 3 log lines holds a JWT" in finding.message
    assert JWT not in str(finding)
    assert JWT[4:20] not in str(finding)


def test_the_previous_instance_is_named_as_such() -> None:
    found = pod_log_findings([_log('crash dump: {"password": "hunter2-prod!"}', previous=True)])
    assert found[0].subject == "Pod prod/gw-abc container gateway (previous instance)"
    assert "holds a password" in found[0].message
    assert "hunter2" not in str(found[0])


def test_the_summary_says_what_was_read() -> None:
    gone = ContainerLog("api-gateway", "prod", "gw-x", "gateway", problem="gone since listed")
    assert scanned_summary([_log(*HEALTHY), gone]) == {
        "Pod prod/gw-abc container gateway": "2 lines",
        "Pod prod/gw-x container gateway": "gone since listed",
    }
