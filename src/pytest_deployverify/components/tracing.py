"""The tracing component: ``[tracing]``, a client for Jaeger's query API or Tempo's search API,
and its reader ``recent`` (the service's traces within the lookback window, one request).

The client is probed when it is built: Jaeger ``GET /api/services``, Tempo ``GET /ready``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any

from pytest_deployverify.checks.tracing import CHECKS, TraceSearch
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.httpapi import ApiError, JsonApi
from pytest_deployverify.profile.fields import (
    Duration,
    ExistingFile,
    HeaderText,
    HeaderValue,
    HttpUrl,
    Seconds,
    parse_duration,
)
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import Range

COMPONENT = "tracing"


class TracingBackend(StrEnum):
    JAEGER = "jaeger"
    TEMPO = "tempo"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TracingConfig:
    """``[tracing]``: Jaeger (query API) or Tempo (search API)."""

    # The base URL of Jaeger's query service or of Tempo, as the verifier reaches it
    # (`url = "http://jaeger-query.observability:16686"`).
    url: HttpUrl
    # Which API url serves: "jaeger" (/api/traces) or "tempo" (/api/search).
    backend: TracingBackend = TracingBackend.JAEGER
    # The service name the service's spans carry (Jaeger's service, Tempo's service.name).
    service: str
    # How far back the search looks, a duration such as "1h" or "30m".
    lookback: Duration = "1h"
    # Traces of the service that must have started within lookback.
    min_traces: Annotated[int, Range(ge=1)] = 1
    # A token sent as "Authorization: Bearer" with every request (unset: none).
    bearer_token: HeaderValue | None = None
    # A PEM file of the CA certificates to trust for an https:// url (unset: the system store).
    ca_file: ExistingFile | None = None
    # Seconds each request may take.
    timeout: Seconds = 5.0
    tenant: HeaderText | None = None  # the X-Scope-OrgID sent to a multi-tenant Tempo


# Cheap, documented readiness endpoints used as the probe when the client is built.
PROBES = {TracingBackend.JAEGER: "/api/services", TracingBackend.TEMPO: "/ready"}


def tracing_api(config: TracingConfig) -> JsonApi:
    """A probed Jaeger (``/api/services``) or Tempo (``/ready``) client."""
    headers = {"X-Scope-OrgID": config.tenant} if config.tenant else {}
    api = JsonApi.from_section(
        config, headers=headers, component=f"tracing ({config.backend.value})"
    )
    api.probe(PROBES[config.backend])
    return api


def _expect_ok(api: JsonApi, path: str, status: int, body: Any) -> Mapping[str, Any]:
    if status != 200 or not isinstance(body, Mapping):
        detail = body.get("message") or body.get("errors") if isinstance(body, Mapping) else body
        raise api.fail(f"GET {path}", f"answered {status}: {str(detail)[:200]}")
    return body


def read_recent_traces(
    api: JsonApi, config: TracingConfig, *, clock: Callable[[], float] = time.time
) -> TraceSearch:
    """Traces of ``config.service`` that started within the lookback window."""
    end = clock()
    start = end - parse_duration(config.lookback)
    limit = max(config.min_traces, 20)
    found: list[tuple[float, str]] = []  # (start time, trace id)
    if config.backend is TracingBackend.JAEGER:
        path = "/api/traces"
        status, body = api.get_json(
            path,
            {
                "service": config.service,
                "start": int(start * 1e6),
                "end": int(end * 1e6),
                "limit": limit,
            },
        )
        for trace in _expect_ok(api, path, status, body).get("data") or []:
            spans = trace.get("spans") or []
            if spans:
                begun = min(float(s.get("startTime", 0)) for s in spans) / 1e6
                found.append((begun, str(trace.get("traceID") or "")))
    else:
        path = "/api/search"
        status, body = api.get_json(
            path,
            {
                "tags": f"service.name={config.service}",
                "start": int(start),
                "end": int(end),
                "limit": limit,
            },
        )
        for trace in _expect_ok(api, path, status, body).get("traces") or []:
            begun = float(trace.get("startTimeUnixNano", 0)) / 1e9
            found.append((begun, str(trace.get("traceID") or "")))
    recent = sorted((item for item in found if item[0] >= start), reverse=True)
    return TraceSearch(
        config.backend.value,
        config.service,
        start,
        end,
        len(recent),
        recent[0][0] if recent else None,
        config.min_traces,
        tuple(trace_id for _, trace_id in recent[:20]),
    )


def _recent(ctx: ReadContext) -> TraceSearch:
    api: JsonApi = ctx.client
    try:
        return read_recent_traces(api, ctx.section)
    except ApiError as exc:
        raise api.read_error(exc, COMPONENT) from exc


def _connect(section: TracingConfig, profile: Profile) -> JsonApi:
    return tracing_api(section)


component = Component(
    name=COMPONENT,
    title="Tracing",
    sections=(
        SectionSpec("tracing", TracingConfig, "Jaeger or Tempo, where the service's traces land"),
    ),
    connect=_connect,
    reads={"recent": _recent},
    checks=CHECKS,
    checklist=("pytest_deployverify.checklist.test_tracing",),
    extra="http",
    description="The service's recent traces are visible in Jaeger or Tempo.",
)
