"""Scanner reports of our own, in the documented formats: Trivy's JSON report (``trivy image
--format json``, SchemaVersion 2), SARIF 2.1.0 as ``trivy image --format sarif`` writes it (run
properties naming the image, rules tagged with the severity) and Trivy Operator's
VulnerabilityReport custom resource (aquasecurity.github.io/v1alpha1). No scanner runs here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

GATEWAY_REPO = "registry.example.com/api-gateway"
# The digest the sandbox's gateway pods run (containerStatuses[].imageID).
GATEWAY_DIGEST = "sha256:10a26a2d0a500aeb34b75e8cae12b20e06b2776c0b5af5ab16134bed536019a1"
OTHER_DIGEST = "sha256:" + "b" * 64
GATEWAY_IMAGE = f"{GATEWAY_REPO}:1.4.2"
OPERATOR_REPORT = "replicaset-api-gateway-7d9f8b6c5d-api-gateway"

Vuln = dict[str, str]


def vuln(
    cve: str,
    severity: str,
    package: str = "openssl",
    installed: str = "3.0.2",
    fixed: str = "3.0.13",
) -> Vuln:
    return {
        "id": cve,
        "severity": severity,
        "package": package,
        "installed": installed,
        "fixed": fixed,
    }


CRITICAL = vuln("CVE-2024-3094", "CRITICAL", "xz-utils", "5.6.0", "5.6.1")
HIGH = vuln("CVE-2023-44487", "HIGH", "nghttp2", "1.51.0", "1.57.0")
MEDIUM = vuln("CVE-2024-21538", "MEDIUM", "cross-spawn", "7.0.3", "7.0.5")
LOW = vuln("CVE-2024-9143", "LOW", "libcrypto3", "3.3.2-r0", "3.3.2-r1")
UNFIXED_HIGH = vuln("CVE-2023-45853", "HIGH", "zlib1g", "1.2.13", "")


def rfc3339(moment: dt.datetime, *, nanos: bool = False) -> str:
    """As Trivy writes CreatedAt: nanoseconds and an offset (``nanos``), or the API's form."""
    if nanos:
        local = moment.astimezone(dt.timezone(dt.timedelta(hours=2)))
        return local.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123+02:00"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(**delta)


def trivy_json(
    image: str = GATEWAY_IMAGE,
    *,
    digest: str | None = GATEWAY_DIGEST,
    vulns: list[Vuln] | None = None,
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """``trivy image --format json IMAGE``: SchemaVersion 2, the image's tags and digests, the
    vulnerabilities of each result (an OS target and a language target)."""
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    found = list(vulns or [])
    os_vulns = [v for v in found if v["package"] not in ("cross-spawn", "body-parser")]
    lang_vulns = [v for v in found if v not in os_vulns]
    doc: dict[str, Any] = {
        "SchemaVersion": 2,
        "CreatedAt": rfc3339(created or ago(hours=3), nanos=True),
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "alpine", "Name": "3.20.3"},
            "ImageID": "sha256:" + "c" * 64,
            "RepoTags": [image],
            "RepoDigests": [f"{repo}@{digest}"] if digest else [],
        },
        "Results": [
            {
                "Target": f"{image} (alpine 3.20.3)",
                "Class": "os-pkgs",
                "Type": "alpine",
                "Vulnerabilities": [_trivy_vuln(v) for v in os_vulns],
            },
            {
                "Target": "Node.js",
                "Class": "lang-pkgs",
                "Type": "node-pkg",
                "Vulnerabilities": [_trivy_vuln(v) for v in lang_vulns],
            },
        ],
    }
    return doc


def _trivy_vuln(v: Vuln) -> dict[str, Any]:
    return {
        "VulnerabilityID": v["id"],
        "PkgName": v["package"],
        "InstalledVersion": v["installed"],
        "FixedVersion": v["fixed"],
        "Status": "fixed" if v["fixed"] else "affected",
        "SeveritySource": "nvd",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{v['id'].lower()}",
        "Title": f"{v['package']}: a {v['severity'].lower()} flaw",
        "Severity": v["severity"],
    }


_SCORES = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0"}
_LEVELS = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


def sarif(
    image: str = GATEWAY_IMAGE,
    *,
    digest: str | None = GATEWAY_DIGEST,
    vulns: list[Vuln] | None = None,
    scanned: dt.datetime | None = None,
    tags: bool = True,
) -> dict[str, Any]:
    """SARIF 2.1.0 as Trivy writes it for an image (one run; ``imageName``/``repoTags``/
    ``repoDigests`` in the run's properties; each rule tagged with the severity and scored), plus
    an invocation carrying the scan time (``scanned``; None: no invocation, as Trivy writes it).
    ``tags=False`` leaves the severity tag out: the score decides."""
    repo = image.rsplit(":", 1)[0]
    rules: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, v in enumerate(vulns or []):
        tag_list = ["vulnerability", "security", v["severity"]] if tags else ["vulnerability"]
        rules.append(
            {
                "id": v["id"],
                "name": "OsPackageVulnerability",
                "shortDescription": {"text": f"{v['package']}: a flaw"},
                "defaultConfiguration": {"level": _LEVELS[v["severity"]]},
                "properties": {
                    "precision": "very-high",
                    "security-severity": _SCORES[v["severity"]],
                    "tags": tag_list,
                },
            }
        )
        results.append(
            {
                "ruleId": v["id"],
                "ruleIndex": index,
                "level": _LEVELS[v["severity"]],
                "message": {
                    "text": f"Package: {v['package']}\nInstalled Version: {v['installed']}\n"
                    f"Vulnerability {v['id']}\nSeverity: {v['severity']}\n"
                    f"Fixed Version: {v['fixed']}\nLink: [{v['id']}](https://avd.aquasec.com)"
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": repo, "uriBaseId": "ROOTPATH"},
                            "region": {"startLine": 1, "endLine": 1},
                        },
                        "message": {"text": f"{repo}: {v['package']}@{v['installed']}"},
                    }
                ],
            }
        )
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "fullName": "Trivy Vulnerability Scanner",
                "informationUri": "https://github.com/aquasecurity/trivy",
                "name": "Trivy",
                "rules": rules,
                "version": "0.57.1",
            }
        },
        "results": results,
        "columnKind": "utf16CodeUnits",
        "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
        "properties": {
            "imageName": image,
            "repoTags": [image],
            "repoDigests": [f"{repo}@{digest}"] if digest else [],
        },
    }
    if scanned is not None:
        run["invocations"] = [
            {"executionSuccessful": True, "endTimeUtc": rfc3339(scanned)},
        ]
    return {
        "version": "2.1.0",
        "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/"
        "schema/sarif-schema-2.1.0.json",
        "runs": [run],
    }


def operator_report(
    name: str = OPERATOR_REPORT,
    *,
    namespace: str = "api-gateway",
    repository: str = "api-gateway",
    registry: str = "registry.example.com",
    tag: str = "1.4.2",
    digest: str | None = GATEWAY_DIGEST,
    vulns: list[Vuln] | None = None,
    updated: dt.datetime | None = None,
) -> dict[str, Any]:
    """A VulnerabilityReport as Trivy Operator writes it for one workload container."""
    found = list(vulns or [])
    counts = {s: sum(1 for v in found if v["severity"] == s) for s in _SCORES}
    artifact: dict[str, Any] = {"repository": repository, "tag": tag}
    if digest:
        artifact["digest"] = digest
    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "trivy-operator.container.name": "api-gateway",
                "trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": "api-gateway-7d9f8b6c5d",
                "trivy-operator.resource.namespace": namespace,
            },
        },
        "report": {
            "updateTimestamp": rfc3339(updated or ago(hours=6)),
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.57.1"},
            "registry": {"server": registry},
            "artifact": artifact,
            "os": {"family": "alpine", "name": "3.20.3"},
            "summary": {
                "criticalCount": counts["CRITICAL"],
                "highCount": counts["HIGH"],
                "mediumCount": counts["MEDIUM"],
                "lowCount": counts["LOW"],
                "unknownCount": 0,
            },
            "vulnerabilities": [
                {
                    "vulnerabilityID": v["id"],
                    "resource": v["package"],
                    "installedVersion": v["installed"],
                    "fixedVersion": v["fixed"],
                    "severity": v["severity"],
                    "title": f"{v['package']}: a flaw",
                    "primaryLink": f"https://avd.aquasec.com/nvd/{v['id'].lower()}",
                    "target": "",
                    "links": [],
                }
                for v in found
            ],
        },
    }


def running_pod(
    name: str = "api-gateway-7d9f8b6c5d-x2k4p",
    image: str = GATEWAY_IMAGE,
    digest: str | None = GATEWAY_DIGEST,
    *,
    phase: str = "Running",
    namespace: str = "api-gateway",
    init_image: str | None = None,
) -> dict[str, Any]:
    """A pod as the API returns it: the spec's image, the status's resolved imageID."""
    repo = image.rsplit(":", 1)[0]
    spec: dict[str, Any] = {"containers": [{"name": "api-gateway", "image": image}]}
    statuses = [
        {
            "name": "api-gateway",
            "image": image,
            "imageID": f"{repo}@{digest}" if digest else "",
            "ready": True,
        }
    ]
    status: dict[str, Any] = {"phase": phase, "containerStatuses": statuses}
    if init_image:
        spec["initContainers"] = [{"name": "migrate", "image": init_image}]
        status["initContainerStatuses"] = [{"name": "migrate", "image": init_image, "imageID": ""}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
        "status": status,
    }


def ignore_entry(
    cve: str, *, expires: dt.date, images: tuple[str, ...] = (), approver: str = "Dana Security"
) -> dict[str, Any]:
    """A ``[[kubernetes.expect.vulnerabilities.ignore]]`` entry as plain data."""
    entry: dict[str, Any] = {
        "id": cve,
        "reason": "the vulnerable code path is not reachable in our build",
        "approver": approver,
        "expires": expires,
        "ticket": "SEC-4711",
    }
    if images:
        entry["images"] = list(images)
    return entry


def ignore_toml(cve: str, *, expires: dt.date, images: tuple[str, ...] = ()) -> str:
    """The same entry as profile TOML (after a [kubernetes.expect.vulnerabilities] table)."""
    scope = f"images = {list(images)!r}\n".replace("'", '"') if images else ""
    return (
        "\n[[kubernetes.expect.vulnerabilities.ignore]]\n"
        f'id = "{cve}"\n'
        'reason = "the vulnerable code path is not reachable in our build"\n'
        'approver = "Dana Security"\n'
        'ticket = "SEC-4711"\n'
        f"expires = {expires.isoformat()}\n"
        f"{scope}"
    )
