"""A synchronous in-process client for the gateway app, for tests.

httpx's ASGI transport on one private event loop (``asyncio.Runner``), with the app's lifespan
entered and left around it: no server, no port, and the same loop for every request (so a Redis
connection pool made on the first request stays usable).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from starlette.applications import Starlette

DEFAULT_CLIENT_ADDRESS = ("192.0.2.10", 50_000)  # TEST-NET-1: an address that is nobody's


class GatewayClient:
    def __init__(
        self,
        app: Starlette,
        *,
        base_url: str = "http://gateway.test",
        client_address: tuple[str, int] = DEFAULT_CLIENT_ADDRESS,
    ) -> None:
        self._runner = asyncio.Runner()
        self._lifespan: AbstractAsyncContextManager[Any] = app.router.lifespan_context(app)
        self._runner.run(self._lifespan.__aenter__())
        transport = httpx.ASGITransport(app=app, client=client_address)
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **kwargs)

    def close(self) -> None:
        try:
            self._runner.run(self._client.aclose())
            self._runner.run(self._lifespan.__aexit__(None, None, None))
        finally:
            self._runner.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
