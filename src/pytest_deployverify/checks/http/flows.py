"""Critical user flows from the profile: each request answers its status with its JSON fields."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from pytest_deployverify.checks.http.catalog import GatewayCheck
from pytest_deployverify.checks.http.common import Outcome, bearer, clip, lookup, send
from pytest_deployverify.expectations.gateway import Flow


def run_flows(
    client: httpx.Client, flows: Sequence[Flow], token: str | None, check: GatewayCheck
) -> Outcome:
    """Run every flow in order; a flow that needs a token fails when there is none."""
    outcome = Outcome()
    for flow in flows:
        subject = f"flow {flow.name!r} ({flow.method.upper()} {flow.path})"
        if flow.authenticated and token is None:
            outcome.findings.append(
                check.finding(
                    subject, "needs a token, and no token flow is configured or it failed"
                )
            )
            continue
        kwargs: dict[str, Any] = {}
        if flow.json_body is not None:
            kwargs["json"] = json.loads(flow.json_body)
        headers = bearer(token) if flow.authenticated and token else {}
        exchange = send(client, flow.method.upper(), flow.path, headers=headers, **kwargs)
        outcome.observed.append({"flow": flow.name, **exchange.summary()})
        if exchange.status != flow.status:
            shown = exchange.status if exchange.status is not None else exchange.error
            body = clip(exchange.text(), 160)
            outcome.findings.append(
                check.finding(
                    subject,
                    f"answered {shown}; expected {flow.status}"
                    + (f" (body: {body})" if body and exchange.status else ""),
                )
            )
            continue
        if flow.json_fields:
            data = exchange.json()
            missing = [f for f in flow.json_fields if not lookup(data, f)[0]]
            if missing:
                outcome.findings.append(
                    check.finding(subject, f"the answer lacks {', '.join(missing)}")
                )
    return outcome
