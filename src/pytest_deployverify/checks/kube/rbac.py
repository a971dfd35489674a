"""RBAC: the namespace exists, the workload's service account is not over-privileged, and the
verifier itself can only read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube.catalog import check
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    dig,
    kind,
    mapping,
    name,
    namespace,
    pod_spec,
    sequence,
)

MUTATING_VERBS = frozenset(
    {
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
        "escalate",
        "bind",
        "impersonate",
        "*",
    }
)
# Every authenticated user may create these reviews (system:basic-user); asking is not mutating.
SELF_REVIEW_RESOURCES = frozenset(
    {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}
)


def namespace_findings(namespaces: Iterable[KubeObject], wanted: str) -> list[Finding]:
    """The namespace exists and is Active (not Terminating)."""
    for ns in namespaces:
        if name(ns) != wanted:
            continue
        phase = str(dig(ns, "status", "phase") or "Active")
        if phase == "Active":
            return []
        return [
            check("namespace-missing").finding(
                f"Namespace {wanted}",
                f"phase is {phase}: it is being deleted; wait for deletion to finish and "
                "re-create it, or deploy elsewhere",
            )
        ]
    return [
        check("namespace-missing").finding(
            f"Namespace {wanted}",
            f"namespace {wanted!r} does not exist; create it (kubectl apply -f namespace.yaml)",
        )
    ]


def service_account_of(workload: KubeObject) -> str:
    """The pod's service account (``serviceAccountName``, the deprecated alias, or default)."""
    spec = pod_spec(workload)
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


def binding_applies(binding: KubeObject, sa_namespace: str, sa_name: str) -> bool:
    """Does a (Cluster)RoleBinding grant to this service account, directly or via a group?"""
    binding_ns = namespace(binding)
    if kind(binding) == "RoleBinding" and binding_ns and binding_ns != sa_namespace:
        return False
    groups = {"system:serviceaccounts", f"system:serviceaccounts:{sa_namespace}"}
    groups.add("system:authenticated")
    for subj in sequence(dig(binding, "subjects")):
        subj = mapping(subj)
        subj_kind, subj_name = subj.get("kind"), str(subj.get("name") or "")
        if subj_kind == "ServiceAccount":
            subj_ns = str(subj.get("namespace") or binding_ns)
            if subj_name == sa_name and subj_ns == sa_namespace:
                return True
        elif (subj_kind == "Group" and subj_name in groups) or (
            subj_kind == "User" and subj_name == f"system:serviceaccount:{sa_namespace}:{sa_name}"
        ):
            return True
    return False


def service_account_findings(
    workload: KubeObject,
    *,
    role_bindings: Iterable[KubeObject] = (),
    cluster_role_bindings: Iterable[KubeObject] = (),
    roles: Iterable[KubeObject] = (),
    cluster_roles: Iterable[KubeObject] = (),
) -> list[Finding]:
    """The workload's service account is bound neither to cluster-admin nor to a wildcard role.

    Roles referenced but not given are judged by name only (cluster-admin).
    """
    sa_ns, sa_name = namespace(workload), service_account_of(workload)
    role_index = {(namespace(r), name(r)): r for r in roles}
    cluster_index = {name(r): r for r in cluster_roles}
    where = f"ServiceAccount {sa_ns}/{sa_name}"
    found: list[Finding] = []
    bindings = [_as(b, "RoleBinding") for b in role_bindings]
    bindings += [_as(b, "ClusterRoleBinding") for b in cluster_role_bindings]
    for binding in bindings:
        if not binding_applies(binding, sa_ns, sa_name):
            continue
        ref = mapping(binding.get("roleRef"))
        ref_kind, ref_name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        via = f"{kind(binding)} {name(binding)}"
        if ref_kind == "ClusterRole" and ref_name == "cluster-admin":
            found.append(
                check("service-account-cluster-admin").finding(
                    where,
                    f"bound to cluster-admin through {via}: the workload can do anything in "
                    "the cluster; bind a Role with only the verbs and resources it needs",
                )
            )
            continue
        role = (
            cluster_index.get(ref_name)
            if ref_kind == "ClusterRole"
            else role_index.get((namespace(binding), ref_name))
        )
        wildcards = _wildcard_rules(mapping(role)) if role is not None else []
        if wildcards:
            found.append(
                check("service-account-wildcard-role").finding(
                    where,
                    f"{ref_kind} {ref_name} (bound through {via}) grants wildcards: "
                    f"{'; '.join(wildcards)}; list the exact verbs, resources and apiGroups",
                )
            )
    return found


def verifier_access_findings(
    rules_review: KubeObject | None = None,
    access_reviews: Iterable[KubeObject] = (),
    *,
    who: str = "verifier",
) -> list[Finding]:
    """The verifier's own credentials allow no mutating verb.

    ``rules_review`` is a SelfSubjectRulesReview (its ``status.resourceRules``);
    ``access_reviews`` are answered SelfSubjectAccessReviews. Creating self-reviews is exempt:
    every authenticated user may. An incomplete rules review without access reviews to back it
    is reported as unknown, not as a pass.
    """
    where = f"Verifier {who}"
    found: list[Finding] = []
    for rule in sequence(dig(rules_review, "status", "resourceRules")):
        rule = mapping(rule)
        verbs = {str(v) for v in sequence(rule.get("verbs"))} & MUTATING_VERBS
        resources = {str(r) for r in sequence(rule.get("resources"))}
        if not verbs or (resources and resources <= SELF_REVIEW_RESOURCES):
            continue
        found.append(
            check("verifier-can-mutate").finding(
                where,
                f"may {', '.join(sorted(verbs))} on {', '.join(sorted(resources)) or '?'} "
                f"(apiGroups {_groups(rule)}); bind the verifier to a read-only role (get, list, "
                "watch) only",
            )
        )
    reviews = list(access_reviews)
    for review in reviews:
        attrs = mapping(dig(review, "spec", "resourceAttributes"))
        verb = str(attrs.get("verb") or "")
        if dig(review, "status", "allowed") is True and verb in MUTATING_VERBS:
            if str(attrs.get("resource") or "") in SELF_REVIEW_RESOURCES:
                continue
            target = "/".join(
                str(attrs.get(k)) for k in ("group", "resource", "subresource") if attrs.get(k)
            )
            ns = attrs.get("namespace") or "all namespaces"
            found.append(
                check("verifier-can-mutate").finding(
                    where,
                    f"SelfSubjectAccessReview allows {verb} {target} in {ns}; bind the "
                    "verifier to a read-only role",
                )
            )
    if dig(rules_review, "status", "incomplete") is True and not reviews:
        found.append(
            check("verifier-access-unknown").finding(
                where,
                "the SelfSubjectRulesReview is incomplete (an authorizer cannot list rules: "
                f"{dig(rules_review, 'status', 'evaluationError') or 'no detail'}); ask "
                "SelfSubjectAccessReviews for the mutating verbs instead",
            )
        )
    return found


def _wildcard_rules(role: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for rule in sequence(role.get("rules")):
        rule = mapping(rule)
        fields = [f for f in ("verbs", "resources", "apiGroups") if "*" in sequence(rule.get(f))]
        if fields:
            problems.append(f"{'/'.join(fields)} '*' in rule {_describe_rule(rule)}")
    return problems


def _describe_rule(rule: Mapping[str, Any]) -> str:
    verbs = ",".join(str(v) for v in sequence(rule.get("verbs")))
    resources = ",".join(str(r) for r in sequence(rule.get("resources")))
    return f"[{verbs}] on [{resources}] in {_groups(rule)}"


def _groups(rule: Mapping[str, Any]) -> str:
    groups = [str(g) or "core" for g in sequence(rule.get("apiGroups"))]
    return "[" + ",".join(groups) + "]"


def _as(binding: KubeObject, default_kind: str) -> KubeObject:
    return binding if kind(binding) else {**binding, "kind": default_kind}
