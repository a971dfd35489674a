"""Image vulnerabilities: the images that run, judged against the scanners' reports.

Reports come from where teams keep them: Trivy Operator's ``VulnerabilityReport`` custom
resources (``aquasecurity.github.io/v1alpha1``, one per workload container, read through the
Kubernetes reader) and scanner report files (Trivy's JSON report, ``trivy image --format json``;
SARIF 2.1.0, as Trivy, Grype and others write it). Each is parsed here from its decoded JSON into
``ImageReport``; reading files and the cluster is the component's job.

The images judged are those that run: every container (and init container) of the pods in the
namespace, with the digest the kubelet resolved (``containerStatuses[].imageID``); before a
deploy, the images the manifests' pod templates name. A report belongs to an image when the
digests match; when either digest is unknown, by repository and tag. A running image with no
report, or only reports of another build of its tag, is a finding, never a pass; so is a report
older than ``max_report_age`` (or one that carries no scan time). Vulnerabilities at or above the
severity threshold fail, except those an ignore entry in force accepts; an entry past its expiry
(or further ahead than ``[policy] waiver_max_days``) is not applied, and the finding names it.
No I/O here.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.findings import Finding, Severity
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.expectations import (
    VulnerabilityIgnore,
    VulnerabilityScan,
    VulnSeverity,
)
from pytest_deployverify.checks.kube.images import ImageRef, digest_of, parse_image
from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    KubeObject,
    containers,
    dig,
    kind,
    mapping,
    name,
    namespace,
    parse_time,
    pod_spec,
    sequence,
    subject,
)
from pytest_deployverify.checks.kube.snapshots import ObjectKey
from pytest_deployverify.profile.fields import format_duration, parse_duration

OPERATOR_GROUP = "aquasecurity.github.io"
OPERATOR_KIND = "VulnerabilityReport"
SARIF_VERSION = "2.1.0"
LISTED = 5  # vulnerabilities named per finding; the rest are counted
_SEVERITY = {
    VulnSeverity.CRITICAL: Severity.CRITICAL,
    VulnSeverity.HIGH: Severity.HIGH,
    VulnSeverity.MEDIUM: Severity.MEDIUM,
    VulnSeverity.LOW: Severity.LOW,
    VulnSeverity.UNKNOWN: Severity.LOW,
}


# ---- what was read ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vulnerability:
    """One vulnerability a report lists for an image."""

    id: str
    severity: VulnSeverity
    package: str = ""
    installed: str = ""
    fixed: str = ""
    title: str = ""

    def describe(self) -> str:
        """``CVE-2024-1 (CRITICAL, openssl 3.0.2, fixed in 3.0.13)``."""
        parts = [self.severity.value.upper()]
        if self.package:
            parts.append(f"{self.package} {self.installed}".strip())
        parts.append(f"fixed in {self.fixed}" if self.fixed else "no fix yet")
        return f"{self.id} ({', '.join(parts)})"


@dataclass(frozen=True)
class ImageReport:
    """One scanner report of one image: where it was read, the references it names (tags and
    digests), when the scan ran (epoch seconds; None when the report does not say) and what it
    found."""

    source: str
    image: str
    names: tuple[str, ...] = ()
    created: float | None = None
    scanner: str = ""
    vulnerabilities: tuple[Vulnerability, ...] = ()

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.image, *self.names)))

    @property
    def digests(self) -> frozenset[str]:
        return frozenset(d for d in (parse_image(r).digest for r in self.references) if d)

    @property
    def repositories(self) -> frozenset[str]:
        return frozenset(parse_image(r).canonical_name for r in self.references if r)

    @property
    def tags(self) -> frozenset[tuple[str, str]]:
        return frozenset(
            (ref.canonical_name, ref.tag or "latest")
            for ref in (parse_image(r) for r in self.references if r)
            if ref.tag or not ref.digest
        )


@dataclass(frozen=True)
class ImageScans:
    """The reports read for a run (snapshot ``kubernetes.image_scans``): every report, the
    sources read (for the evidence) and notes on what was not there (the cluster does not serve
    VulnerabilityReports)."""

    reports: tuple[ImageReport, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    taken_at: float = 0.0


@dataclass(frozen=True)
class RunningImage:
    """An image that runs (or, before a deploy, will run): the reference as the pod spec writes
    it, the digest when known, where it runs (``Pod ns/name container c``) and the objects that
    run it (pods; before a deploy, the workloads), by key."""

    image: str
    digest: str = ""
    where: tuple[str, ...] = ()
    owners: tuple[ObjectKey, ...] = ()

    @property
    def ref(self) -> ImageRef:
        return parse_image(self.image)

    @property
    def shown(self) -> str:
        """``registry.example.com/api:1.2 (sha256:10a26a2d0a50)``: the reference, with the
        digest when the reference does not carry it."""
        if self.digest and self.ref.digest != self.digest:
            return f"{self.image} ({_short(self.digest)})"
        return self.image


# ---- parsing the reports ---------------------------------------------------------------------------


def severity_of(value: object) -> VulnSeverity:
    text = str(value or "").strip().lower()
    try:
        return VulnSeverity(text)
    except ValueError:
        return VulnSeverity.UNKNOWN


def _epoch(value: object) -> float | None:
    """An RFC 3339 time (Trivy writes nanoseconds and an offset) as epoch seconds."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())
    parsed = parse_time(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def operator_reports(objects: Iterable[KubeObject]) -> list[ImageReport]:
    """Trivy Operator's VulnerabilityReports (the objects as the API returns them)."""
    found: list[ImageReport] = []
    for obj in objects:
        report = mapping(obj.get("report"))
        artifact = mapping(report.get("artifact"))
        registry = str(dig(report, "registry", "server") or "")
        if registry in ("index.docker.io", "registry-1.docker.io"):
            registry = "docker.io"
        repository = str(artifact.get("repository") or "")
        base = f"{registry}/{repository}" if registry else repository
        tag, digest = str(artifact.get("tag") or ""), str(artifact.get("digest") or "")
        image = base + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
        created = _epoch(report.get("updateTimestamp")) or _epoch(
            dig(obj, "metadata", "creationTimestamp")
        )
        vulns = tuple(
            Vulnerability(
                id=str(mapping(v).get("vulnerabilityID") or "?"),
                severity=severity_of(mapping(v).get("severity")),
                package=str(mapping(v).get("resource") or ""),
                installed=str(mapping(v).get("installedVersion") or ""),
                fixed=str(mapping(v).get("fixedVersion") or ""),
                title=str(mapping(v).get("title") or ""),
            )
            for v in sequence(report.get("vulnerabilities"))
        )
        scanner = " ".join(
            str(dig(report, "scanner", k) or "") for k in ("name", "version")
        ).strip()
        found.append(
            ImageReport(
                source=f"{OPERATOR_KIND} {namespace(obj)}/{name(obj)}",
                image=image,
                created=created,
                scanner=scanner,
                vulnerabilities=vulns,
            )
        )
    return found


def reports_from_document(doc: object, source: str) -> list[ImageReport]:
    """The image reports in a decoded report file: Trivy JSON (``SchemaVersion`` 2) or SARIF
    2.1.0. ``ValueError`` says why a document is not one (naming ``source``)."""
    if isinstance(doc, Mapping) and "SchemaVersion" in doc:
        return [trivy_report(doc, source)]
    if isinstance(doc, Mapping) and "runs" in doc:
        return sarif_reports(doc, source)
    if isinstance(doc, list):
        raise ValueError(
            f"{source}: a Trivy report without SchemaVersion (Trivy before 0.20) names no image; "
            "scan again with a current trivy, --format json"
        )
    raise ValueError(
        f"{source}: neither a Trivy JSON report (SchemaVersion, ArtifactName, Results) nor "
        "SARIF 2.1.0 (version, runs)"
    )


def trivy_report(doc: Mapping[str, Any], source: str) -> ImageReport:
    """``trivy image --format json``: the image (ArtifactName, RepoTags, RepoDigests), when it
    was scanned (CreatedAt) and the vulnerabilities of every result."""
    artifact_type = str(doc.get("ArtifactType") or "container_image")
    if artifact_type != "container_image":
        raise ValueError(
            f"{source}: a Trivy scan of a {artifact_type}, not a container image; scan the "
            "image (trivy image --format json IMAGE)"
        )
    image = str(doc.get("ArtifactName") or "")
    meta = mapping(doc.get("Metadata"))
    names = tuple(
        str(n) for n in (*sequence(meta.get("RepoTags")), *sequence(meta.get("RepoDigests")))
    )
    if not image and not names:
        raise ValueError(f"{source}: the Trivy report names no image (ArtifactName is empty)")
    vulns = tuple(
        Vulnerability(
            id=str(mapping(v).get("VulnerabilityID") or "?"),
            severity=severity_of(mapping(v).get("Severity")),
            package=str(mapping(v).get("PkgName") or ""),
            installed=str(mapping(v).get("InstalledVersion") or ""),
            fixed=str(mapping(v).get("FixedVersion") or ""),
            title=str(mapping(v).get("Title") or ""),
        )
        for result in sequence(doc.get("Results"))
        for v in sequence(mapping(result).get("Vulnerabilities"))
    )
    return ImageReport(
        source=source,
        image=image or names[0],
        names=names,
        created=_epoch(doc.get("CreatedAt")),
        scanner="Trivy",
        vulnerabilities=vulns,
    )


_SARIF_FIELD = re.compile(r"^(Package|Installed Version|Fixed Version):\s*(.*)$", re.MULTILINE)
_LEVELS = {
    "error": VulnSeverity.HIGH,
    "warning": VulnSeverity.MEDIUM,
    "note": VulnSeverity.LOW,
}


def _sarif_severity(*bags: Mapping[str, Any], level: object = None) -> VulnSeverity:
    """The scanner's own severity (a tag such as ``CRITICAL``), else the ``security-severity``
    score (GitHub's bands: 9.0 critical, 7.0 high, 4.0 medium, 0.1 low), else the level."""
    for bag in bags:
        for tag in sequence(bag.get("tags")):
            found = severity_of(tag)
            if found is not VulnSeverity.UNKNOWN:
                return found
    for bag in bags:
        score = bag.get("security-severity")
        try:
            value = float(str(score))
        except ValueError:
            continue
        for floor, severity in (
            (9.0, VulnSeverity.CRITICAL),
            (7.0, VulnSeverity.HIGH),
            (4.0, VulnSeverity.MEDIUM),
            (0.1, VulnSeverity.LOW),
        ):
            if value >= floor:
                return severity
        return VulnSeverity.UNKNOWN
    return _LEVELS.get(str(level or ""), VulnSeverity.UNKNOWN)


def sarif_reports(doc: Mapping[str, Any], source: str) -> list[ImageReport]:
    """SARIF 2.1.0: one report per run. The image comes from the run's properties (``imageName``,
    ``repoTags``, ``repoDigests``, as Trivy writes them), the scan time from its invocations
    (``endTimeUtc``, else ``startTimeUtc``)."""
    if str(doc.get("version")) != SARIF_VERSION:
        raise ValueError(f"{source}: SARIF version {doc.get('version')!r}; expected 2.1.0")
    found: list[ImageReport] = []
    for index, run in enumerate(map(mapping, sequence(doc.get("runs")))):
        props = mapping(run.get("properties"))
        image = str(props.get("imageName") or "")
        names = tuple(
            str(n) for n in (*sequence(props.get("repoTags")), *sequence(props.get("repoDigests")))
        )
        if not image and not names:
            raise ValueError(
                f"{source}: SARIF run {index} names no image (runs[{index}].properties.imageName"
                ", as trivy image --format sarif writes it)"
            )
        driver = mapping(dig(run, "tool", "driver"))
        rule_list = [mapping(r) for r in sequence(driver.get("rules"))]
        by_id = {str(r.get("id")): r for r in rule_list}
        times = [
            t
            for inv in map(mapping, sequence(run.get("invocations")))
            for t in (_epoch(inv.get("endTimeUtc")) or _epoch(inv.get("startTimeUtc")),)
            if t is not None
        ]
        vulns: list[Vulnerability] = []
        for result in map(mapping, sequence(run.get("results"))):
            rule_id = str(result.get("ruleId") or dig(result, "rule", "id") or "?")
            position = result.get("ruleIndex")
            rule = (
                rule_list[position]
                if isinstance(position, int) and 0 <= position < len(rule_list)
                else by_id.get(rule_id, {})
            )
            level = result.get("level") or dig(rule, "defaultConfiguration", "level")
            text = str(dig(result, "message", "text") or "")
            fields = {k: v.strip() for k, v in _SARIF_FIELD.findall(text)}
            vulns.append(
                Vulnerability(
                    id=rule_id,
                    severity=_sarif_severity(
                        mapping(result.get("properties")),
                        mapping(rule.get("properties")),
                        level=level,
                    ),
                    package=fields.get("Package", ""),
                    installed=fields.get("Installed Version", ""),
                    fixed=fields.get("Fixed Version", ""),
                    title=str(dig(rule, "shortDescription", "text") or ""),
                )
            )
        found.append(
            ImageReport(
                source=source if len(sequence(doc.get("runs"))) == 1 else f"{source} run {index}",
                image=image or names[0],
                names=names,
                created=max(times) if times else None,
                scanner=str(driver.get("name") or ""),
                vulnerabilities=tuple(vulns),
            )
        )
    return found


# ---- the images that run ---------------------------------------------------------------------------


def running_images(pods: Iterable[KubeObject]) -> list[RunningImage]:
    """Every image the pods run (containers and init containers), once per repository and digest
    (or tag, when the digest is unknown), with the pods and containers running it. Finished pods
    (Succeeded, Failed) run nothing."""
    found: dict[tuple[str, str], RunningImage] = {}
    for pod in pods:
        if dig(pod, "status", "phase") in ("Succeeded", "Failed"):
            continue
        statuses = {
            str(mapping(s).get("name")): mapping(s)
            for s in sequence(dig(pod, "status", "initContainerStatuses"))
            + sequence(dig(pod, "status", "containerStatuses"))
        }
        for container in containers(pod_spec(pod)):
            image = str(container.get("image") or "")
            if not image:
                continue
            status = statuses.get(str(container.get("name")), {})
            digest = digest_of(str(status.get("imageID") or "")) or parse_image(image).digest
            _add(found, image, digest, subject(pod, str(container.get("name"))), _key(pod))
    return list(found.values())


def template_images(workloads: Iterable[KubeObject]) -> list[RunningImage]:
    """Before a deploy: the images the pod templates name (digest only when pinned by one)."""
    found: dict[tuple[str, str], RunningImage] = {}
    for workload in workloads:
        for container in containers(pod_spec(workload)):
            image = str(container.get("image") or "")
            if image:
                _add(
                    found,
                    image,
                    parse_image(image).digest,
                    subject(workload, str(container.get("name"))),
                    _key(workload),
                )
    return list(found.values())


def _key(obj: KubeObject) -> ObjectKey:
    return (kind(obj), "" if kind(obj) in CLUSTER_SCOPED_KINDS else namespace(obj), name(obj))


def _add(
    found: dict[tuple[str, str], RunningImage],
    image: str,
    digest: str,
    where: str,
    owner: ObjectKey,
) -> None:
    ref = parse_image(image)
    key = (ref.canonical_name, digest or f"tag:{ref.tag or 'latest'}")
    known = found.get(key) or RunningImage(image, digest)
    found[key] = RunningImage(
        known.image,
        known.digest,
        known.where if where in known.where else (*known.where, where),
        known.owners if owner in known.owners else (*known.owners, owner),
    )


# ---- judging ---------------------------------------------------------------------------------------


def match(image: RunningImage, report: ImageReport) -> str | None:
    """How ``report`` belongs to ``image``: ``"digest"``, ``"tag"`` (a digest is unknown on one
    side), or None (another image, or another build of the same tag)."""
    ref = image.ref
    if ref.canonical_name not in report.repositories:
        return None
    if image.digest and report.digests:
        return "digest" if image.digest in report.digests else None
    if (ref.canonical_name, ref.tag or "latest") in report.tags:
        return "tag"
    return None


@dataclass(frozen=True)
class IgnoreUse:
    """An ignore entry met for a vulnerability of an image: applied, or why not."""

    entry: VulnerabilityIgnore
    vulnerability: Vulnerability
    applied: bool
    why: str = ""


@dataclass(frozen=True)
class ImageVerdict:
    """One running image judged: its report (how it matched), the vulnerabilities that fail,
    those accepted or not failing, and the findings."""

    image: RunningImage
    report: ImageReport | None = None
    matched_by: str | None = None
    age_s: float | None = None
    failing: tuple[Vulnerability, ...] = ()
    exceptions: tuple[IgnoreUse, ...] = ()
    unfixed: tuple[Vulnerability, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        """Plain data for the evidence: the image, its report and what was judged."""
        out: dict[str, Any] = {"image": self.image.image, "digest": self.image.digest or None}
        if self.report is None:
            out["report"] = None
            return out
        counts: dict[str, int] = {}
        for vuln in self.report.vulnerabilities:
            counts[vuln.severity.value] = counts.get(vuln.severity.value, 0) + 1
        out.update(
            report=self.report.source,
            matched_by=self.matched_by,
            scanned=f"{_age(self.age_s)} ago" if self.age_s is not None else "unknown",
            vulnerabilities=counts,
            failing=[v.id for v in self.failing],
        )
        if self.exceptions:
            out["ignore entries"] = [
                f"{e.vulnerability.id}: {'applied' if e.applied else 'NOT applied'} "
                f"({e.why or e.entry.reason})"
                for e in self.exceptions
            ]
        if self.unfixed:
            out["not failing (no fix yet, ignore_unfixed)"] = [v.id for v in self.unfixed]
        return out


def judge_images(
    images: Sequence[RunningImage],
    scans: ImageScans,
    expect: VulnerabilityScan,
    *,
    waiver_max_days: int,
    now: float | None = None,
) -> list[ImageVerdict]:
    """Each image against its newest matching report (see the module docstring)."""
    now = scans.taken_at if now is None else now
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    max_age = parse_duration(expect.max_report_age)
    return [_judge(image, scans, expect, today, now, max_age, waiver_max_days) for image in images]


def vulnerability_findings(verdicts: Iterable[ImageVerdict]) -> list[Finding]:
    return [f for verdict in verdicts for f in verdict.findings]


def _judge(
    image: RunningImage,
    scans: ImageScans,
    expect: VulnerabilityScan,
    today: dt.date,
    now: float,
    max_age: float,
    waiver_max_days: int,
) -> ImageVerdict:
    about = f"Image {image.shown}"
    runs = _where(image)
    matched = [(r, how) for r in scans.reports for how in (match(image, r),) if how]
    if not matched:
        return ImageVerdict(image, findings=(_missing(image, scans, about, runs),))
    report, how = max(matched, key=lambda pair: pair[0].created or float("-inf"))
    age = None if report.created is None else max(0.0, now - report.created)
    findings: list[Finding] = []
    if age is None:
        findings.append(
            rules.IMAGE_SCAN_STALE(
                about,
                f"the report ({report.source}) carries no scan time, so its age cannot be "
                f"judged against max_report_age {format_duration(max_age)}; {runs}; keep the "
                "scan time in the report (Trivy JSON CreatedAt, SARIF invocations[].endTimeUtc)",
            )
        )
    elif age > max_age:
        findings.append(
            rules.IMAGE_SCAN_STALE(
                about,
                f"the newest report ({report.source}) was made {_age(age)} ago, more "
                f"than max_report_age {format_duration(max_age)}; {runs}; scan the image again",
            )
        )
    threshold = expect.severity
    failing: list[Vulnerability] = []
    exceptions: list[IgnoreUse] = []
    unfixed: list[Vulnerability] = []
    for vuln in _unique(report.vulnerabilities):
        if vuln.severity.rank < threshold.rank:
            continue
        entry = _entry_for(vuln, image, expect.ignore)
        if entry is not None:
            why = _not_in_force(entry, today, waiver_max_days)
            exceptions.append(IgnoreUse(entry, vuln, applied=why is None, why=why or ""))
            if why is None:
                continue
        if expect.ignore_unfixed and not vuln.fixed:
            unfixed.append(vuln)
            continue
        failing.append(vuln)
    if failing:
        findings.append(_vulnerable(about, failing, exceptions, report, age, threshold, runs))
    return ImageVerdict(
        image,
        report,
        how,
        age,
        tuple(failing),
        tuple(exceptions),
        tuple(unfixed),
        tuple(findings),
    )


def _vulnerable(
    about: str,
    failing: list[Vulnerability],
    exceptions: list[IgnoreUse],
    report: ImageReport,
    age: float | None,
    threshold: VulnSeverity,
    runs: str,
) -> Finding:
    ordered = sorted(failing, key=lambda v: (-v.severity.rank, v.id))
    named = ", ".join(v.describe() for v in ordered[:LISTED])
    more = f" and {len(ordered) - LISTED} more" if len(ordered) > LISTED else ""
    refused = [e for e in exceptions if not e.applied and e.vulnerability in failing]
    not_applied = "".join(
        f"; the ignore entry for {e.vulnerability.id} is not applied: {e.why}" for e in refused
    )
    when = f", scanned {_age(age)} ago" if age is not None else ""
    worst = ordered[0].severity
    return rules.IMAGE_VULNERABLE(
        about,
        f"{len(ordered)} vulnerabilit{'y' if len(ordered) == 1 else 'ies'} at or above "
        f"{threshold.value}: {named}{more}{not_applied}; report {report.source}{when}; {runs}; "
        "upgrade the affected packages (or the base image) and rebuild, or accept one with an "
        "ignore entry (reason, approver, expiry)",
        _SEVERITY[worst],
    )


def _missing(image: RunningImage, scans: ImageScans, about: str, runs: str) -> Finding:
    ref = image.ref
    same_tag = [
        r
        for r in scans.reports
        if ref.canonical_name in r.repositories
        and (ref.canonical_name, ref.tag or "latest") in r.tags
    ]
    if image.digest and same_tag:
        others = sorted({_short(d) for r in same_tag for d in r.digests})
        detail = (
            f"the reports of {ref.canonical_name}:{ref.tag or 'latest'} are of another build "
            f"({', '.join(others) or 'no digest'}), not the running digest {_short(image.digest)}"
        )
    else:
        key = f"digest {_short(image.digest)}" if image.digest else "repository and tag"
        detail = f"no report matches it (by {key})"
    read = "; ".join(scans.sources) or "none"
    notes = "".join(f"; {n}" for n in scans.notes)
    return rules.IMAGE_SCAN_MISSING(
        about,
        f"not scanned: {detail}; {runs}; reports read: {read}{notes}; scan it (Trivy Operator "
        "scans running workloads; or trivy image --format json into a file listed in "
        "[kubernetes.expect.vulnerabilities] reports)",
    )


def _unique(vulns: Iterable[Vulnerability]) -> list[Vulnerability]:
    """One entry per (id, package): a report lists a vulnerability once per target."""
    seen: dict[tuple[str, str], Vulnerability] = {}
    for vuln in vulns:
        seen.setdefault((vuln.id, vuln.package), vuln)
    return list(seen.values())


def _entry_for(
    vuln: Vulnerability, image: RunningImage, entries: Sequence[VulnerabilityIgnore]
) -> VulnerabilityIgnore | None:
    ref = image.ref
    names = {ref.canonical_name, f"{ref.registry}/{ref.repository}".lstrip("/")}
    for entry in entries:
        if entry.id.strip().upper() != vuln.id.strip().upper():
            continue
        if entry.images and not any(
            fnmatch.fnmatchcase(n, pattern) for pattern in entry.images for n in names
        ):
            continue
        return entry
    return None


def _not_in_force(entry: VulnerabilityIgnore, today: dt.date, waiver_max_days: int) -> str | None:
    """Why an ignore entry is not applied today (None: it is)."""
    who = f"approver {entry.approver}" + (f", ticket {entry.ticket}" if entry.ticket else "")
    if entry.expires < today:
        return f"it expired on {entry.expires.isoformat()} ({who})"
    limit = today + dt.timedelta(days=waiver_max_days)
    if entry.expires > limit:
        return (
            f"it expires on {entry.expires.isoformat()}, more than {waiver_max_days} days ahead "
            f"([policy] waiver_max_days; {who})"
        )
    return None


def _where(image: RunningImage) -> str:
    shown = ", ".join(image.where[:3])
    more = f" and {len(image.where) - 3} more" if len(image.where) > 3 else ""
    return f"runs in {shown}{more}" if image.where else "runs in no pod read"


def _age(seconds: float) -> str:
    """``9d2h`` or ``6h4m``: an age to the minute (to the second under a minute)."""
    return format_duration(seconds if seconds < 60 else round(seconds / 60) * 60)


def _short(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if value else digest


__all__ = [
    "OPERATOR_GROUP",
    "OPERATOR_KIND",
    "ImageReport",
    "ImageScans",
    "ImageVerdict",
    "RunningImage",
    "Vulnerability",
    "judge_images",
    "match",
    "operator_reports",
    "reports_from_document",
    "running_images",
    "sarif_reports",
    "template_images",
    "trivy_report",
    "vulnerability_findings",
]
