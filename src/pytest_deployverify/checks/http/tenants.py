"""Tenant isolation: tenant A never reads tenant B's data, by id or by a spoofed tenant header."""

from __future__ import annotations

import httpx

from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import Outcome, bearer, send
from pytest_deployverify.expectations.gateway import TenantExpectations

NOT_VISIBLE = (403, 404)


def cross_tenant_reads(
    client: httpx.Client, tenants: TenantExpectations, token_a: str, token_b: str
) -> Outcome:
    """With A's token each of B's resources answers 403/404 and carries none of B's data.

    B reads them first: a resource B cannot read itself would make A's refusal meaningless."""
    outcome = Outcome()
    b = tenants.b
    if not b.resources:
        outcome.skipped = "no tenant B resources to probe: set [http.expect.tenants.b] resources"
        return outcome
    for path in b.resources:
        own = send(client, "GET", path, headers=bearer(token_b))
        outcome.observed.append({**own.summary(), "as": f"tenant {b.tenant} (owner)"})
        if own.status is None or not 200 <= own.status < 300:
            outcome.findings.append(
                catalog.TENANT_ISOLATION.finding(
                    path,
                    f"tenant {b.tenant} cannot read its own resource (answered "
                    f"{own.status if own.status is not None else own.error}), so tenant "
                    f"{tenants.a.tenant}'s refusal would prove nothing; fix tenants.b.resources",
                )
            )
            continue
        other = send(client, "GET", path, headers=bearer(token_a))
        outcome.observed.append({**other.summary(), "as": f"tenant {tenants.a.tenant}"})
        leaked = [m for m in b.data_markers if m in other.text()]
        if other.status is not None and 200 <= other.status < 300:
            outcome.findings.append(
                catalog.TENANT_ISOLATION.finding(
                    path,
                    f"tenant {tenants.a.tenant} read tenant {b.tenant}'s resource: answered "
                    f"{other.status}"
                    + (f" containing {', '.join(map(repr, leaked))}" if leaked else "")
                    + "; expected 403 or 404",
                )
            )
        elif other.status not in NOT_VISIBLE:
            shown = other.status if other.status is not None else other.error
            outcome.findings.append(
                catalog.TENANT_ISOLATION.finding(
                    path,
                    f"as tenant {tenants.a.tenant} answered {shown}; expected 403 or 404",
                )
            )
        elif leaked:
            outcome.findings.append(
                catalog.TENANT_ISOLATION.finding(
                    path,
                    f"the {other.status} answer to tenant {tenants.a.tenant} contains tenant "
                    f"{b.tenant}'s data ({', '.join(map(repr, leaked))})",
                )
            )
    return outcome


def spoofed_tenant_header(
    client: httpx.Client, tenants: TenantExpectations, token_a: str
) -> Outcome:
    """A's own routes answer the same with ``<header>: <B's tenant>`` and show none of B's data."""
    outcome = Outcome()
    a, b = tenants.a, tenants.b
    if not a.own_paths:
        outcome.skipped = "no tenant A routes to probe: set [http.expect.tenants.a] own_paths"
        return outcome
    spoof = {tenants.header: b.tenant}
    for path in a.own_paths:
        plain = send(client, "GET", path, headers=bearer(token_a))
        spoofed = send(client, "GET", path, headers={**bearer(token_a), **spoof})
        outcome.observed.append({**plain.summary(), "as": f"tenant {a.tenant}"})
        outcome.observed.append(
            {**spoofed.summary(), "as": f"tenant {a.tenant} + {tenants.header}: {b.tenant}"}
        )
        if plain.status is None or not 200 <= plain.status < 300:
            outcome.findings.append(
                catalog.TENANT_HEADER.finding(
                    path,
                    f"tenant {a.tenant} cannot read its own route (answered "
                    f"{plain.status if plain.status is not None else plain.error}); fix "
                    "tenants.a.own_paths",
                )
            )
            continue
        leaked = [m for m in b.data_markers if m in spoofed.text() and m not in plain.text()]
        if leaked:
            outcome.findings.append(
                catalog.TENANT_HEADER.finding(
                    path,
                    f"with {tenants.header}: {b.tenant} the answer to tenant {a.tenant} contains "
                    f"tenant {b.tenant}'s data ({', '.join(map(repr, leaked))}): the service "
                    "trusts a client-supplied tenant header",
                )
            )
        elif spoofed.status != plain.status:
            outcome.findings.append(
                catalog.TENANT_HEADER.finding(
                    path,
                    f"with {tenants.header}: {b.tenant} the answer changed from {plain.status} "
                    f"to {spoofed.status}; a client-supplied tenant header must be ignored",
                )
            )
    return outcome
