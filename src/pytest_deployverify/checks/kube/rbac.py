"""RBAC: the namespace exists, the workload's service account is not over-privileged, and the
verifier itself can only read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    dig,
    kind,
    mapping,
    name,
    namespace,
    pod_spec,
    sequence,
    subject,
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
            rules.NAMESPACE(
                f"Namespace {wanted}",
                f"phase is {phase}: it is being deleted; wait for deletion to finish and "
                "re-create it, or deploy elsewhere",
            )
        ]
    return [
        rules.NAMESPACE(
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
                rules.SA_CLUSTER_ADMIN(
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
                rules.SA_WILDCARD(
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
            rules.VERIFIER_MUTATE(
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
                rules.VERIFIER_MUTATE(
                    where,
                    f"SelfSubjectAccessReview allows {verb} {target} in {ns}; bind the "
                    "verifier to a read-only role",
                )
            )
    if dig(rules_review, "status", "incomplete") is True and not reviews:
        found.append(
            rules.VERIFIER_UNKNOWN(
                where,
                "the SelfSubjectRulesReview is incomplete (an authorizer cannot list rules: "
                f"{dig(rules_review, 'status', 'evaluationError') or 'no detail'}); ask "
                "SelfSubjectAccessReviews for the mutating verbs instead",
            )
        )
    return found


# Objects Kubernetes itself creates and manages: never judged by the RBAC rules (as Polaris).
DEFAULT_ROLE_NAMES = frozenset({"cluster-admin", "gce:podsecuritypolicy:calico-sa"})
# Built-in ClusterRoles that are meant to allow exec (admin, edit) or only read (view).
BUILTIN_EXEC_ROLES = frozenset({"admin", "edit"})
EXEC_RESOURCES = frozenset({"*", "pods/exec", "pods/attach"})
# A ``get`` on pods/exec opens the exec web socket too.
EXEC_VERBS = frozenset({"*", "get", "create"})
BASIC_VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete"})


def is_default_rbac(obj: KubeObject) -> bool:
    """``system:*`` objects and the bootstrap ``cluster-admin`` binding/role."""
    nm = name(obj)
    return nm.startswith("system:") or nm in DEFAULT_ROLE_NAMES


def wildcard_admin_rules(role: Mapping[str, Any]) -> list[str]:
    """Rules granting everything: apiGroups and resources ``*`` with verbs ``*`` (or all seven
    basic verbs), as Polaris's cluster-admin checks define them."""
    found: list[str] = []
    for rule in sequence(role.get("rules")):
        rule = mapping(rule)
        groups = {str(g) for g in sequence(rule.get("apiGroups"))}
        resources = {str(r) for r in sequence(rule.get("resources"))}
        verbs = {str(v).lower() for v in sequence(rule.get("verbs"))}
        if "*" in groups and "*" in resources and ("*" in verbs or verbs >= BASIC_VERBS):
            found.append(_describe_rule(rule))
    return found


def exec_rules(role: Mapping[str, Any]) -> list[str]:
    """Rules that allow ``pods/exec`` or ``pods/attach`` (core or ``*`` group; resource ``*``,
    ``pods/exec`` or ``pods/attach``; verb ``*``, ``get`` or ``create``)."""
    found: list[str] = []
    for rule in sequence(role.get("rules")):
        rule = mapping(rule)
        groups = {str(g) for g in sequence(rule.get("apiGroups"))}
        resources = {str(r).lower() for r in sequence(rule.get("resources"))}
        verbs = {str(v).lower() for v in sequence(rule.get("verbs"))}
        if groups & {"", "*"} and resources & EXEC_RESOURCES and verbs & EXEC_VERBS:
            found.append(_describe_rule(rule))
    return found


def role_findings(role: KubeObject) -> list[Finding]:
    """A Role or ClusterRole does not allow ``pods/exec``/``pods/attach`` (Polaris
    rolePodExecAttach, clusterrolePodExecAttach; default and built-in admin/edit roles exempt)."""
    cluster = kind(role) == "ClusterRole"
    if is_default_rbac(role) or (cluster and name(role) in BUILTIN_EXEC_ROLES):
        return []
    hits = exec_rules(role)
    if not hits:
        return []
    rule = rules.CLUSTERROLE_EXEC if cluster else rules.ROLE_EXEC
    return [
        rule(
            subject(role, default_kind="Role"),
            f"allows pods/exec or pods/attach: {'; '.join(hits)}: whoever is bound to it can run "
            "commands in the pods and read their secrets; drop pods/exec and pods/attach (and "
            "wildcards) from the rules",
        )
    ]


def binding_findings(
    binding: KubeObject, *, roles: Iterable[KubeObject], cluster_roles: Iterable[KubeObject]
) -> list[Finding]:
    """A RoleBinding or ClusterRoleBinding, whatever its subjects: not to cluster-admin or a
    wildcard role, not to a role allowing pods/exec or pods/attach (Polaris's five binding
    checks). A role that is not among the objects read cannot be shown harmless: reported as
    such, like Polaris does ("or that does not exist"); the read-only built-in ``view`` and the
    default roles are exempt."""
    if is_default_rbac(binding):
        return []
    is_cluster = kind(binding) == "ClusterRoleBinding"
    ref = mapping(binding.get("roleRef"))
    ref_kind, ref_name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    where = subject(binding, default_kind="RoleBinding")
    subjects = _subjects(binding)
    if ref_kind == "ClusterRole":
        role = next((r for r in cluster_roles if name(r) == ref_name), None)
    else:
        role = next(
            (r for r in roles if name(r) == ref_name and namespace(r) == namespace(binding)), None
        )
    found: list[Finding] = []
    admin_rule = (
        rules.CRB_CLUSTER_ADMIN
        if is_cluster
        else rules.RB_CLUSTER_ADMIN_CLUSTERROLE
        if ref_kind == "ClusterRole"
        else rules.RB_CLUSTER_ADMIN_ROLE
    )
    exec_rule = (
        rules.CRB_EXEC
        if is_cluster
        else rules.RB_CLUSTERROLE_EXEC
        if ref_kind == "ClusterRole"
        else rules.RB_ROLE_EXEC
    )
    if ref_kind == "ClusterRole" and ref_name == "cluster-admin":
        found.append(
            admin_rule(
                where,
                f"binds {subjects} to cluster-admin: they can do anything "
                f"{'in the cluster' if is_cluster else 'in the namespace'}; bind a Role with "
                "only the verbs and resources needed",
            )
        )
        return found
    if ref_name.startswith("system:") or (ref_kind == "ClusterRole" and ref_name == "view"):
        return found
    if role is None:
        if ref_kind == "ClusterRole" and ref_name in BUILTIN_EXEC_ROLES:
            found.append(
                exec_rule(
                    where,
                    f"binds {subjects} to the built-in ClusterRole {ref_name}, which allows "
                    "pods/exec and pods/attach; bind a Role without them",
                )
            )
            return found
        found.append(
            exec_rule(
                where,
                f"binds {subjects} to {ref_kind} {ref_name}, which is not among the objects "
                "read, so it cannot be shown not to allow pods/exec or pods/attach; include the "
                "role, or exempt the binding with the reason",
            )
        )
        return found
    wild = wildcard_admin_rules(role)
    if wild:
        found.append(
            admin_rule(
                where,
                f"binds {subjects} to {ref_kind} {ref_name}, which grants everything: "
                f"{'; '.join(wild)}; list the exact verbs, resources and apiGroups",
            )
        )
    hits = exec_rules(role)
    if hits:
        found.append(
            exec_rule(
                where,
                f"binds {subjects} to {ref_kind} {ref_name}, which allows pods/exec or "
                f"pods/attach ({'; '.join(hits)}); bind a role without them",
            )
        )
    return found


def _subjects(binding: KubeObject) -> str:
    shown = []
    for subj in sequence(binding.get("subjects")):
        subj = mapping(subj)
        ns = f"{subj.get('namespace')}/" if subj.get("namespace") else ""
        shown.append(f"{subj.get('kind')} {ns}{subj.get('name')}")
    return ", ".join(shown) or "no subject"


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
