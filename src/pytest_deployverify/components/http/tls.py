"""TLS of the gateway, with the standard library: the versions it accepts, its certificate, a
verifying handshake, and the plain-HTTP redirect.

Each reader asks for the component's client first, so a gateway that does not answer costs its
one timeout there and no handshake is attempted. The certificate is read with verification off,
so an expired or untrusted certificate can still be reported with its dates; trust is judged by a
separate, verifying handshake. ``cryptography`` (to read the certificate) and httpx are imported
inside functions.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
import warnings
from functools import partial

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.checks.http.expectations import TlsVersion
from pytest_deployverify.checks.http.tls import (
    ORDER,
    CertificateInfo,
    CertificateProbe,
    RedirectProbe,
    TlsTarget,
    TlsVersions,
    TrustProbe,
    VersionProbe,
    default_http_url,
)
from pytest_deployverify.components.base import ReadContext
from pytest_deployverify.components.http.client import concurrently, describe_error, recorded
from pytest_deployverify.components.http.config import HttpConfig

VERSIONS: dict[TlsVersion, ssl.TLSVersion] = {
    TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}
# Raised by our own OpenSSL before anything is sent: the version cannot be tested from here.
_LOCAL_REASONS = {"NO_PROTOCOLS_AVAILABLE", "UNSUPPORTED_PROTOCOL", "NO_CIPHERS_AVAILABLE"}
HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH


def _handshake(target: TlsTarget, context: ssl.SSLContext) -> tuple[str | None, bytes | None]:
    """(negotiated version, peer certificate DER)."""
    with (
        socket.create_connection((target.host, target.port), timeout=target.timeout) as raw,
        context.wrap_socket(raw, server_hostname=target.server_name) as tls,
    ):
        return tls.version(), tls.getpeercert(binary_form=True)


# A client certificate to present (mutual TLS): (certificate file, key file or None).
ClientCert = tuple[str, str | None] | None


def _unverified_context(client_cert: ClientCert = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return _present(context, client_cert)


def _present(context: ssl.SSLContext, client_cert: ClientCert) -> ssl.SSLContext:
    """A server that asks for a client certificate refuses a handshake without one: present the
    profile's, so versions, certificate and trust are judged as the service's clients see them."""
    if client_cert is not None:
        context.load_cert_chain(*client_cert)
    return context


def client_cert_of(section: HttpConfig) -> ClientCert:
    cert = section.expect.auth.client_cert
    return (cert.cert_file, cert.key_file) if cert is not None else None


# -- the target -------------------------------------------------------------------------------


def tls_target(ctx: ReadContext) -> tuple[TlsTarget | None, str | None]:
    """The gateway's TLS endpoint, or (None, why not) when the base URL is plain HTTP although
    TLS is required; not applicable when it is plain HTTP and TLS is not required."""
    ctx.client  # noqa: B018 - an unreachable gateway fails here, once, with its own message
    section: HttpConfig = ctx.section
    if not section.https:
        if section.expect.tls.required:
            return None, f"base_url {section.base_url.display} is not HTTPS"
        raise NotApplicable(
            f"base_url {section.base_url.display} is plain HTTP and [http.expect.tls] "
            "required = false"
        )
    target = TlsTarget.from_url(
        section.base_url.get(), server_name=section.expect.tls.server_name, timeout=section.timeout
    )
    return target, None


# -- protocol versions --------------------------------------------------------------------


def probe_version(
    target: TlsTarget, version: TlsVersion, client_cert: ClientCert = None
) -> VersionProbe:
    """Offer exactly ``version`` and see whether the server completes the handshake."""
    context = _unverified_context(client_cert)
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


def probe_versions(target: TlsTarget, client_cert: ClientCert = None) -> TlsVersions:
    """A handshake offering exactly each version, side by side."""
    probes = concurrently(
        [partial(probe_version, target, version, client_cert) for version in ORDER]
    )
    return TlsVersions(str(target), tuple(probes))


def read_tls_versions(ctx: ReadContext) -> TlsVersions:
    target, plain = tls_target(ctx)
    if target is None:
        return TlsVersions(ctx.section.base_url.display, plain_http=plain)
    return probe_versions(target, client_cert_of(ctx.section))


# -- certificate --------------------------------------------------------------------------


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


def fetch_certificate(target: TlsTarget, client_cert: ClientCert = None) -> CertificateInfo:
    """The server's leaf certificate, read without verifying it (so even an expired or
    untrusted one can be described). Raises OSError when no handshake is possible."""
    _, der = _handshake(target, _unverified_context(client_cert))
    if not der:
        raise OSError(f"{target} sent no certificate")
    return describe_certificate(der)


def read_certificate_of(target: TlsTarget, client_cert: ClientCert = None) -> CertificateProbe:
    try:
        return CertificateProbe(str(target), fetch_certificate(target, client_cert))
    except (OSError, ssl.SSLError) as exc:
        return CertificateProbe(str(target), problem=str(exc))


def read_certificate(ctx: ReadContext) -> CertificateProbe:
    target, plain = tls_target(ctx)
    if target is None:
        return CertificateProbe(ctx.section.base_url.display, plain_http=plain)
    return read_certificate_of(target, client_cert_of(ctx.section))


# -- trust ----------------------------------------------------------------------------------


def verify_trust(
    target: TlsTarget, ca_file: str | None, client_cert: ClientCert = None
) -> TrustProbe:
    """A verifying handshake: chain trusted (by ``ca_file``, else the system store) and the
    certificate names ``target.server_name``."""
    context = _present(ssl.create_default_context(cafile=ca_file), client_cert)
    anchor = f"CA file {ca_file}" if ca_file else "the system trust store"
    probe = partial(TrustProbe, str(target), target.server_name, anchor)
    try:
        negotiated, _ = _handshake(target, context)
    except ssl.SSLCertVerificationError as exc:
        return probe(
            reason=exc.verify_message or str(exc),
            hostname_mismatch=exc.verify_code == HOSTNAME_MISMATCH,
        )
    except (OSError, ssl.SSLError) as exc:
        return probe(problem=str(exc))
    return probe(verified=True, version=negotiated)


def read_tls_trust(ctx: ReadContext) -> TrustProbe:
    target, plain = tls_target(ctx)
    section: HttpConfig = ctx.section
    if target is None:
        display = section.base_url.display
        return TrustProbe(display, display, "", plain_http=plain)
    return verify_trust(target, section.ca_file, client_cert_of(section))


# -- plain HTTP ---------------------------------------------------------------------------


def probe_redirect(url: str, *, timeout: float = 5.0, shown: str | None = None) -> RedirectProbe:
    """GET ``url`` over plain HTTP with a bare client: the profile's headers (API keys) must
    never travel over plain HTTP."""
    import httpx

    label = shown or url
    started = time.perf_counter()
    note = "edge: plain-HTTP redirect"
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        try:
            response = client.get(url)
            response.read()
        except httpx.HTTPError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            return RedirectProbe(
                label, Exchange("GET", label, None, describe_error(exc), elapsed, note=note)
            )
    elapsed = (time.perf_counter() - started) * 1000
    return RedirectProbe(label, recorded("GET", label, response, elapsed, note))


def read_redirect(ctx: ReadContext) -> RedirectProbe:
    section: HttpConfig = ctx.section
    cfg = section.expect.tls
    if not cfg.check_redirect:
        raise NotApplicable("[http.expect.tls] check_redirect = false")
    target, plain = tls_target(ctx)
    if cfg.http_url is not None:
        url, shown = cfg.http_url.get(), cfg.http_url.display
    else:
        url = shown = default_http_url(section.base_url.get())
    if target is None:
        return RedirectProbe(shown, plain_http=plain)
    return probe_redirect(url, timeout=section.timeout, shown=shown)
