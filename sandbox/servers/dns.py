"""A real DNS resolver on loopback: Debian's unbound, serving zones written for the test.

The server is a closed world: it serves the given zones and an empty root zone from zone files
in its workdir (``auth-zone``), so it never queries the internet and every answer is immediate:
a name outside the zones is NXDOMAIN, a missing record type is NODATA. A zone marked
``broken_dnssec`` gets a trust anchor its unsigned data cannot match, so the resolver answers
SERVFAIL for it, as a real resolver does for a zone whose DNSSEC chain is broken. By default the
zones are answered the way a recursive resolver answers (no AA flag); ``authoritative=True``
answers a zone with the AA flag, as its own name server would.

Everything unbound writes (pidfile, log) lives in the workdir; it is stopped by PID like the
other sandbox servers.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.ports import LOOPBACK
from sandbox.procs import (
    INSTALL_HINT,
    ManagedProcess,
    ServerStartError,
    start_with_port_retry,
)

READY_TIMEOUT = 10.0
# A DS record no key of an unsigned zone can match: the zone validates as bogus (SERVFAIL).
_BOGUS_DS = "DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE5CB4ED5C0AC09C8C6B3E7A4F"


@dataclass(frozen=True)
class Record:
    """One resource record: ``name`` relative to its zone ("@" for the apex) or absolute
    (ending in a dot); ``value`` as a zone file writes it."""

    name: str
    type: str
    value: str
    ttl: int = 300

    def line(self) -> str:
        return f"{self.name} {self.ttl} IN {self.type} {self.value}"


@dataclass(frozen=True)
class Zone:
    """A zone the server answers for, with its records (SOA and NS are added)."""

    name: str
    records: Sequence[Record] = ()
    broken_dnssec: bool = False
    authoritative: bool = False

    @property
    def origin(self) -> str:
        return self.name.rstrip(".") + "."

    def text(self) -> str:
        origin = self.origin
        lines = [
            f"$ORIGIN {origin}",
            f"@ 3600 IN SOA ns.{origin} hostmaster.{origin} 1 3600 600 86400 60",
            f"@ 3600 IN NS ns.{origin}",
            f"ns 3600 IN A {LOOPBACK}",
            *(record.line() for record in self.records),
        ]
        return "\n".join(lines) + "\n"


@dataclass
class DnsServer:
    """Handle on a running unbound."""

    port: int
    zones: tuple[Zone, ...]
    workdir: Path
    config_file: Path
    process: ManagedProcess = field(repr=False)

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as a profile's ``[dns] resolver`` names it."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()


def free_dns_port(host: str = LOOPBACK, attempts: int = 20) -> int:
    """A port free for both UDP and TCP on ``host`` right now (DNS listens on both)."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError(f"no port free for both UDP and TCP on {host} after {attempts} tries")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_unbound_conf(workdir: Path, port: int, zones: Iterable[Zone]) -> str:
    """unbound.conf for a resolver on ``127.0.0.1:port`` serving ``zones`` from ``workdir``."""
    zones = list(zones)
    broken = [z for z in zones if z.broken_dnssec]
    lines = [
        "server:",
        f"  interface: {LOOPBACK}",
        f"  port: {port}",
        "  do-ip6: no",
        "  do-daemonize: no",
        '  username: ""',
        '  chroot: ""',
        f"  directory: {_quote(str(workdir))}",
        f"  pidfile: {_quote(str(workdir / 'unbound-own.pid'))}",
        "  use-syslog: no",
        '  logfile: ""',
        "  log-servfail: yes",
        "  verbosity: 1",
        "  num-threads: 1",
        "  msg-cache-size: 1m",
        "  rrset-cache-size: 1m",
        "  access-control: 127.0.0.0/8 allow",
        # The validator only matters for zones given a trust anchor (broken_dnssec).
        '  module-config: "validator iterator"',
        *(f"  trust-anchor: {_quote(f'{z.origin} {_BOGUS_DS}')}" for z in broken),
        "  val-log-level: 2",
    ]
    for zone, upstream_only in [(Zone("."), True), *((z, not z.authoritative) for z in zones)]:
        lines += [
            "auth-zone:",
            f"  name: {_quote(zone.origin)}",
            f"  zonefile: {_quote(str(_zone_file(workdir, zone)))}",
            "  for-upstream: yes",
            f"  for-downstream: {'no' if upstream_only else 'yes'}",
            "  fallback-enabled: no",
        ]
    return "\n".join(lines) + "\n"


def _zone_file(workdir: Path, zone: Zone) -> Path:
    stem = zone.origin.rstrip(".") or "root"
    return workdir / f"{stem}.zone"


def _root_zone() -> str:
    return ". 86400 IN SOA ns.root. hostmaster.root. 1 3600 600 86400 60\n. 86400 IN NS ns.root.\n"


def _answers(port: int) -> bool:
    """True when something answers a DNS query (any rcode) on ``127.0.0.1:port``."""
    import dns.message
    import dns.query

    query = dns.message.make_query(".", "NS")
    dns.query.udp(query, LOOPBACK, port=port, timeout=0.5)
    return True


def start_unbound(workdir: Path, zones: Sequence[Zone]) -> DnsServer:
    """Start unbound in ``workdir`` serving ``zones``; ready when it answers a query."""
    binary = shutil.which("unbound") or shutil.which("unbound", path="/usr/sbin:/sbin")
    if binary is None:
        raise ServerStartError("unbound", None, f"unbound not found; {INSTALL_HINT}", "")
    workdir.mkdir(parents=True, exist_ok=True)
    names = [z.origin for z in zones]
    if len(set(names)) != len(names) or "." in names:
        raise ValueError(f"zones must be distinct and not the root: {names}")
    (workdir / "root.zone").write_text(_root_zone())
    for zone in zones:
        _zone_file(workdir, zone).write_text(zone.text())

    def attempt() -> DnsServer:
        port = free_dns_port()
        config_file = workdir / "unbound.conf"
        config_file.write_text(render_unbound_conf(workdir, port, zones))
        process = ManagedProcess(
            "unbound", [binary, "-d", "-c", str(config_file)], workdir, port=port
        ).start()
        server = DnsServer(
            port=port,
            zones=tuple(zones),
            workdir=workdir,
            config_file=config_file,
            process=process,
        )
        with process.stopped_on_error():
            process.wait_until(lambda: _answers(port), READY_TIMEOUT, "answering queries")
        return server

    return start_with_port_retry(attempt)
