"""``predeploy_findings`` (the library call) and ``deployverify scan`` find the same problems on
the same objects: for the healthy release and every case that needs no profile keys, the same
(rule, subject) pairs. ``predeploy_findings`` treats every Deployment, StatefulSet and DaemonSet
as a listed workload, so the scan's profile lists them all; schema findings are asked of
``predeploy_findings`` separately (its ``schema`` argument), so they are left out here."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pytest_deployverify.checks.kube.predeploy import APP_KINDS, predeploy_findings
from tests.scan.cases import CASES, Case, Objects, failing, release
from tests.scan.helpers import scan

PROFILE_FREE = [
    c
    for c in CASES
    if not (c.table or c.expect) and not all(r.startswith("manifest-") for r in c.rules)
]


def scanned_pairs(folder: Path, objects: Objects, case: Case) -> set[tuple[str, str]]:
    listed = [f"{o['kind']}/{o['metadata']['name']}" for o in objects if o["kind"] in APP_KINDS]
    table = "workloads = [" + ", ".join(f'"{w}"' for w in listed) + "]\n"
    _, report = scan(folder, objects, dataclasses.replace(case, table=table), "--fail-on", "none")
    return {
        (f["check_id"], f["subject"])
        for item in report["items"]
        for f in item["findings"]
        if not f["check_id"].startswith("manifest-")
    }


def predeploy_pairs(objects: Objects) -> set[tuple[str, str]]:
    return {(f.check_id, f.subject) for f in predeploy_findings(objects)}


def test_the_healthy_release_is_clean_both_ways(tmp_path: Path) -> None:
    objects = release()
    assert scanned_pairs(tmp_path, objects, CASES[0]) == set() == predeploy_pairs(objects)


@pytest.mark.parametrize("case", PROFILE_FREE, ids=lambda c: c.id)
def test_library_call_and_scan_agree_on_each_defect(tmp_path: Path, case: Case) -> None:
    objects = failing(case)
    found = predeploy_pairs(objects)
    assert found, f"{case.id}: predeploy_findings found nothing"
    assert scanned_pairs(tmp_path, objects, case) == found


def test_most_cases_need_no_profile_keys() -> None:
    # The agreement above must cover the bulk of the corpus, not a handful of cases.
    assert len(PROFILE_FREE) >= 50
