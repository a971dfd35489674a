"""SEC-K8S-IMAGE-VULNS on plain data: the report formats parsed, the running images found, each
image judged against its report both ways (healthy variants pass, each defect fails naming it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pytest_deployverify.checks.findings import Severity, summarize
from pytest_deployverify.checks.kube.expectations import (
    VulnerabilityIgnore,
    VulnerabilityScan,
    VulnSeverity,
)
from pytest_deployverify.checks.kube.vulns import (
    ImageReport,
    ImageScans,
    RunningImage,
    judge_images,
    match,
    operator_reports,
    reports_from_document,
    running_images,
    template_images,
    vulnerability_findings,
)
from pytest_deployverify.profile.schema import SchemaError, build
from tests.vulns.reports import (
    CRITICAL,
    GATEWAY_DIGEST,
    GATEWAY_IMAGE,
    GATEWAY_REPO,
    HIGH,
    LOW,
    MEDIUM,
    OTHER_DIGEST,
    UNFIXED_HIGH,
    ago,
    ignore_entry,
    operator_report,
    running_pod,
    sarif,
    trivy_json,
)

TODAY = dt.datetime.now(dt.UTC).date()
RUNNING = RunningImage(GATEWAY_IMAGE, GATEWAY_DIGEST, ("Pod api-gateway/p1 container api-gateway",))


def expect(**values: Any) -> VulnerabilityScan:
    return build(VulnerabilityScan, values)


def scans(*docs: dict[str, Any]) -> ImageScans:
    reports: list[ImageReport] = []
    for index, doc in enumerate(docs):
        if doc.get("kind") == "VulnerabilityReport":
            reports += operator_reports([doc])
        else:
            reports += reports_from_document(doc, f"report{index}.json")
    return ImageScans(
        tuple(reports), ("test reports",), taken_at=dt.datetime.now(dt.UTC).timestamp()
    )


def judge(
    report_scans: ImageScans, images: list[RunningImage] | None = None, **values: Any
) -> list[Any]:
    return judge_images(images or [RUNNING], report_scans, expect(**values), waiver_max_days=90)


def found(verdicts: list[Any]) -> str:
    return summarize(vulnerability_findings(verdicts))


# ---- the formats ----------------------------------------------------------------------------------


def test_trivy_json_report_is_parsed() -> None:
    doc = trivy_json(
        vulns=[CRITICAL, MEDIUM], created=dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    )
    (report,) = reports_from_document(doc, "gateway.json")
    assert report.image == GATEWAY_IMAGE
    assert report.digests == {GATEWAY_DIGEST}
    # CreatedAt carries nanoseconds and an offset, as Trivy writes it.
    assert report.created == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC).timestamp()
    assert {(v.id, v.severity, v.package, v.fixed) for v in report.vulnerabilities} == {
        ("CVE-2024-3094", VulnSeverity.CRITICAL, "xz-utils", "5.6.1"),
        ("CVE-2024-21538", VulnSeverity.MEDIUM, "cross-spawn", "7.0.5"),
    }


def test_sarif_report_takes_the_severity_from_the_tags_the_score_or_the_level() -> None:
    when = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    (tagged,) = reports_from_document(sarif(vulns=[CRITICAL, HIGH, LOW], scanned=when), "g.sarif")
    assert tagged.image == GATEWAY_IMAGE
    assert tagged.digests == {GATEWAY_DIGEST}
    assert tagged.created == when.timestamp()
    assert tagged.scanner == "Trivy"
    by_id = {v.id: v for v in tagged.vulnerabilities}
    assert by_id["CVE-2024-3094"].severity is VulnSeverity.CRITICAL
    assert by_id["CVE-2023-44487"].severity is VulnSeverity.HIGH
    # Package and versions come from Trivy's message text.
    assert (by_id["CVE-2024-3094"].package, by_id["CVE-2024-3094"].fixed) == ("xz-utils", "5.6.1")
    # Without the severity tag the security-severity score decides (9.5 is critical).
    (scored,) = reports_from_document(sarif(vulns=[CRITICAL], tags=False), "g.sarif")
    assert scored.vulnerabilities[0].severity is VulnSeverity.CRITICAL
    # Trivy's SARIF carries no invocation: no scan time.
    assert scored.created is None


def test_operator_report_names_the_image_with_its_registry() -> None:
    (report,) = operator_reports([operator_report(vulns=[HIGH])])
    assert (
        report.source
        == "VulnerabilityReport api-gateway/replicaset-api-gateway-7d9f8b6c5d-api-gateway"
    )
    assert report.image == f"{GATEWAY_IMAGE}@{GATEWAY_DIGEST}"
    assert report.vulnerabilities[0].id == "CVE-2023-44487"
    # Docker Hub's index.docker.io is docker.io: library/redis matches redis:7.2.5.
    (hub,) = operator_reports(
        [
            operator_report(
                registry="index.docker.io", repository="library/redis", tag="7.2.5", digest=None
            )
        ]
    )
    assert match(RunningImage("redis:7.2.5"), hub) == "tag"


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ([{"Target": "x", "Vulnerabilities": []}], "without SchemaVersion"),
        ({"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem"}, "filesystem"),
        ({"SchemaVersion": 2, "ArtifactName": "", "Results": []}, "names no image"),
        ({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}}]}, "names no image"),
        ({"version": "2.0.0", "runs": []}, "expected 2.1.0"),
        ({"bomFormat": "CycloneDX"}, "neither a Trivy JSON report"),
    ],
)
def test_a_file_that_is_no_image_report_is_refused_naming_it(doc: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        reports_from_document(doc, "scan.json")
    assert str(caught.value).startswith("scan.json")


# ---- the images that run --------------------------------------------------------------------------


def test_running_images_take_the_digest_the_kubelet_resolved() -> None:
    pods = [
        running_pod("a"),
        running_pod("b"),
        running_pod("c", phase="Succeeded", image="registry.example.com/job:1.0"),
        running_pod("d", init_image="registry.example.com/migrate:2.0"),
    ]
    images = {i.image: i for i in running_images(pods)}
    assert set(images) == {GATEWAY_IMAGE, "registry.example.com/migrate:2.0"}
    gateway = images[GATEWAY_IMAGE]
    assert gateway.digest == GATEWAY_DIGEST
    assert gateway.where == tuple(
        f"Pod api-gateway/{p} container api-gateway" for p in ("a", "b", "d")
    )
    # Two builds of one tag running side by side are two images.
    moved = running_images([running_pod("a"), running_pod("e", digest=OTHER_DIGEST)])
    assert {i.digest for i in moved} == {GATEWAY_DIGEST, OTHER_DIGEST}


def test_before_a_deploy_the_templates_images_are_judged() -> None:
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": GATEWAY_IMAGE}]}}},
    }
    (image,) = template_images([deployment])
    assert (image.image, image.digest, image.owners) == (
        GATEWAY_IMAGE,
        "",
        (("Deployment", "shop", "web"),),
    )


def test_a_report_belongs_to_an_image_by_digest_else_by_tag() -> None:
    (report,) = reports_from_document(trivy_json(), "r.json")
    assert match(RUNNING, report) == "digest"
    assert match(RunningImage(GATEWAY_IMAGE), report) == "tag"
    assert match(RunningImage(GATEWAY_IMAGE, OTHER_DIGEST), report) is None  # another build
    assert match(RunningImage(f"{GATEWAY_REPO}:1.4.3"), report) is None
    (untagged,) = reports_from_document(trivy_json(digest=None), "r.json")
    assert match(RUNNING, untagged) == "tag"


# ---- judging: healthy variants --------------------------------------------------------------------


def test_a_clean_report_matched_by_digest_passes() -> None:
    verdicts = judge(scans(trivy_json(vulns=[MEDIUM, LOW])))
    assert vulnerability_findings(verdicts) == []
    summary = verdicts[0].summary()
    assert summary["matched_by"] == "digest"
    assert summary["vulnerabilities"] == {"medium": 1, "low": 1}
    assert summary["failing"] == []


def test_an_ignored_vulnerability_within_its_expiry_passes_and_is_shown() -> None:
    entry = ignore_entry("CVE-2024-3094", expires=TODAY + dt.timedelta(days=30))
    verdicts = judge(scans(trivy_json(vulns=[CRITICAL])), ignore=[entry])
    assert vulnerability_findings(verdicts) == []
    assert verdicts[0].summary()["ignore entries"] == [
        "CVE-2024-3094: applied (the vulnerable code path is not reachable in our build)"
    ]


def test_the_newest_matching_report_is_judged() -> None:
    old = trivy_json(vulns=[CRITICAL], created=ago(days=3))
    new = sarif(vulns=[LOW], scanned=ago(hours=1))
    verdicts = judge(scans(old, new))
    assert vulnerability_findings(verdicts) == []
    assert verdicts[0].report is not None
    assert verdicts[0].report.source == "report1.json"


def test_unfixed_vulnerabilities_can_be_let_through() -> None:
    report = scans(trivy_json(vulns=[UNFIXED_HIGH]))
    assert found(judge(report))
    verdicts = judge(report, ignore_unfixed=True)
    assert vulnerability_findings(verdicts) == []
    assert verdicts[0].summary()["not failing (no fix yet, ignore_unfixed)"] == ["CVE-2023-45853"]


# ---- judging: defects -----------------------------------------------------------------------------


def test_a_critical_vulnerability_in_a_running_image_fails_naming_it() -> None:
    verdicts = judge(scans(trivy_json(vulns=[CRITICAL, HIGH, MEDIUM])))
    (finding,) = vulnerability_findings(verdicts)
    assert finding.check_id == "image-vulnerable"
    assert finding.severity is Severity.CRITICAL
    assert finding.subject == f"Image {GATEWAY_IMAGE} (sha256:10a26a2d0a50)"
    assert finding.message.startswith(
        "2 vulnerabilities at or above high: CVE-2024-3094 (CRITICAL, xz-utils 5.6.0, fixed in "
        "5.6.1), CVE-2023-44487 (HIGH, nghttp2 1.51.0, fixed in 1.57.0)"
    )
    assert "runs in Pod api-gateway/p1 container api-gateway" in finding.message
    assert "CVE-2024-21538" not in finding.message  # medium is below the threshold


def test_the_threshold_is_configurable() -> None:
    report = scans(trivy_json(vulns=[MEDIUM]))
    assert vulnerability_findings(judge(report)) == []
    (finding,) = vulnerability_findings(judge(report, severity="medium"))
    assert finding.severity is Severity.MEDIUM
    assert "1 vulnerability at or above medium: CVE-2024-21538" in finding.message


def test_a_stale_report_fails() -> None:
    verdicts = judge(scans(trivy_json(created=ago(days=9))))
    (finding,) = vulnerability_findings(verdicts)
    assert finding.check_id == "image-scan-stale"
    assert "was made 9d" in finding.message
    assert "more than max_report_age 7d" in finding.message
    assert (
        vulnerability_findings(judge(scans(trivy_json(created=ago(days=9))), max_report_age="10d"))
        == []
    )


def test_a_report_without_a_scan_time_fails() -> None:
    (finding,) = vulnerability_findings(judge(scans(sarif(vulns=[LOW]))))
    assert finding.check_id == "image-scan-stale"
    assert "carries no scan time" in finding.message


def test_a_stale_report_still_reports_its_vulnerabilities() -> None:
    verdicts = judge(scans(trivy_json(vulns=[CRITICAL], created=ago(days=30))))
    assert {f.check_id for f in vulnerability_findings(verdicts)} == {
        "image-scan-stale",
        "image-vulnerable",
    }


def test_a_running_image_without_a_report_fails() -> None:
    other = trivy_json(f"{GATEWAY_REPO}:1.4.1", digest=OTHER_DIGEST)
    verdicts = judge(scans(other))
    (finding,) = vulnerability_findings(verdicts)
    assert finding.check_id == "image-scan-missing"
    assert finding.message.startswith(
        "not scanned: no report matches it (by digest sha256:10a26a2d0a50)"
    )
    assert "reports read: test reports" in finding.message
    # and with no report at all
    assert found(judge(ImageScans())).startswith("[image-scan-missing]")


def test_a_report_of_another_build_of_the_tag_does_not_count() -> None:
    (finding,) = vulnerability_findings(judge(scans(trivy_json(digest=OTHER_DIGEST))))
    assert finding.check_id == "image-scan-missing"
    assert (
        f"the reports of {GATEWAY_REPO}:1.4.2 are of another build (sha256:bbbbbbbbbbbb), not "
        "the running digest sha256:10a26a2d0a50" in finding.message
    )


def test_an_ignore_entry_past_its_expiry_is_not_applied_and_is_named() -> None:
    entry = ignore_entry("CVE-2024-3094", expires=TODAY - dt.timedelta(days=1))
    (finding,) = vulnerability_findings(judge(scans(trivy_json(vulns=[CRITICAL])), ignore=[entry]))
    assert finding.check_id == "image-vulnerable"
    expired = (TODAY - dt.timedelta(days=1)).isoformat()
    assert (
        f"the ignore entry for CVE-2024-3094 is not applied: it expired on {expired} "
        "(approver Dana Security, ticket SEC-4711)" in finding.message
    )


def test_an_ignore_entry_too_far_ahead_or_for_another_image_is_not_applied() -> None:
    far = ignore_entry("CVE-2024-3094", expires=TODAY + dt.timedelta(days=200))
    (finding,) = vulnerability_findings(judge(scans(trivy_json(vulns=[CRITICAL])), ignore=[far]))
    assert "more than 90 days ahead ([policy] waiver_max_days" in finding.message
    elsewhere = ignore_entry(
        "CVE-2024-3094",
        expires=TODAY + dt.timedelta(days=10),
        images=("registry.example.com/web*",),
    )
    assert found(judge(scans(trivy_json(vulns=[CRITICAL])), ignore=[elsewhere]))
    scoped = ignore_entry(
        "CVE-2024-3094", expires=TODAY + dt.timedelta(days=10), images=(f"{GATEWAY_REPO}",)
    )
    assert vulnerability_findings(judge(scans(trivy_json(vulns=[CRITICAL])), ignore=[scoped])) == []


# ---- the profile table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"id": "CVE-*"}, "must name one vulnerability exactly"),
        ({"reason": "x"}, "reason 'x' is a placeholder"),
        ({"approver": ""}, "approver is empty"),
        ({"ticket": "n/a"}, "ticket 'n/a' is a placeholder"),
        ({"images": ["*"]}, "would waive too much"),
    ],
)
def test_ignore_entries_are_held_to_the_rules_of_a_waiver(
    entry: dict[str, Any], problem: str
) -> None:
    values = {**ignore_entry("CVE-2024-3094", expires=TODAY), **entry}
    with pytest.raises(SchemaError, match=problem):
        build(VulnerabilityIgnore, values)


def test_the_table_must_read_something_and_name_each_vulnerability_once() -> None:
    with pytest.raises(SchemaError, match="reads no report"):
        expect(cluster=False)
    entry = ignore_entry("CVE-2024-3094", expires=TODAY)
    with pytest.raises(SchemaError, match="CVE-2024-3094 more than once"):
        expect(ignore=[entry, entry])
    defaults = expect()
    assert (defaults.cluster, defaults.severity, defaults.max_report_age) == (
        True,
        VulnSeverity.HIGH,
        "7d",
    )
