"""Throw-away TLS material for the sandbox, made with trustme and written as PEM files.

One folder holds: a CA, a server certificate for the demo names, a certificate that expires in a
few days (the "renew soon" case), one that has already expired, and a second CA unrelated to the
first together with a server certificate it signed (the "wrong CA" case).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme

DEFAULT_NAMES = ("127.0.0.1", "localhost", "api.example.com")


@dataclass(frozen=True)
class CertFiles:
    """PEM paths of every certificate the sandbox uses; keys are unencrypted, mode 0600."""

    folder: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    expiring_cert: Path
    expiring_key: Path
    expiring_not_after: dt.datetime
    expired_cert: Path
    expired_key: Path
    other_ca_cert: Path
    other_server_cert: Path
    other_server_key: Path
    names: tuple[str, ...]


def _write(path: Path, data: bytes, *, private: bool = False) -> Path:
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)
    return path


def _write_leaf(folder: Path, stem: str, leaf: trustme.LeafCert) -> tuple[Path, Path]:
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    cert = _write(folder / f"{stem}.pem", chain)
    key = _write(folder / f"{stem}.key", leaf.private_key_pem.bytes(), private=True)
    return cert, key


def make_certs(
    folder: Path,
    *,
    names: Sequence[str] = DEFAULT_NAMES,
    expiring_in: dt.timedelta = dt.timedelta(days=3),
) -> CertFiles:
    """Create the sandbox certificates in ``folder`` (created if missing) and return their paths.

    ``names`` go into the subjectAltName of every server certificate (IP addresses as IP entries).
    """
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    ca = trustme.CA(organization_name="deployverify sandbox CA")
    server = ca.issue_cert(*names, common_name=names[-1])
    expiring_not_after = now + expiring_in
    expiring = ca.issue_cert(
        *names,
        common_name=names[-1],
        not_before=now - dt.timedelta(days=1),
        not_after=expiring_not_after,
    )
    expired = ca.issue_cert(
        *names,
        common_name=names[-1],
        not_before=now - dt.timedelta(days=30),
        not_after=now - dt.timedelta(days=1),
    )
    other_ca = trustme.CA(organization_name="unrelated CA")
    other_server = other_ca.issue_cert(*names, common_name=names[-1])

    ca_cert = _write(folder / "ca.pem", ca.cert_pem.bytes())
    _write(folder / "ca.key", ca.private_key_pem.bytes(), private=True)
    server_cert, server_key = _write_leaf(folder, "server", server)
    expiring_cert, expiring_key = _write_leaf(folder, "expiring", expiring)
    expired_cert, expired_key = _write_leaf(folder, "expired", expired)
    other_ca_cert = _write(folder / "other-ca.pem", other_ca.cert_pem.bytes())
    other_server_cert, other_server_key = _write_leaf(folder, "other-server", other_server)

    return CertFiles(
        folder=folder,
        ca_cert=ca_cert,
        server_cert=server_cert,
        server_key=server_key,
        expiring_cert=expiring_cert,
        expiring_key=expiring_key,
        expiring_not_after=expiring_not_after,
        expired_cert=expired_cert,
        expired_key=expired_key,
        other_ca_cert=other_ca_cert,
        other_server_cert=other_server_cert,
        other_server_key=other_server_key,
        names=tuple(names),
    )
