"""The logs component: ``[logs]``, a Loki client probed with ``GET /ready``, and its reader
``recent`` (the newest lines of the service's stream within the lookback window, one request)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Annotated

from pytest_deployverify.checks.logs import CHECKS, LogLine, LogQuery
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

COMPONENT = "logs"
QUERY_PATH = "/loki/api/v1/query_range"


@dataclasses.dataclass(frozen=True, kw_only=True)
class LogsConfig:
    """``[logs]``: Loki. ``selector`` is a LogQL stream selector, e.g. ``{app="api-gateway"}``."""

    # Loki's base URL as the verifier reaches it; its /ready must answer
    # (`url = "http://loki-gateway.observability"`).
    url: HttpUrl
    # The LogQL stream selector of the service's logs (`selector = '{app="api-gateway"}'`).
    selector: str
    # How far back the query reads, a duration such as "15m" or "1h".
    lookback: Duration = "15m"
    # Lines the selector must have within lookback.
    min_lines: Annotated[int, Range(ge=1)] = 1
    # The newest lines read (Loki's limit): what the secret scan covers.
    limit: Annotated[int, Range(ge=1, le=5000)] = 1000
    # Scan the lines read for private keys, tokens and passwords; false makes SEC-LOGS-SECRETS
    # not applicable.
    scan_secrets: bool = True
    # A token sent as "Authorization: Bearer" with every request (unset: none).
    bearer_token: HeaderValue | None = None
    # A PEM file of the CA certificates to trust for an https:// url (unset: the system store).
    ca_file: ExistingFile | None = None
    # Seconds each request may take.
    timeout: Seconds = 5.0
    tenant: HeaderText | None = None  # the X-Scope-OrgID sent to a multi-tenant Loki


def logs_api(config: LogsConfig) -> JsonApi:
    """A probed Loki client (``/ready``)."""
    headers = {"X-Scope-OrgID": config.tenant} if config.tenant else {}
    api = JsonApi.from_section(config, headers=headers, component="logs (loki)")
    api.probe("/ready")
    return api


def read_recent_logs(
    api: JsonApi, config: LogsConfig, *, clock: Callable[[], float] = time.time
) -> LogQuery:
    """Newest lines (up to ``limit``) of ``config.selector`` within the lookback window."""
    end = clock()
    start = end - parse_duration(config.lookback)
    status, body = api.get_json(
        QUERY_PATH,
        {
            "query": config.selector,
            "start": int(start * 1e9),
            "end": int(end * 1e9),
            "limit": config.limit,
            "direction": "backward",
        },
    )
    if status != 200 or not isinstance(body, Mapping) or body.get("status") != "success":
        detail = body.get("error") or body.get("message") if isinstance(body, Mapping) else body
        raise api.fail(f"GET {QUERY_PATH}", f"answered {status}: {str(detail)[:200]}")
    lines = []
    for stream in (body.get("data") or {}).get("result") or []:
        labels = dict(stream.get("stream") or {})
        for ts, text in stream.get("values") or []:
            lines.append(LogLine(int(ts) / 1e9, labels, str(text)))
    lines.sort(key=lambda line: line.timestamp, reverse=True)
    return LogQuery(config.selector, start, end, tuple(lines))


def _recent(ctx: ReadContext) -> LogQuery:
    api: JsonApi = ctx.client
    try:
        return read_recent_logs(api, ctx.section)
    except ApiError as exc:
        raise api.read_error(exc, COMPONENT) from exc


def _connect(section: LogsConfig, profile: Profile) -> JsonApi:
    return logs_api(section)


component = Component(
    name=COMPONENT,
    title="Logs",
    sections=(SectionSpec("logs", LogsConfig, "Loki, where the service's logs land"),),
    connect=_connect,
    reads={"recent": _recent},
    checks=CHECKS,
    checklist=("pytest_deployverify.checklist.test_logs",),
    extra="http",
    description="The service's recent logs arrive in Loki, and none of them holds a secret.",
)
