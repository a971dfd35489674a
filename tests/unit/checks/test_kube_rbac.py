"""RBAC: namespace, the workload's service account privileges, the verifier's own access."""

from __future__ import annotations

import pytest

from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.kube.rbac import (
    namespace_findings,
    service_account_findings,
    service_account_of,
    verifier_access_findings,
)

from .test_kube_builders import (
    APP,
    NS,
    Obj,
    deployment,
    ids,
    namespace_obj,
    read_only_rules_review,
    role_and_binding,
)


def test_namespace_present_and_active() -> None:
    assert namespace_findings([namespace_obj("default"), namespace_obj()], NS) == []


@pytest.mark.parametrize(
    ("namespaces", "fragment"),
    [
        ([namespace_obj("default")], "does not exist"),
        ([namespace_obj(NS, "Terminating")], "Terminating"),
    ],
)
def test_namespace_missing_or_terminating(namespaces: list[Obj], fragment: str) -> None:
    found = namespace_findings(namespaces, NS)
    assert ids(found) == {"namespace-missing"}
    assert fragment in found[0].message
    assert found[0].subject == f"Namespace {NS}"


def _cluster_binding(role: str, subject: Obj) -> Obj:
    return {
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{role}-binding"},
        "roleRef": {"kind": "ClusterRole", "name": role},
        "subjects": [subject],
    }


SA_SUBJECT = {"kind": "ServiceAccount", "name": APP, "namespace": NS}


def test_least_privilege_service_account_passes() -> None:
    role, binding = role_and_binding()
    unrelated = _cluster_binding("cluster-admin", {"kind": "User", "name": "alice"})
    found = service_account_findings(
        deployment(), role_bindings=[binding], cluster_role_bindings=[unrelated], roles=[role]
    )
    assert found == [], summarize(found)


@pytest.mark.parametrize(
    "subject",
    [
        SA_SUBJECT,
        {"kind": "Group", "name": "system:serviceaccounts"},
        {"kind": "Group", "name": f"system:serviceaccounts:{NS}"},
        {"kind": "Group", "name": "system:authenticated"},
        {"kind": "User", "name": f"system:serviceaccount:{NS}:{APP}"},
    ],
)
def test_cluster_admin_binding(subject: Obj) -> None:
    binding = _cluster_binding("cluster-admin", subject)
    found = service_account_findings(deployment(), cluster_role_bindings=[binding])
    assert ids(found) == {"service-account-cluster-admin"}
    assert found[0].subject == f"ServiceAccount {NS}/{APP}"
    assert "cluster-admin-binding" in found[0].message


def test_rolebinding_to_cluster_admin_in_namespace() -> None:
    _, binding = role_and_binding()
    binding["roleRef"] = {"kind": "ClusterRole", "name": "cluster-admin"}
    found = service_account_findings(deployment(), role_bindings=[binding])
    assert ids(found) == {"service-account-cluster-admin"}


def test_binding_of_another_service_account_or_namespace_is_ignored() -> None:
    other_sa = _cluster_binding("cluster-admin", {**SA_SUBJECT, "name": "other"})
    other_ns = _cluster_binding("cluster-admin", {**SA_SUBJECT, "namespace": "staging"})
    _, rb = role_and_binding()
    rb["metadata"]["namespace"] = "staging"
    rb["roleRef"] = {"kind": "ClusterRole", "name": "cluster-admin"}
    found = service_account_findings(
        deployment(), role_bindings=[rb], cluster_role_bindings=[other_sa, other_ns]
    )
    assert found == []


@pytest.mark.parametrize("field", ["verbs", "resources", "apiGroups"])
def test_wildcard_role(field: str) -> None:
    role, binding = role_and_binding()
    role["rules"][0][field] = ["*"]
    found = service_account_findings(deployment(), role_bindings=[binding], roles=[role])
    assert ids(found) == {"service-account-wildcard-role"}
    assert f"{field} '*'" in found[0].message
    assert "gateway-reader" in found[0].message


def test_wildcard_cluster_role_through_cluster_binding() -> None:
    cluster_role = {
        "kind": "ClusterRole",
        "metadata": {"name": "everything"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    }
    binding = _cluster_binding("everything", SA_SUBJECT)
    found = service_account_findings(
        deployment(), cluster_role_bindings=[binding], cluster_roles=[cluster_role]
    )
    assert ids(found) == {"service-account-wildcard-role"}


def test_service_account_defaults() -> None:
    dep = deployment()
    del dep["spec"]["template"]["spec"]["serviceAccountName"]
    assert service_account_of(dep) == "default"
    dep["spec"]["template"]["spec"]["serviceAccount"] = "legacy"
    assert service_account_of(dep) == "legacy"


def test_read_only_verifier_passes() -> None:
    assert verifier_access_findings(read_only_rules_review()) == []


def test_verifier_allowed_to_mutate() -> None:
    review = read_only_rules_review()
    review["status"]["resourceRules"].append(
        {"verbs": ["get", "patch", "delete"], "apiGroups": ["apps"], "resources": ["deployments"]}
    )
    found = verifier_access_findings(review, who="ci-verifier")
    assert ids(found) == {"verifier-can-mutate"}
    assert "delete, patch" in found[0].message
    assert "deployments" in found[0].message
    assert found[0].subject == "Verifier ci-verifier"


def _access_review(verb: str, resource: str, allowed: bool) -> Obj:
    return {
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "namespace": NS}},
        "status": {"allowed": allowed},
    }


def test_access_reviews() -> None:
    reviews = [
        _access_review("get", "pods", True),
        _access_review("delete", "pods", False),
        _access_review("create", "selfsubjectaccessreviews", True),
    ]
    assert verifier_access_findings(None, reviews) == []
    reviews.append(_access_review("delete", "pods", True))
    found = verifier_access_findings(None, reviews)
    assert ids(found) == {"verifier-can-mutate"}
    assert "delete pods in production" in found[0].message


def test_incomplete_rules_review_is_not_a_pass() -> None:
    review = read_only_rules_review()
    review["status"]["incomplete"] = True
    review["status"]["evaluationError"] = "webhook authorizer does not support rules"
    found = verifier_access_findings(review)
    assert ids(found) == {"verifier-access-unknown"}
    assert "webhook" in found[0].message
    assert verifier_access_findings(review, [_access_review("delete", "pods", False)]) == []
