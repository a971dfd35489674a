"""Tiny stdlib HTTP helpers for readiness probes and test look-ups (loopback, short timeouts)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

# Loopback only: ignore any http_proxy/https_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, timeout: float = 1.0) -> int:
    """The status code of a GET (error statuses included); raises OSError if nothing answers."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def get_json(
    base_url: str, path: str, params: Mapping[str, str | int | float] | None = None
) -> Any:
    """GET ``base_url + path`` with query ``params`` and decode the JSON body (5 s timeout)."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with _OPENER.open(f"{base_url}{path}{query}", timeout=5.0) as response:
        return json.loads(response.read())
