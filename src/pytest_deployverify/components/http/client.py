"""The gateway's client: an ``httpx.Client`` on the base URL, probed once, and how one request
becomes an ``Exchange``.

Redirects are not followed: a check that expects ``301 -> https`` must see the 301. The client is
shared by readers running in several threads (httpx's connection pool is thread-safe); requests
a reader can send side by side go through ``concurrently``. httpx is imported inside functions.

With a client certificate (``[http.expect.auth.client_cert]``) the client presents it on every
connection, and a second, bare client (no certificate, no ``[http] headers``) serves the
anonymous probes: ``bare(client)``.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_deployverify.checks.http.auth import credential_headers
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.http.config import HttpConfig
from pytest_deployverify.components.httpcommon import explain_http_error, tls_verify
from pytest_deployverify.profile.secrets import Secret

if TYPE_CHECKING:
    import httpx

COMPONENT = "http"
AUTHORIZATION = "Authorization"
MAX_PARALLEL = 8  # requests one reader sends at a time
MAX_BODY = 2_000_000  # characters of a body kept for the checks

T = TypeVar("T")


_BARE = "_deployverify_bare"


def tls_context(config: HttpConfig, *, certificate: bool = True) -> ssl.SSLContext | bool:
    """What httpx ``verify=`` gets: the profile's trust settings, and the client certificate
    (mutual TLS) when the profile gives one and ``certificate`` is true."""
    verify = tls_verify(config.ca_file, config.verify_tls)
    cert = config.expect.auth.client_cert
    if cert is None or not certificate:
        return verify
    context = verify if isinstance(verify, ssl.SSLContext) else ssl.create_default_context()
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(cert.cert_file, cert.key_file)
    return context


def http_client(config: HttpConfig) -> httpx.Client:
    """An ``httpx.Client`` for the profile's service; nothing is sent yet."""
    import httpx

    return httpx.Client(
        base_url=config.base_url.get(),
        timeout=config.timeout,
        verify=tls_context(config),
        headers=config.static_headers(),
        follow_redirects=False,
    )


def bare_client(config: HttpConfig, verify: ssl.SSLContext | bool | None = None) -> httpx.Client:
    """A client without any credential: no client certificate (or ``verify``'s), no ``[http]
    headers``."""
    import httpx

    return httpx.Client(
        base_url=config.base_url.get(),
        timeout=config.timeout,
        verify=tls_context(config, certificate=False) if verify is None else verify,
        follow_redirects=False,
    )


def bare(client: httpx.Client) -> httpx.Client:
    """The component's client for anonymous probes: the bare one when the profile gives a client
    certificate, else the client itself (the probes strip the credential headers)."""
    found: httpx.Client | None = getattr(client, _BARE, None)
    return found if found is not None else client


def close_client(client: httpx.Client) -> None:
    """Close the client and its bare twin."""
    twin = getattr(client, _BARE, None)
    if twin is not None:
        twin.close()
    client.close()


def build_http_client(config: HttpConfig) -> httpx.Client:
    """The probed client: a HEAD of the base URL must get an HTTP answer (any status) within the
    timeout, else ``ComponentUnavailable`` naming the gateway and its masked URL. Every HTTP
    probe (TLS, latency, load, auth) asks for this client first, so a dead gateway costs one
    timeout per run."""
    import httpx

    try:
        client = http_client(config)
    except (OSError, ssl.SSLError) as exc:  # the client certificate or key could not be loaded
        raise ComponentUnavailable(
            COMPONENT,
            config.base_url.display,
            f"could not load the client certificate ([http.expect.auth.client_cert]): {exc}",
        ) from exc
    try:
        client.head("")
    except httpx.HTTPError as exc:
        client.close()
        raise ComponentUnavailable(
            COMPONENT, config.base_url.display, explain_http_error(exc, config.timeout)
        ) from exc
    if config.expect.auth.client_cert is not None:
        setattr(client, _BARE, bare_client(config))
    return client


def describe_error(exc: BaseException) -> str:
    """One phrase for a failed request (verifier requests never carry userinfo in the URL)."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc}"
    return f"{type(exc).__name__}: {exc}"


def bearer(token: Secret | str) -> dict[str, str]:
    value = token.get() if isinstance(token, Secret) else token
    return {AUTHORIZATION: f"Bearer {value}"}


def anonymous_strip(config: HttpConfig) -> tuple[str, ...]:
    """The headers an anonymous probe leaves out: every one that may carry a credential."""
    return credential_headers(config.expect.auth, tuple(config.headers))


def recorded(
    method: str,
    target: str,
    response: httpx.Response,
    elapsed_ms: float,
    note: str | None = None,
) -> Exchange:
    """An answered request as plain data."""
    try:
        body = response.text[:MAX_BODY]
    except (UnicodeDecodeError, LookupError):
        body = ""
    return Exchange(
        method,
        target,
        response.status_code,
        None,
        elapsed_ms,
        headers=tuple((k.lower(), v) for k, v in response.headers.multi_items()),
        body=body,
        note=note,
    )


def send(
    client: httpx.Client,
    method: str,
    target: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    strip: Sequence[str] = (),
    note: str | None = None,
    shown: str | None = None,
    **kwargs: Any,
) -> Exchange:
    """Send one request; a transport failure becomes ``Exchange.error`` instead of an exception.

    ``strip`` removes headers the client would add (the profile's Authorization, for a "no
    token" probe); ``shown`` is the target as evidence names it (a URL with its password
    masked)."""
    import httpx

    started = time.perf_counter()
    extra: dict[str, Any] = dict(kwargs)
    auth = extra.pop("auth", None)  # build_request takes no auth; send applies it
    if timeout is not None:
        extra["timeout"] = timeout
    label = shown or target
    try:
        request = client.build_request(method, target, headers=dict(headers or {}), **extra)
        for name in strip:
            request.headers.pop(name, None)
        response = client.send(request, auth=auth) if auth is not None else client.send(request)
        response.read()
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return Exchange(method, label, None, describe_error(exc), elapsed, note=note)
    elapsed = (time.perf_counter() - started) * 1000
    return recorded(method, label, response, elapsed, note)


def concurrently(calls: Sequence[Callable[[], T]], max_workers: int = MAX_PARALLEL) -> list[T]:
    """Run independent requests side by side (at most ``max_workers`` at a time); the results
    keep the calls' order. One round trip instead of one per request."""
    if len(calls) <= 1:
        return [call() for call in calls]
    workers = max(1, min(max_workers, len(calls)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deployverify-http") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]
