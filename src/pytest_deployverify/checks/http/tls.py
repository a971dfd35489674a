"""TLS of the public endpoint, with the standard library: protocol versions, trust, expiry,
and the plain-HTTP redirect.

The certificate is read with verification off, so an expired or untrusted certificate can
still be reported with its dates; trust is judged by a separate, verifying handshake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import ssl
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import Outcome, describe_error
from pytest_deployverify.expectations.gateway import TlsVersion

VERSIONS: dict[TlsVersion, ssl.TLSVersion] = {
    TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}
ORDER = list(VERSIONS)
# Raised by our own OpenSSL before anything is sent: the version cannot be tested from here.
_LOCAL_REASONS = {"NO_PROTOCOLS_AVAILABLE", "UNSUPPORTED_PROTOCOL", "NO_CIPHERS_AVAILABLE"}
REDIRECTS = (301, 302, 307, 308)


@dataclass(frozen=True)
class TlsTarget:
    host: str
    port: int
    server_name: str  # SNI and the name the certificate must match
    timeout: float = 5.0

    @classmethod
    def from_url(
        cls, url: str, *, server_name: str | None = None, timeout: float = 5.0
    ) -> TlsTarget:
        parts = urlsplit(url)
        if parts.scheme.lower() != "https" or not parts.hostname:
            raise ValueError(f"{url!r} is not an https:// URL")
        return cls(parts.hostname, parts.port or 443, server_name or parts.hostname, timeout)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _handshake(target: TlsTarget, context: ssl.SSLContext) -> tuple[str | None, bytes | None]:
    """(negotiated version, peer certificate DER)."""
    with (
        socket.create_connection((target.host, target.port), timeout=target.timeout) as raw,
        context.wrap_socket(raw, server_hostname=target.server_name) as tls,
    ):
        return tls.version(), tls.getpeercert(binary_form=True)


def _unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# -- protocol versions --------------------------------------------------------------------


@dataclass(frozen=True)
class VersionProbe:
    version: TlsVersion
    accepted: bool | None  # None: our own OpenSSL cannot offer this version
    detail: str


def probe_version(target: TlsTarget, version: TlsVersion) -> VersionProbe:
    """Offer exactly ``version`` and see whether the server completes the handshake."""
    context = _unverified_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: we know
        try:
            context.minimum_version = VERSIONS[version]
            context.maximum_version = VERSIONS[version]
            if VERSIONS[version] < ssl.TLSVersion.TLSv1_2:
                context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let OpenSSL offer old versions
        except (ValueError, ssl.SSLError) as exc:
            return VersionProbe(version, None, f"cannot be offered by the local OpenSSL: {exc}")
    try:
        negotiated, _ = _handshake(target, context)
    except ssl.SSLError as exc:
        if exc.reason in _LOCAL_REASONS:
            return VersionProbe(version, None, f"cannot be offered locally ({exc.reason})")
        return VersionProbe(version, False, f"refused ({exc.reason or exc})")
    except OSError as exc:
        return VersionProbe(version, False, f"connection failed ({exc})")
    return VersionProbe(version, True, f"negotiated {negotiated}")


def min_version(target: TlsTarget, minimum: TlsVersion) -> Outcome:
    """Every version below ``minimum`` is refused, and ``minimum`` or a later one is accepted."""
    outcome = Outcome()
    probes = [probe_version(target, version) for version in ORDER]
    outcome.observed = [
        {"version": p.version.value, "accepted": p.accepted, "detail": p.detail} for p in probes
    ]
    below = [p for p in probes if ORDER.index(p.version) < ORDER.index(minimum)]
    for probe in below:
        if probe.accepted:
            outcome.findings.append(
                catalog.TLS_VERSION.finding(
                    str(target),
                    f"a TLS {probe.version.value}-only handshake succeeded ({probe.detail}); "
                    f"the minimum is TLS {minimum.value}: remove TLSv{probe.version.value} "
                    "from the server's protocols",
                )
            )
    if not any(p.accepted for p in probes if p not in below):
        outcome.findings.append(
            catalog.TLS_VERSION.finding(
                str(target), f"no handshake at TLS {minimum.value} or later succeeded"
            )
        )
    return outcome


# -- certificate --------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    names: tuple[str, ...]
    sha256: str

    def days_left(self, now: dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86_400

    def summary(self, now: dt.datetime) -> dict[str, object]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_after": self.not_after.isoformat(),
            "days_left": round(self.days_left(now), 1),
            "names": list(self.names),
            "sha256": self.sha256,
        }


def fetch_certificate(target: TlsTarget) -> CertificateInfo:
    """The server's leaf certificate, read without verifying it (so even an expired or
    untrusted one can be described). Raises OSError when no handshake is possible."""
    _, der = _handshake(target, _unverified_context())
    if not der:
        raise OSError(f"{target} sent no certificate")
    return describe_certificate(der)


def describe_certificate(der: bytes) -> CertificateInfo:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(
            [str(n) for n in san.get_values_for_type(x509.DNSName)]
            + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        )
    except x509.ExtensionNotFound:
        names = ()
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        names=names,
        sha256=hashlib.sha256(der).hexdigest(),
    )


def expiry(info: CertificateInfo, min_days: int, now: dt.datetime, subject: str) -> Outcome:
    """The certificate is valid now and for more than ``min_days`` days."""
    outcome = Outcome(observed=[info.summary(now)])
    left = info.days_left(now)
    date = info.not_after.strftime("%Y-%m-%d %H:%M UTC")
    if left <= 0:
        message = f"the certificate expired on {date}"
    elif left <= min_days:
        message = f"the certificate expires on {date}, in {left:.1f} days; renew it (the profile wants more than {min_days} days left)"
    elif info.not_before > now:
        message = f"the certificate is not valid before {info.not_before:%Y-%m-%d %H:%M UTC}"
    else:
        return outcome
    outcome.findings.append(catalog.TLS_EXPIRY.finding(subject, message))
    return outcome


def certificate_expiry(target: TlsTarget, min_days: int, now: dt.datetime | None = None) -> Outcome:
    moment = now or dt.datetime.now(dt.UTC)
    try:
        info = fetch_certificate(target)
    except (OSError, ssl.SSLError) as exc:
        return Outcome(
            findings=[
                catalog.TLS_EXPIRY.finding(str(target), f"could not read the certificate: {exc}")
            ]
        )
    return expiry(info, min_days, moment, f"certificate of {target} ({info.subject})")


def trust(target: TlsTarget, ca_file: str | None) -> Outcome:
    """A verifying handshake succeeds: chain trusted (by ``ca_file``, else the system store)
    and the certificate names ``target.server_name``."""
    outcome = Outcome()
    context = ssl.create_default_context(cafile=ca_file)
    anchor = f"CA file {ca_file}" if ca_file else "the system trust store"
    try:
        negotiated, _ = _handshake(target, context)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or str(exc)
        hint = (
            "the certificate does not name this host"
            if exc.verify_code == 62  # X509_V_ERR_HOSTNAME_MISMATCH
            else f"the chain does not verify against {anchor}"
        )
        outcome.findings.append(
            catalog.TLS_TRUST.finding(
                f"{target} as {target.server_name}", f"verification failed: {reason} ({hint})"
            )
        )
        outcome.observed.append({"verified": False, "reason": reason, "trust": anchor})
        return outcome
    except (OSError, ssl.SSLError) as exc:
        outcome.findings.append(
            catalog.TLS_TRUST.finding(str(target), f"no verifying handshake possible: {exc}")
        )
        return outcome
    outcome.observed.append(
        {
            "verified": True,
            "version": negotiated,
            "server_name": target.server_name,
            "trust": anchor,
        }
    )
    return outcome


# -- plain HTTP ---------------------------------------------------------------------------


def http_redirect(http_url: str, *, timeout: float = 5.0) -> Outcome:
    """A plain-HTTP request is redirected to an https:// location (not served)."""
    outcome = Outcome()
    # A bare client: the profile's headers (API keys) must never travel over plain HTTP.
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        try:
            response = client.get(http_url)
        except httpx.HTTPError as exc:
            outcome.observed.append({"request": f"GET {http_url}", "error": describe_error(exc)})
            outcome.findings.append(
                catalog.TLS_REDIRECT.finding(
                    http_url,
                    f"no answer over plain HTTP ({describe_error(exc)}); expected a redirect to "
                    "https:// (or set [http.expect.tls] check_redirect = false if port 80 is "
                    "closed on purpose)",
                )
            )
            return outcome
    location = response.headers.get("location", "")
    outcome.observed.append(
        {"request": f"GET {http_url}", "status": response.status_code, "location": location}
    )
    if response.status_code not in REDIRECTS or not location.lower().startswith("https://"):
        outcome.findings.append(
            catalog.TLS_REDIRECT.finding(
                http_url,
                f"answered {response.status_code}"
                + (f" to {location}" if location else "")
                + "; expected a 301/308 redirect to https://",
            )
        )
    return outcome


def default_http_url(base_url: str) -> str:
    """``base_url`` moved to plain HTTP on port 80."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}/"
