"""Exemptions, as Polaris users expect them, but never silent and never without a reason.

Two ways to exempt one object from one check:

* in the profile, ``[[kubernetes.exemptions]]``: ``checks`` (our rule ids, Polaris check names or
  item ids), ``objects`` (``KIND/NAME`` or ``NAME``, ``*`` wildcards; empty: every object),
  ``namespaces`` (empty: every namespace) and a ``reason``;
* on the object itself, an annotation naming the check whose value is the reason::

      metadata:
        annotations:
          deployverify.io/exempt.host-network-set: "CNI agent: needs the node's network"

  ``deployverify.io/exempt.hostNetworkSet`` (the Polaris name) and ``...exempt.K8S-RBAC`` (every
  rule of an item) work too. Polaris's own ``polaris.fairwinds.com/<check>-exempt: "true"`` carries
  no reason: it is recognised, reported, and not honoured (add our annotation with the reason).

Every exempted finding is kept in the report with who exempted it and why; an exemption that
cannot be honoured is reported too. No I/O here.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    annotations_of,
    kind,
    name,
    namespace,
)
from pytest_deployverify.checks.kube.rules import POLARIS

ANNOTATION_PREFIX = "deployverify.io/exempt."
POLARIS_PREFIX = "polaris.fairwinds.com/"
# Values that say "yes" without saying why.
_NO_REASON = frozenset({"", "true", "yes", "1", "y", "on"})
_POLARIS_KEY = re.compile(r"polaris\.fairwinds\.com/(?:(?P<check>[A-Za-z0-9]+)-)?exempt\Z")

_BY_LOWER = {k.lower(): v for k, v in POLARIS.items()}


def canonical(check: str) -> str:
    """A check named by our rule id, a Polaris check name or an item id, in one spelling:
    rule ids and Polaris names -> our rule id; item ids -> upper case."""
    text = check.strip()
    polaris = _BY_LOWER.get(text.lower())
    if polaris is not None:
        return polaris
    if text.upper().startswith(("K8S-", "SEC-K8S-")):
        return text.upper()
    return text.lower()


def _valid_reason(reason: str) -> bool:
    return reason.strip().lower() not in _NO_REASON and len(reason.strip()) >= 3


@dataclass(frozen=True, kw_only=True)
class Exemption:
    """``[[kubernetes.exemptions]]``: checks exempted for some objects, and why."""

    # The checks exempted: rule ids, Polaris check names or item ids, in any case
    # (`checks = ["hostNetworkSet", "K8S-RESOURCES"]`).
    checks: tuple[str, ...]
    # Why the exception is acceptable, shown with every exempted finding (at least 3
    # characters, not a bare "true" or "yes").
    reason: str
    # The objects exempted, as KIND/NAME or NAME, fnmatch wildcards allowed
    # (`objects = ["DaemonSet/node-exporter"]`); empty: every object.
    objects: tuple[str, ...] = ()
    # The namespaces the exemption applies in, fnmatch wildcards allowed; empty: every namespace.
    namespaces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.checks or not all(c.strip() for c in self.checks):
            raise ValueError("an exemption names the checks it exempts (checks = [...])")
        if not _valid_reason(self.reason):
            raise ValueError(
                'an exemption needs a reason that says why (reason = "..."), not '
                f"{self.reason.strip()!r}"
            )

    def covers(self, check_ids: Iterable[str], obj: KubeObject) -> bool:
        wanted = {canonical(c) for c in self.checks}
        if not wanted & set(check_ids):
            return False
        if self.namespaces and not any(
            fnmatch.fnmatchcase(namespace(obj), ns) for ns in self.namespaces
        ):
            return False
        if not self.objects:
            return True
        for pattern in self.objects:
            head, sep, tail = pattern.partition("/")
            if sep:
                if fnmatch.fnmatchcase(kind(obj).lower(), head.lower()) and fnmatch.fnmatchcase(
                    name(obj), tail
                ):
                    return True
            elif fnmatch.fnmatchcase(name(obj), pattern):
                return True
        return False

    def describe(self) -> str:
        what = ", ".join(self.objects) or "every object"
        where = f" in {', '.join(self.namespaces)}" if self.namespaces else ""
        return f"profile [[kubernetes.exemptions]] {', '.join(self.checks)} for {what}{where}"


@dataclass(frozen=True)
class Exempted:
    """A finding that was exempted: by what, and the reason given."""

    finding: Finding
    by: str
    reason: str

    def plain(self) -> dict[str, str]:
        return {
            "check_id": self.finding.check_id,
            "subject": self.finding.subject,
            "by": self.by,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AnnotationExemption:
    """One exemption annotation on an object: the checks it names and its reason (None: not
    honoured, ``problem`` says why)."""

    key: str
    checks: frozenset[str]
    reason: str | None
    problem: str | None = None


def annotation_exemptions(obj: KubeObject) -> list[AnnotationExemption]:
    """The exemption annotations of ``obj`` (ours and Polaris's), honoured or not."""
    found: list[AnnotationExemption] = []
    for key, value in annotations_of(obj).items():
        if key.startswith(ANNOTATION_PREFIX):
            check = canonical(key[len(ANNOTATION_PREFIX) :])
            if _valid_reason(value):
                found.append(AnnotationExemption(key, frozenset({check}), value.strip()))
            else:
                found.append(
                    AnnotationExemption(
                        key,
                        frozenset({check}),
                        None,
                        f"annotation {key} gives no reason ({value!r}); write why as its value",
                    )
                )
            continue
        match = _POLARIS_KEY.match(key)
        if match and value.strip().lower() in {"true", "yes", "1"}:
            polaris_check = match.group("check")
            checks = frozenset({canonical(polaris_check)}) if polaris_check else frozenset({"*"})
            ours = canonical(polaris_check) if polaris_check else "<check>"
            found.append(
                AnnotationExemption(
                    key,
                    checks,
                    None,
                    f"annotation {key} exempts without a reason, which is not honoured here; "
                    f"add {ANNOTATION_PREFIX}{ours}: <why>",
                )
            )
    return found


@dataclass
class Exemptions:
    """Applies the profile's exemptions and the objects' annotations to findings."""

    profile: tuple[Exemption, ...] = ()

    def check(
        self,
        finding: Finding,
        item_id: str,
        objects: Iterable[KubeObject],
    ) -> tuple[Exempted | None, list[str]]:
        """Whether ``finding`` is exempted on any of ``objects`` (the object it is about and the
        object judged), and the annotation problems seen on the way."""
        ids = {finding.check_id, item_id.upper()}
        problems: list[str] = []
        seen: set[int] = set()
        for obj in objects:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            for note in annotation_exemptions(obj):
                if not (note.checks & ids or "*" in note.checks):
                    continue
                if note.reason is None:
                    problems.append(f"{_ref(obj)}: {note.problem}")
                    continue
                return Exempted(finding, f"annotation {note.key} on {_ref(obj)}", note.reason), []
            for rule in self.profile:
                if rule.covers(ids, obj):
                    return Exempted(finding, rule.describe(), rule.reason.strip()), []
        return None, problems


def _ref(obj: KubeObject) -> str:
    ns = namespace(obj)
    return f"{kind(obj)} {ns}/{name(obj)}" if ns else f"{kind(obj)} {name(obj)}"


def by_check(exempted: Iterable[Exempted]) -> Mapping[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for entry in exempted:
        grouped.setdefault(entry.finding.check_id, []).append(entry.plain())
    return grouped
