"""One JSON-over-HTTP client for the monitoring components: Prometheus, Alertmanager, Grafana,
Jaeger/Tempo and Loki.

``JsonApi`` holds one ``httpx.Client`` (timeout, bearer token, CA, extra headers such as a tenant,
no redirects followed, no retries) and turns every failure into an ``ApiError`` whose message names
the component, its masked endpoint, what was asked and the problem in one phrase. ``probe`` is the
cheap request a component's ``connect`` makes: a failure there is ``ComponentUnavailable``.

httpx is imported when a client is built, so importing this module costs nothing. An ``httpx.Client``
is safe to share between threads: readers running concurrently use the same client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pytest_deployverify.components.errors import ComponentUnavailable, ReadError
from pytest_deployverify.components.httpcommon import explain_http_error, tls_verify

if TYPE_CHECKING:
    import httpx

__all__ = ["ApiError", "JsonApi", "Params", "concurrently"]

T = TypeVar("T")
R = TypeVar("R")
MAX_CONCURRENT_REQUESTS = 8

# Query parameters: a mapping, or pairs when a key repeats (``match[]``, ``filter``).
Params = Mapping[str, str | int | float] | Sequence[tuple[str, str | int | float]]


class ApiError(Exception):
    """An HTTP API answered with an error (or could not be reached) after the probe succeeded."""

    def __init__(self, message: str, problem: str, what: str = "", component: str = "") -> None:
        super().__init__(message)
        self.problem = problem
        self.what = what
        self.component = component


class JsonApi:
    """GET JSON from one backend; every failure is an ``ApiError`` naming it and its endpoint."""

    component = "http"
    # What to check when the backend refuses the credentials (the profile key of the token).
    credentials_hint = "check the profile's token"

    def __init__(
        self,
        url: str,
        *,
        display: str,
        timeout: float,
        bearer_token: str | None = None,
        ca_file: str | None = None,
        headers: Mapping[str, str] | None = None,
        component: str | None = None,
        credentials_hint: str | None = None,
    ) -> None:
        import httpx

        if component is not None:
            self.component = component
        if credentials_hint is not None:
            self.credentials_hint = credentials_hint
        self.url = url.rstrip("/")
        self.display = display
        self.timeout = timeout
        all_headers = {"Accept": "application/json", **(headers or {})}
        if bearer_token:
            all_headers["Authorization"] = f"Bearer {bearer_token}"
        self.http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            headers=all_headers,
            verify=tls_verify(ca_file),
            follow_redirects=False,
        )

    @classmethod
    def from_section(
        cls,
        section: Any,
        *,
        token: Any = None,
        headers: Mapping[str, str] | None = None,
        component: str | None = None,
    ) -> Self:
        """Built from a profile table with ``url``, ``timeout``, ``ca_file`` and a token
        (``bearer_token`` unless ``token`` is given: a ``Secret`` or None)."""
        secret = token if token is not None else getattr(section, "bearer_token", None)
        return cls(
            section.url.get(),
            display=section.url.display,
            timeout=section.timeout,
            bearer_token=secret.get() if secret is not None else None,
            ca_file=section.ca_file,
            headers=headers,
            component=component,
        )

    # -- failures ----------------------------------------------------------------------------------

    def fail(self, what: str, problem: str) -> ApiError:
        return ApiError(
            f"{self.component} at {self.display} {problem} ({what})", problem, what, self.component
        )

    def read_error(self, exc: ApiError, name: str | None = None) -> ReadError:
        """The registry's ``ReadError`` for a failed read (``name``: the registry's component)."""
        return ReadError(name or self.component, self.display, exc.what, exc.problem)

    def unavailable(self, problem: str, name: str | None = None) -> ComponentUnavailable:
        return ComponentUnavailable(name or self.component, self.display, problem)

    # -- requests ----------------------------------------------------------------------------------

    def get(self, path: str, params: Params | None = None) -> httpx.Response:
        """GET ``path``; a transport failure or refused credentials is an ``ApiError``."""
        import httpx

        query: Any = (
            (dict(params) if isinstance(params, Mapping) else list(params)) if params else None
        )
        try:
            response = self.http.get(path, params=query)
        except httpx.HTTPError as exc:
            raise self.fail(f"GET {path}", explain_http_error(exc, self.timeout)) from exc
        if response.status_code in (401, 403):
            raise self.fail(
                f"GET {path}",
                f"rejected the credentials ({response.status_code}): {self.credentials_hint}",
            )
        return response

    def get_json(self, path: str, params: Params | None = None) -> tuple[int, Any]:
        """``(status, decoded body)`` whatever the status; a body that is not JSON is an ``ApiError``."""
        response = self.get(path, params)
        try:
            return response.status_code, response.json()
        except ValueError:
            raise self.fail(
                f"GET {path}",
                f"answered {response.status_code} with a body that is not JSON: "
                f"{response.text[:200]!r}",
            ) from None

    def json(self, path: str, params: Params | None = None) -> Any:
        """The decoded body of a successful answer; an error status is an ``ApiError`` quoting the
        backend's own error text."""
        status, body = self.get_json(path, params)
        if status >= 400:
            detail = None
            if isinstance(body, Mapping):
                detail = body.get("error") or body.get("message") or body.get("errors")
            raise self.fail(f"GET {path}", f"answered {status}: {str(detail or body)[:200]}")
        return body

    def probe(
        self,
        path: str,
        *,
        accept: Callable[[httpx.Response], bool] | None = None,
        name: str | None = None,
    ) -> httpx.Response:
        """The cheap request of ``connect``: any failure closes the client and is
        ``ComponentUnavailable``; an answer of 400 or more is one too unless ``accept`` takes it."""
        try:
            response = self.get(path)
        except ApiError as exc:
            self.close()
            raise self.unavailable(exc.problem, name) from exc
        if response.status_code >= 400 and not (accept is not None and accept(response)):
            self.close()
            raise self.unavailable(
                f"is not ready: GET {path} answered {response.status_code} "
                f"{response.text.strip()[:200]!r}",
                name,
            )
        return response

    def ready(self) -> str:
        """``GET /-/ready`` (Prometheus, Alertmanager); an ``ApiError`` unless it answers 200.
        Returns the body text."""
        response = self.get("/-/ready")
        if response.status_code != 200:
            raise self.fail(
                "GET /-/ready",
                f"is not ready: /-/ready answered {response.status_code} "
                f"{response.text.strip()[:200]!r}",
            )
        return response.text.strip()

    def close(self) -> None:
        self.http.close()


def concurrently(
    call: Callable[[T], R], items: Iterable[T], max_workers: int = MAX_CONCURRENT_REQUESTS
) -> list[R]:
    """``[call(item) for item in items]`` with the requests in flight together (bounded), in
    order; the first exception is raised once all are done."""
    todo = list(items)
    if len(todo) <= 1:
        return [call(item) for item in todo]
    workers = min(max_workers, len(todo))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deployverify-http") as pool:
        return list(pool.map(call, todo))
