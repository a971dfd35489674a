"""Tenant isolation: tenant A never reads tenant B's data, by id or by a spoofed tenant header.

The component logs both tenants in and asks the routes (``components.http.auth``); the
functions below judge the recorded answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_deployverify.checks.findings import Finding, NotApplicable, Rule
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.auth import TokenResult
from pytest_deployverify.checks.http.exchange import Exchange

NOT_VISIBLE = (403, 404)
NO_RESOURCES = "no tenant B resources to probe: set [http.expect.tenants.b] resources"
NO_OWN_PATHS = "no tenant A routes to probe: set [http.expect.tenants.a] own_paths"


@dataclass(frozen=True)
class CrossRead:
    """One of B's resources, read by its owner B and by A."""

    path: str
    owner: Exchange
    other: Exchange


@dataclass(frozen=True)
class SpoofRead:
    """One of A's own routes, asked by A plainly and with B's tenant in the tenant header."""

    path: str
    plain: Exchange
    spoofed: Exchange


@dataclass(frozen=True)
class TenantLogin:
    tenant: str
    result: TokenResult


@dataclass(frozen=True)
class TenantProbe:
    """Both tenants' logins and what A could see of B."""

    header: str
    a: str
    b: str
    markers_b: tuple[str, ...]
    logins: tuple[TenantLogin, ...] = ()
    cross: tuple[CrossRead, ...] = ()
    spoof: tuple[SpoofRead, ...] = ()
    resources: tuple[str, ...] = ()
    own_paths: tuple[str, ...] = ()

    def cross_summary(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for read in self.cross:
            rows.append({**read.owner.summary(), "as": f"tenant {self.b} (owner)"})
            rows.append({**read.other.summary(), "as": f"tenant {self.a}"})
        return rows

    def spoof_summary(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for read in self.spoof:
            rows.append({**read.plain.summary(), "as": f"tenant {self.a}"})
            rows.append(
                {**read.spoofed.summary(), "as": f"tenant {self.a} + {self.header}: {self.b}"}
            )
        return rows


def _login_findings(probe: TenantProbe, rule: Rule) -> list[Finding]:
    return [
        rule(
            login.result.exchange.target,
            f"tenant {login.tenant} could not log in: {login.result.problem}",
        )
        for login in probe.logins
        if login.result.token is None
    ]


def cross_tenant_findings(probe: TenantProbe) -> list[Finding]:
    """With A's token each of B's resources answered 403/404 and carried none of B's data.

    B read them too: a resource B cannot read itself makes A's refusal meaningless."""
    if not probe.resources:
        raise NotApplicable(NO_RESOURCES)
    found = _login_findings(probe, catalog.TENANT_ISOLATION)
    if found:
        return found
    a, b = probe.a, probe.b
    for read in probe.cross:
        own, other = read.owner, read.other
        if not own.ok:
            found.append(
                catalog.TENANT_ISOLATION(
                    read.path,
                    f"tenant {b} cannot read its own resource (answered {own.shown()}), so "
                    f"tenant {a}'s refusal would prove nothing; fix tenants.b.resources",
                )
            )
            continue
        leaked = [m for m in probe.markers_b if m in other.text()]
        if other.ok:
            found.append(
                catalog.TENANT_ISOLATION(
                    read.path,
                    f"tenant {a} read tenant {b}'s resource: answered {other.status}"
                    + (f" containing {', '.join(map(repr, leaked))}" if leaked else "")
                    + "; expected 403 or 404",
                )
            )
        elif other.status not in NOT_VISIBLE:
            found.append(
                catalog.TENANT_ISOLATION(
                    read.path, f"as tenant {a} answered {other.shown()}; expected 403 or 404"
                )
            )
        elif leaked:
            found.append(
                catalog.TENANT_ISOLATION(
                    read.path,
                    f"the {other.status} answer to tenant {a} contains tenant {b}'s data "
                    f"({', '.join(map(repr, leaked))})",
                )
            )
    return found


def spoofed_header_findings(probe: TenantProbe) -> list[Finding]:
    """A's own routes answered the same with ``<header>: <B's tenant>`` and showed none of B's
    data."""
    if not probe.own_paths:
        raise NotApplicable(NO_OWN_PATHS)
    found = _login_findings(probe, catalog.TENANT_HEADER)
    if found:
        return found
    a, b, header = probe.a, probe.b, probe.header
    for read in probe.spoof:
        plain, spoofed = read.plain, read.spoofed
        if not plain.ok:
            found.append(
                catalog.TENANT_HEADER(
                    read.path,
                    f"tenant {a} cannot read its own route (answered {plain.shown()}); fix "
                    "tenants.a.own_paths",
                )
            )
            continue
        leaked = [m for m in probe.markers_b if m in spoofed.text() and m not in plain.text()]
        if leaked:
            found.append(
                catalog.TENANT_HEADER(
                    read.path,
                    f"with {header}: {b} the answer to tenant {a} contains tenant {b}'s data "
                    f"({', '.join(map(repr, leaked))}): the service trusts a client-supplied "
                    "tenant header",
                )
            )
        elif spoofed.status != plain.status:
            found.append(
                catalog.TENANT_HEADER(
                    read.path,
                    f"with {header}: {b} the answer changed from {plain.status} to "
                    f"{spoofed.status}; a client-supplied tenant header must be ignored",
                )
            )
    return found
