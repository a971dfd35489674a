"""Who the token's user is and what it may do: the emulator's stand-in for RBAC.

The policy is a list of allow rules (like an aggregated set of Role/ClusterRole rules) plus
explicit denials that tests add to make one (resource, namespace) forbidden. The same policy
decides request authorization (403) and answers SelfSubjectAccessReview / RulesReview, so what a
verifier proves about its permissions is what the server enforces.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.kube.resources import CRUD_VERBS, READ_VERBS, RESOURCES, resolve

DEFAULT_USER = "system:serviceaccount:ci:verifier"
DEFAULT_GROUPS: tuple[str, ...] = (
    "system:serviceaccounts",
    "system:serviceaccounts:ci",
    "system:authenticated",
)
# Non-resource URLs every authenticated user may GET (system:discovery / public-info-viewer).
_PUBLIC_URLS: tuple[str, ...] = (
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
)


@dataclass(frozen=True)
class Rule:
    """An allow rule. `"*"` matches anything; `namespaces=None` applies everywhere."""

    verbs: frozenset[str]
    api_groups: frozenset[str] = frozenset({"*"})
    resources: frozenset[str] = frozenset({"*"})
    namespaces: frozenset[str] | None = None

    def allows_resource(self, group: str, resource: str) -> bool:
        return ("*" in self.api_groups or group in self.api_groups) and (
            "*" in self.resources or resource in self.resources
        )

    def allows(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        if self.namespaces is not None and namespace not in self.namespaces:
            return False  # a namespaced grant never covers cluster-scope requests
        return ("*" in self.verbs or verb in self.verbs) and self.allows_resource(group, resource)


def rule(
    verbs: Iterable[str],
    resources: Iterable[str] = ("*",),
    api_groups: Iterable[str] = ("*",),
    namespaces: Iterable[str] | None = None,
) -> Rule:
    """Convenience constructor taking plain iterables."""
    return Rule(
        frozenset(verbs),
        frozenset(api_groups),
        frozenset(resources),
        None if namespaces is None else frozenset(namespaces),
    )


READ_ONLY: tuple[Rule, ...] = (rule(READ_VERBS),)
CLUSTER_ADMIN: tuple[Rule, ...] = (rule(("*",)),)


@dataclass(frozen=True)
class Denial:
    group: str
    resource: str
    namespace: str | None  # None: everywhere, including cluster-wide lists
    verbs: frozenset[str]

    def applies(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        return (
            verb in self.verbs
            and group == self.group
            and resource == self.resource
            and (self.namespace is None or self.namespace == namespace)
        )


@dataclass
class AccessPolicy:
    """The authenticated user's identity and permissions; safe to change while serving."""

    user: str = DEFAULT_USER
    groups: tuple[str, ...] = DEFAULT_GROUPS
    rules: tuple[Rule, ...] = READ_ONLY
    denials: list[Denial] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_rules(self, rules: Iterable[Rule]) -> None:
        with self._lock:
            self.rules = tuple(rules)

    def read_only(self) -> None:
        self.set_rules(READ_ONLY)

    def allow_all(self) -> None:
        """Behave like cluster-admin (still subject to denials)."""
        self.set_rules(CLUSTER_ADMIN)

    def forbid(
        self, kind: str, namespace: str | None = None, verbs: Iterable[str] = READ_VERBS
    ) -> None:
        """Make `kind` (kind/plural/short name, or a subresource such as ``pods/log``)
        forbidden in `namespace` (None: everywhere)."""
        base, _, sub = kind.partition("/")
        resource = resolve(base)
        plural = f"{resource.plural}/{sub}" if sub else resource.plural
        with self._lock:
            self.denials.append(Denial(resource.group, plural, namespace, frozenset(verbs)))

    def reset(self) -> None:
        """Back to read-only, no denials."""
        with self._lock:
            self.rules = READ_ONLY
            self.denials = []

    def allows(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        with self._lock:
            rules, denials = self.rules, list(self.denials)
        if any(d.applies(verb, group, resource, namespace) for d in denials):
            return False
        return any(r.allows(verb, group, resource, namespace) for r in rules)

    # ---- review answers -----------------------------------------------------------------------

    def access_review_status(self, spec: dict[str, Any]) -> dict[str, Any]:
        """`status` of a SelfSubjectAccessReview for its `spec`."""
        attrs = spec.get("resourceAttributes")
        if isinstance(attrs, dict):
            verb = str(attrs.get("verb", ""))
            resource = str(attrs.get("resource", ""))
            group = str(attrs.get("group", ""))
            if attrs.get("subresource"):
                resource = f"{resource}/{attrs['subresource']}"
            allowed = self.allows(verb, group, resource, attrs.get("namespace") or None)
        else:
            non_resource = spec.get("nonResourceAttributes") or {}
            allowed = str(non_resource.get("verb", "")) == "get" and _public_url(
                str(non_resource.get("path", ""))
            )
        if allowed:
            return {
                "allowed": True,
                "reason": (
                    'RBAC: allowed by ClusterRoleBinding "deploy-verifier" of ClusterRole '
                    f'"deploy-verifier-read-only" to User "{self.user}"'
                ),
            }
        return {"allowed": False}

    def rules_review_status(self, namespace: str) -> dict[str, Any]:
        """`status` of a SelfSubjectRulesReview: the allow rules that apply in `namespace`."""
        with self._lock:
            rules, denials = self.rules, list(self.denials)
        resource_rules: list[dict[str, Any]] = []
        for r in rules:
            if r.namespaces is not None and namespace not in r.namespaces:
                continue
            hit = [d for d in denials if d.namespace in (None, namespace)]
            if not hit:
                resource_rules.append(_rule_json(r.verbs, r.api_groups, r.resources))
                continue
            # RBAC has no deny: spell the rule out per resource, leaving out what is denied.
            for res in RESOURCES:
                if not r.allows_resource(res.group, res.plural):
                    continue
                verbs = set(CRUD_VERBS if "*" in r.verbs else r.verbs)
                verbs -= {
                    v
                    for v in verbs
                    if any(d.applies(v, res.group, res.plural, namespace) for d in hit)
                }
                if verbs:
                    resource_rules.append(
                        _rule_json(
                            frozenset(verbs), frozenset({res.group}), frozenset({res.plural})
                        )
                    )
        return {
            "resourceRules": resource_rules,
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": list(_PUBLIC_URLS)}],
            "incomplete": False,
        }


def _rule_json(
    verbs: frozenset[str], groups: frozenset[str], resources: frozenset[str]
) -> dict[str, Any]:
    return {"verbs": sorted(verbs), "apiGroups": sorted(groups), "resources": sorted(resources)}


def _public_url(path: str) -> bool:
    for pattern in _PUBLIC_URLS:
        if pattern.endswith("*") and path.startswith(pattern[:-1]):
            return True
        if path == pattern:
            return True
    return False
