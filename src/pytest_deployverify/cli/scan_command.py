"""``deployverify scan PATH|-``: the pre-deploy Kubernetes checklist for pipelines, without pytest.

Reads rendered manifests (a file, a folder of ``*.yaml``/``*.yml``/``*.json``, or ``-`` for
standard input, e.g. ``helm template my-release chart/ | deployverify scan -``), judges every
object with the same items as ``pytest --manifests`` (``KubeChecklist.run_all``: the same ids,
scopes and messages, the same exemptions) and writes text, JSON or SARIF 2.1.0 (GitHub code
scanning: rule ids, levels, file and line of each object). The exit code follows a severity
threshold on the failed items, like the sign-off's verdict: ``--fail-on high`` exits 1 when an
item of severity high or critical fails or cannot be judged.

A profile is optional: ``--env NAME`` (and ``--env-dir``) brings its ``[kubernetes]`` table
(workloads, expectations, exemptions); without one, every object is judged against the
defaults (Polaris's baseline). pytest is never imported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deployverify import __version__
from pytest_deployverify.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, PROG, CommandError

if TYPE_CHECKING:
    from pytest_deployverify.checks.kube.snapshots import KubeObjects
    from pytest_deployverify.components.kubernetes.checklist_items import ItemResult
    from pytest_deployverify.components.kubernetes.runner import KubeChecklist
    from pytest_deployverify.profile.model import Profile

FORMATS = ("text", "json", "sarif")
THRESHOLDS = ("critical", "high", "medium", "low", "info", "none")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "scan",
        help="judge rendered Kubernetes manifests before they are applied",
        description="Judge every object of rendered manifests (PATH: a file or folder, or - "
        "for standard input) with the pre-deploy Kubernetes checklist, as pytest --manifests "
        "does, and exit by a severity threshold.",
    )
    parser.add_argument("path", help="a manifest file, a folder of them, or - for stdin")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="text (default), json or sarif"
    )
    parser.add_argument("--output", "-o", help="write the report to this file (default: stdout)")
    parser.add_argument(
        "--fail-on",
        choices=THRESHOLDS,
        default="high",
        help="exit 1 when an item of this severity or worse fails or cannot be judged "
        "(default: high; none: always 0)",
    )
    parser.add_argument(
        "--env",
        help="profile whose [kubernetes] table applies (workloads, expectations, exemptions)",
    )
    parser.add_argument("--env-dir", help="folder of the profiles (as pytest --env-dir)")
    parser.add_argument(
        "--namespace",
        help="namespace of objects without one (default: the profile's, else 'default')",
    )
    parser.add_argument(
        "--kubernetes-version",
        help="Kubernetes version to validate against (default: the profile's "
        "schema_version, else the newest the installed schemas cover)",
    )
    parser.add_argument(
        "--source-name",
        default="stdin",
        help="the file name reports use for standard input (default: stdin)",
    )
    parser.set_defaults(handler=run)


# ---- the run --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    profile = _profile(args)
    checklist = _checklist(args, profile)
    results = checklist.run_all(spec_only=True)
    report = build_report(checklist, results, args.fail_on)
    text = render(report, args.format)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"scan: cannot write {args.output}: {exc}", EXIT_USAGE) from None
    else:
        sys.stdout.write(text)
    return EXIT_FAILED if report["summary"]["blocking"] else EXIT_OK


def _profile(args: argparse.Namespace) -> Profile:
    from pytest_deployverify.components.catalog import (
        ComponentLoadError,
        all_components,
        profile_from_dict,
        profile_sections,
    )
    from pytest_deployverify.profile.loader import ProfileError, load_profile
    from pytest_deployverify.profile.schema import SchemaError
    from pytest_deployverify.profile.settings import SettingError, env_dir

    if args.env and (args.namespace or args.kubernetes_version):
        raise CommandError(
            "scan: with --env, the namespace and schema_version come from the profile's "
            "[kubernetes] table; drop --namespace/--kubernetes-version",
            EXIT_USAGE,
        )
    if not args.env:
        table: dict[str, Any] = {"namespace": args.namespace or "default"}
        if args.kubernetes_version:
            table["expect"] = {"schema_version": args.kubernetes_version}
        try:
            return profile_from_dict({"name": "scan", "kubernetes": table})
        except SchemaError as exc:
            raise CommandError(f"scan: {exc}", EXIT_USAGE) from None
    cwd = Path.cwd()
    try:
        folder, _ = env_dir(args.env_dir, os.environ, cwd)
        components = all_components()
        loaded = load_profile(
            args.env, folder, os.environ, display_root=cwd, sections=profile_sections(components)
        )
    except (SettingError, ComponentLoadError) as exc:
        raise CommandError(f"scan: {exc}", EXIT_USAGE) from None
    except ProfileError as exc:
        raise CommandError(f"scan: {exc}", EXIT_USAGE) from None
    profile = loaded.profile
    if profile.component("kubernetes") is None:
        raise CommandError(
            f"scan: profile {args.env!r} has no [kubernetes] table; add one or scan without --env",
            EXIT_USAGE,
        )
    return profile


def _checklist(args: argparse.Namespace, profile: Profile) -> KubeChecklist:
    from pytest_deployverify.checks.kube.snapshots import KubeObjects
    from pytest_deployverify.components.kubernetes.manifests import (
        ManifestError,
        load_manifests,
        load_text,
    )
    from pytest_deployverify.components.kubernetes.runner import KubeChecklist, manifest_reads

    section = profile.component("kubernetes")
    assert section is not None
    try:
        if args.path == "-":
            where = f"manifests from {args.source_name}"
            manifests = load_text(
                sys.stdin.read(), args.source_name, default_namespace=section.namespace
            )
        else:
            where = f"manifests {args.path}"
            manifests = load_manifests(args.path, default_namespace=section.namespace)
    except ImportError as exc:
        raise CommandError(
            f"scan: reading YAML needs PyYAML ({exc}): pip install "
            "'pytest-deployverify[kubernetes]'",
            EXIT_USAGE,
        ) from None
    except ManifestError as exc:
        raise CommandError(f"scan: {exc}", EXIT_USAGE) from None
    objects = KubeObjects.rendered(
        manifests, where=where, namespace=section.namespace, origins=manifests.locations
    )
    return KubeChecklist(objects, profile, read=manifest_reads(objects, section))


# ---- the report -----------------------------------------------------------------------------------


def _outcome(result: ItemResult) -> str:
    if result.error:
        return "error"
    if result.skipped:
        return "not-applicable" if result.skipped.startswith("not applicable: ") else "skipped"
    return "failed" if result.findings else "passed"


def _rank(severity: str) -> int:
    return THRESHOLDS.index(severity) if severity in THRESHOLDS else len(THRESHOLDS)


def item_label(result: ItemResult, listed: Sequence[str]) -> str:
    """``K8S-RESOURCES[api-gateway]``: the id the sign-off uses for the item and its scope."""
    from pytest_deployverify.checks.kube.scan import scope_id

    if result.scope is None:
        return result.item.item_id
    return f"{result.item.item_id}[{scope_id(result.scope, listed)}]"


def _location(objects: KubeObjects, key: tuple[str, str, str]) -> dict[str, Any] | None:
    origin = objects.origins.get(key)
    if origin is None and key[1] == "":
        origin = next(
            (v for k, v in objects.origins.items() if (k[0], k[2]) == (key[0], key[2])), None
        )
    if origin is None:
        return None
    return {"file": origin[0], "line": origin[1]}


def build_report(
    checklist: KubeChecklist, results: list[ItemResult], fail_on: str
) -> dict[str, Any]:
    """The scan as plain data: what was read, every item's outcome with its findings (each
    with the object's file and line), the exemptions, and whether the threshold was crossed."""
    from pytest_deployverify.checks.kube.scan import inventory

    objects = checklist.objects
    listed = checklist.workloads
    items: list[dict[str, Any]] = []
    for result in results:
        findings = []
        for located in result.located:
            finding = located.finding
            findings.append(
                {
                    "check_id": finding.check_id,
                    "severity": finding.severity.value,
                    "subject": finding.subject,
                    "message": finding.message,
                    "text": str(finding),
                    "location": _location(objects, located.about),
                }
            )
        entry: dict[str, Any] = {
            "id": item_label(result, listed),
            "check_id": result.item.item_id,
            "scope": result.scope,
            "title": result.item.title,
            "section": result.item.section,
            "severity": result.item.severity.value,
            "outcome": _outcome(result),
            "findings": findings,
            "exempted": [e.plain() for e in result.exempted],
        }
        if result.error:
            entry["reason"] = result.error
        elif result.skipped:
            entry["reason"] = result.skipped
        items.append(entry)
    threshold = _rank(fail_on)
    blocking = [
        i["id"]
        for i in items
        if i["outcome"] in ("failed", "error")
        and fail_on != "none"
        and _rank(i["severity"]) <= threshold
    ]
    counts: dict[str, int] = {}
    for entry in items:
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    from pytest_deployverify.checks.kube.items import PLANS

    live_only = sorted(i for i, p in PLANS.items() if p.live_only)
    return {
        "tool": {"name": PROG, "version": __version__},
        "source": objects.where,
        "inventory": inventory(objects).plain(),
        "items": items,
        "live_only": live_only,
        "summary": {
            "items": len(items),
            **counts,
            "findings": sum(len(i["findings"]) for i in items),
            "exempted": sum(len(i["exempted"]) for i in items),
            "fail_on": fail_on,
            "blocking": blocking,
        },
    }


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(report), indent=2) + "\n"
    return to_text(report)


def to_text(report: dict[str, Any]) -> str:
    from pytest_deployverify.checks.kube.scan import Inventory

    inv = report["inventory"]
    lines = [f"{PROG} scan: {report['source']}"]
    inventory = Inventory(
        read=inv["read"],
        judged=inv["judged"],
        context=inv["context"],
        out_of_scope=inv["out_of_scope"],
        through_controller=inv["judged_through_their_controller"],
        unreadable=inv["unreadable"],
    )
    lines += [f"  {line}" for line in inventory.lines()]
    lines.append("")
    for item in report["items"]:
        if item["outcome"] not in ("failed", "error"):
            continue
        mark = "FAIL" if item["outcome"] == "failed" else "ERROR"
        lines.append(f"{mark} {item['id']} ({item['severity']}) {item['title']}")
        if item["outcome"] == "error":
            lines.append(f"    {item['reason']}")
        for finding in item["findings"]:
            where = finding["location"]
            at = f" ({where['file']}:{where['line']})" if where else ""
            lines.append(f"    {finding['text']}{at}")
    exempted = [(i["id"], e) for i in report["items"] for e in i["exempted"]]
    if exempted:
        lines.append("")
        lines.append("Exempted (not counted):")
        for item_id, entry in exempted:
            lines.append(
                f"    {item_id} [{entry['check_id']}] {entry['subject']}: {entry['reason']} "
                f"({entry['by']})"
            )
    summary = report["summary"]
    lines.append("")
    counted = ", ".join(
        f"{summary[k]} {k}"
        for k in ("passed", "failed", "error", "not-applicable", "skipped")
        if summary.get(k)
    )
    lines.append(f"{summary['items']} items: {counted}")
    lines.append(f"live-only items not judged before a deploy: {', '.join(report['live_only'])}")
    if summary["blocking"]:
        lines.append(f"FAILED (--fail-on {summary['fail_on']}): {', '.join(summary['blocking'])}")
    else:
        lines.append(f"OK (--fail-on {summary['fail_on']})")
    return "\n".join(lines) + "\n"


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per finding id (with the item it belongs to), one result per
    finding with the file and line of the object; exempted findings are results with a
    suppression and its justification."""
    from pytest_deployverify.checks.kube.rules import BY_ID, EQUIVALENTS

    rule_ids: list[str] = []
    results: list[dict[str, Any]] = []

    def add(
        item: dict[str, Any], finding: dict[str, Any], suppression: dict[str, Any] | None
    ) -> None:
        if finding["check_id"] not in rule_ids:
            rule_ids.append(finding["check_id"])
        result: dict[str, Any] = {
            "ruleId": finding["check_id"],
            "ruleIndex": rule_ids.index(finding["check_id"]),
            "level": _LEVELS.get(finding["severity"], "warning"),
            "message": {"text": f"{finding['subject']}: {finding['message']}"},
            "properties": {
                "item": item["id"],
                "itemSeverity": item["severity"],
                "severity": finding["severity"],
            },
        }
        where = finding.get("location")
        if where:
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(where["file"])},
                        "region": {"startLine": where["line"]},
                    },
                    "logicalLocations": [{"name": finding["subject"], "kind": "object"}],
                }
            ]
        if suppression:
            result["suppressions"] = [suppression]
        results.append(result)

    for item in report["items"]:
        for finding in item["findings"]:
            add(item, finding, None)
        for entry in item["exempted"]:
            finding = {
                "check_id": entry["check_id"],
                "severity": BY_ID[entry["check_id"]].severity.value
                if entry["check_id"] in BY_ID
                else item["severity"],
                "subject": entry["subject"],
                "message": f"exempted: {entry['reason']}",
                "location": None,
            }
            kind = "inSource" if entry["by"].startswith("annotation") else "external"
            add(
                item, finding, {"kind": kind, "justification": f"{entry['reason']} ({entry['by']})"}
            )
    rules = []
    for rule_id in rule_ids:
        rule = BY_ID.get(rule_id)
        description = rule.title if rule is not None else rule_id
        severity = rule.severity.value if rule is not None else "medium"
        properties: dict[str, Any] = {"tags": ["kubernetes", "security"], "severity": severity}
        if rule_id in EQUIVALENTS:
            properties["equivalent"] = EQUIVALENTS[rule_id]
        rules.append(
            {
                "id": rule_id,
                "name": rule_id,
                "shortDescription": {"text": description},
                "fullDescription": {"text": description},
                "defaultConfiguration": {"level": _LEVELS.get(severity, "warning")},
                "properties": properties,
            }
        )
    errors = [i for i in report["items"] if i["outcome"] == "error"]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": PROG,
                        "version": report["tool"]["version"],
                        "rules": rules,
                    }
                },
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": not errors,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": f"{i['id']}: {i['reason']}"}}
                            for i in errors
                        ],
                    }
                ],
                "properties": {"inventory": report["inventory"], "summary": report["summary"]},
            }
        ],
    }


def _uri(file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_uri()
    return path.as_posix()
