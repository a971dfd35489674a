"""A TCP proxy that delays each direction by a fixed time, like a server in a remote region.

    python bench/delay_proxy.py --delay 0.025 127.0.0.1:6379 127.0.0.1:5432 ...

For each upstream ``host:port`` it listens on a free loopback port and prints ``upstream -> port``
lines, then ``ready``. Every chunk is delivered ``delay`` seconds after it was read, in order, in
both directions (so a request/response round trip costs 2 x delay more); the upstream connection is
opened one round trip after the client connected, as a remote TCP handshake would take. TLS passes
through untouched. Stop it with SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay`` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()


async def serve(upstream: tuple[str, int], delay: float) -> asyncio.Server:
    async def handle(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        await asyncio.sleep(2 * delay)  # the TCP handshake with a remote server
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                pump(client_reader, up_writer, delay), pump(up_reader, client_writer, delay)
            )
        finally:
            for writer in (client_writer, up_writer):
                with contextlib.suppress(OSError):
                    writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def main(targets: list[str], delay: float) -> None:
    servers = []
    for target in targets:
        host, _, port = target.rpartition(":")
        server = await serve((host, int(port)), delay)
        servers.append(server)
        listening = server.sockets[0].getsockname()[1]
        print(f"{target} -> {listening}", flush=True)
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.025, help="seconds per direction")
    parser.add_argument("targets", nargs="+", metavar="HOST:PORT")
    args = parser.parse_args()
    asyncio.run(main(args.targets, args.delay))
    sys.exit(0)
