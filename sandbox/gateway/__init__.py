"""The demo API gateway: the sandbox's stand-in for the production service being verified.

``create_app(GatewaySettings.from_env())`` builds the ASGI app; ``start_gateway`` runs it under
uvicorn in a subprocess; ``start_downstream`` starts the stand-in downstream services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.gateway.app import create_app
from sandbox.gateway.settings import DEFECTS, GatewaySettings, SettingsError, demo_env
from sandbox.gateway.tokens import issue_token

if TYPE_CHECKING:
    from sandbox.gateway.downstream import DEFAULT_SERVICES, DownstreamProcess, start_downstream
    from sandbox.gateway.launcher import GatewayProcess, start_gateway

__all__ = [
    "DEFAULT_SERVICES",
    "DEFECTS",
    "DownstreamProcess",
    "GatewayProcess",
    "GatewaySettings",
    "SettingsError",
    "create_app",
    "demo_env",
    "issue_token",
    "start_downstream",
    "start_gateway",
]

_LAZY = {
    "DEFAULT_SERVICES": "sandbox.gateway.downstream",
    "DownstreamProcess": "sandbox.gateway.downstream",
    "start_downstream": "sandbox.gateway.downstream",
    "GatewayProcess": "sandbox.gateway.launcher",
    "start_gateway": "sandbox.gateway.launcher",
}


def __getattr__(name: str) -> Any:
    # Imported on first use: `python -m sandbox.gateway.downstream` must not find its own
    # module already imported by this package (runpy warns about that).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
