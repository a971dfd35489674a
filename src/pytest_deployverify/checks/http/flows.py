"""Critical user flows from the profile: each request answers its status with its JSON fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pytest_deployverify.checks.findings import Finding, Rule
from pytest_deployverify.checks.http.exchange import Exchange, clip, lookup
from pytest_deployverify.checks.http.expectations import Flow


@dataclass(frozen=True)
class FlowRun:
    """One flow as sent (``exchange``), or why it was not sent (no token)."""

    flow: Flow
    exchange: Exchange | None = None
    not_sent: str | None = None

    @property
    def subject(self) -> str:
        return f"flow {self.flow.name!r} ({self.flow.method.upper()} {self.flow.path})"

    def summary(self) -> dict[str, object]:
        if self.exchange is None:
            return {"flow": self.flow.name, "not_sent": self.not_sent}
        return {"flow": self.flow.name, **self.exchange.summary()}


def flow_findings(runs: Sequence[FlowRun], rule: Rule) -> list[Finding]:
    """Every flow answered its status with its JSON fields; one that needed a token it could not
    have fails."""
    found: list[Finding] = []
    for run in runs:
        flow, exchange = run.flow, run.exchange
        if exchange is None:
            found.append(rule(run.subject, f"needs a token, and {run.not_sent}"))
            continue
        if exchange.status != flow.status:
            body = clip(exchange.text(), 160)
            found.append(
                rule(
                    run.subject,
                    f"answered {exchange.status if exchange.status is not None else exchange.error}"
                    f"; expected {flow.status}"
                    + (f" (body: {body})" if body and exchange.status else ""),
                )
            )
            continue
        if flow.json_fields:
            data = exchange.json()
            missing = [f for f in flow.json_fields if not lookup(data, f)[0]]
            if missing:
                found.append(rule(run.subject, f"the answer lacks {', '.join(missing)}"))
    return found
