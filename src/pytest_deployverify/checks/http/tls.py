"""TLS of the public endpoint: protocol versions, trust, expiry, and the plain-HTTP redirect.

The component does the handshakes (``components.http.tls``) and records what they showed; the
functions below judge it. When the base URL is plain HTTP although the profile requires TLS,
each snapshot carries ``plain_http`` and each check fails saying so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from pytest_deployverify.checks.findings import Finding, Rule
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.checks.http.expectations import TlsVersion

ORDER = list(TlsVersion)
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


def not_https(rule: Rule, subject: str, problem: str) -> list[Finding]:
    return [
        rule(
            subject,
            f"{problem}; the checklist requires TLS (set [http.expect.tls] required = false "
            "only for a non-production target)",
        )
    ]


# -- protocol versions --------------------------------------------------------------------


@dataclass(frozen=True)
class VersionProbe:
    version: TlsVersion
    accepted: bool | None  # None: our own OpenSSL cannot offer this version
    detail: str


@dataclass(frozen=True)
class TlsVersions:
    """A handshake offering exactly each version, in order."""

    target: str
    probes: tuple[VersionProbe, ...] = ()
    plain_http: str | None = None

    def summary(self) -> list[dict[str, object]]:
        return [
            {"version": p.version.value, "accepted": p.accepted, "detail": p.detail}
            for p in self.probes
        ]


def min_version_findings(seen: TlsVersions, minimum: TlsVersion) -> list[Finding]:
    """Every version below ``minimum`` was refused, and ``minimum`` or a later one accepted."""
    if seen.plain_http:
        return not_https(catalog.TLS_VERSION, seen.target, seen.plain_http)
    found: list[Finding] = []
    below = [p for p in seen.probes if ORDER.index(p.version) < ORDER.index(minimum)]
    for probe in below:
        if probe.accepted:
            found.append(
                catalog.TLS_VERSION(
                    seen.target,
                    f"a TLS {probe.version.value}-only handshake succeeded ({probe.detail}); "
                    f"the minimum is TLS {minimum.value}: remove TLSv{probe.version.value} "
                    "from the server's protocols",
                )
            )
    if not any(p.accepted for p in seen.probes if p not in below):
        found.append(
            catalog.TLS_VERSION(
                seen.target, f"no handshake at TLS {minimum.value} or later succeeded"
            )
        )
    return found


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


@dataclass(frozen=True)
class CertificateProbe:
    """The server's leaf certificate, read without verifying it, or why it could not be read."""

    target: str
    info: CertificateInfo | None = None
    problem: str | None = None
    plain_http: str | None = None


def expiry_findings(
    info: CertificateInfo, min_days: int, now: dt.datetime, subject: str
) -> list[Finding]:
    """The certificate is valid now and for more than ``min_days`` days."""
    left = info.days_left(now)
    date = info.not_after.strftime("%Y-%m-%d %H:%M UTC")
    if left <= 0:
        message = f"the certificate expired on {date}"
    elif left <= min_days:
        message = (
            f"the certificate expires on {date}, in {left:.1f} days; renew it (the profile "
            f"wants more than {min_days} days left)"
        )
    elif info.not_before > now:
        message = f"the certificate is not valid before {info.not_before:%Y-%m-%d %H:%M UTC}"
    else:
        return []
    return [catalog.TLS_EXPIRY(subject, message)]


def certificate_findings(probe: CertificateProbe, min_days: int, now: dt.datetime) -> list[Finding]:
    if probe.plain_http:
        return not_https(catalog.TLS_EXPIRY, probe.target, probe.plain_http)
    if probe.info is None:
        return [
            catalog.TLS_EXPIRY(probe.target, f"could not read the certificate: {probe.problem}")
        ]
    return expiry_findings(
        probe.info, min_days, now, f"certificate of {probe.target} ({probe.info.subject})"
    )


# -- trust ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustProbe:
    """A verifying handshake: trusted by ``anchor`` and naming ``server_name``, or why not."""

    target: str
    server_name: str
    anchor: str  # "CA file ..." or "the system trust store"
    verified: bool = False
    version: str | None = None
    reason: str | None = None  # the verification error
    hostname_mismatch: bool = False
    problem: str | None = None  # no verifying handshake possible at all
    plain_http: str | None = None

    def summary(self) -> dict[str, object]:
        if self.verified:
            return {
                "verified": True,
                "version": self.version,
                "server_name": self.server_name,
                "trust": self.anchor,
            }
        return {"verified": False, "reason": self.reason or self.problem, "trust": self.anchor}


def trust_findings(probe: TrustProbe) -> list[Finding]:
    """The chain verified against the trust anchor and the certificate named the host."""
    if probe.plain_http:
        return not_https(catalog.TLS_TRUST, probe.target, probe.plain_http)
    if probe.verified:
        return []
    if probe.reason is not None:
        hint = (
            "the certificate does not name this host"
            if probe.hostname_mismatch
            else f"the chain does not verify against {probe.anchor}"
        )
        return [
            catalog.TLS_TRUST(
                f"{probe.target} as {probe.server_name}",
                f"verification failed: {probe.reason} ({hint})",
            )
        ]
    return [catalog.TLS_TRUST(probe.target, f"no verifying handshake possible: {probe.problem}")]


# -- plain HTTP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RedirectProbe:
    """A plain-HTTP request to the public host (without the profile's headers)."""

    target: str
    exchange: Exchange | None = None
    plain_http: str | None = None

    def summary(self) -> dict[str, object]:
        if self.exchange is None:
            return {"request": f"GET {self.target}", "plain_http": self.plain_http}
        return {**self.exchange.summary(), "location": self.exchange.header("location")}


def redirect_findings(probe: RedirectProbe) -> list[Finding]:
    """A plain-HTTP request was redirected to an https:// location (not served)."""
    if probe.plain_http or probe.exchange is None:
        return not_https(catalog.TLS_REDIRECT, probe.target, str(probe.plain_http))
    exchange = probe.exchange
    url = exchange.target
    if exchange.status is None:
        return [
            catalog.TLS_REDIRECT(
                url,
                f"no answer over plain HTTP ({exchange.error}); expected a redirect to "
                "https:// (or set [http.expect.tls] check_redirect = false if port 80 is "
                "closed on purpose)",
            )
        ]
    location = exchange.header("location") or ""
    if exchange.status not in REDIRECTS or not location.lower().startswith("https://"):
        return [
            catalog.TLS_REDIRECT(
                url,
                f"answered {exchange.status}"
                + (f" to {location}" if location else "")
                + "; expected a 301/308 redirect to https://",
            )
        ]
    return []


def default_http_url(base_url: str) -> str:
    """``base_url`` moved to plain HTTP on port 80."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}/"
