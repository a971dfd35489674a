"""What every HTTP-speaking component shares: TLS trust for httpx, and one phrase per failure.

httpx is imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

import ssl

from pytest_deployverify.components.errors import network_problem, timed_out


def tls_verify(ca_file: str | None, verify_tls: bool = True) -> ssl.SSLContext | bool:
    """What httpx ``verify=`` should get: a context trusting ``ca_file``, the system store, or off."""
    if not verify_tls:
        return False
    return ssl.create_default_context(cafile=ca_file) if ca_file else True


def explain_http_error(exc: BaseException, timeout: float) -> str:
    """One phrase for why an httpx request failed."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connect",
            httpx.ReadTimeout: "read",
            httpx.WriteTimeout: "write",
            httpx.PoolTimeout: "pool",
        }.get(type(exc))
        return timed_out(timeout, phase)
    problem = network_problem(exc, timeout)
    if problem is not None:
        return problem
    return f"is unreachable: {type(exc).__name__}: {exc}"
