"""``python -m sandbox.gateway --host 127.0.0.1 --port N``: serve the demo gateway with uvicorn.

Configuration comes from environment variables (see ``GatewaySettings.from_env``).
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from sandbox.gateway.app import create_app
from sandbox.gateway.settings import GatewaySettings, SettingsError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="trust X-Forwarded-For only from these proxy addresses (e.g. the nginx in front); "
        "off by default so a client cannot choose its own rate-limit key",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = GatewaySettings.from_env()
    except SettingsError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), stream=sys.stderr, format="%(name)s %(message)s"
    )
    # One line per readiness probe of each downstream service would drown the access log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
        access_log=False,  # the gateway writes its own access log without query strings
        server_header=False,  # no software/version in a Server header
        date_header=True,
        proxy_headers=args.forwarded_allow_ips is not None,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
