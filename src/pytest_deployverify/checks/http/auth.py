"""Authentication: protected routes refuse anonymous calls, token flows work, forged tokens fail,
and a wrong credential of the configured style (API key, basic, client certificate, bearer) is
refused.

The component sends the requests (``components.http.auth``) and records them here as plain data;
the functions below judge them. A token, key or password is a ``Secret``: it never shows in a
repr, a message or evidence.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.findings import Finding, NotApplicable, Rule
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.exchange import Exchange, Route, has_params
from pytest_deployverify.checks.http.expectations import AuthExpectations
from pytest_deployverify.checks.http.openapi import RoutePlan, operations
from pytest_deployverify.profile.secrets import Secret

REJECTED = (401, 403)
AUTHORIZATION = "Authorization"
NOT_SENT = "not sent: may change state"
NO_CREDENTIAL = (
    "no credential configured: set [http.expect.auth] api_key, basic, client_cert, "
    "login_path and login, or token_url, client_id and client_secret"
)
# A transport error that means the TLS layer refused the client (no or an untrusted certificate):
# an alert, or (TLS 1.3, where the server judges the certificate after the handshake) the
# connection closed before any answer.
_TLS_REFUSAL = re.compile(r"ssl|tls|certificate|alert|handshake|disconnected", re.IGNORECASE)
NO_TOKEN_FLOW = (
    "no token flow configured: set [http.expect.auth] login_path and login, "
    "or token_url, client_id and client_secret"
)
NO_PROBE_PATHS = "no protected GET route to probe: set [http.expect.auth] probe_paths"
NO_KEY = (
    "needs a token the service would otherwise accept: set [http.expect.auth] "
    "jwt_signing_key (a test environment's signing key) to run this probe"
)


def observed(exchange: Exchange) -> str:
    """How a probe was answered, for messages."""
    if exchange.status is None:
        return f"got no answer ({exchange.error})"
    if exchange.status == 429:
        return "was rate limited (429), so authentication could not be verified"
    return f"answered {exchange.status}"


# -- routes without a token ---------------------------------------------------------------


def refused_at_tls(exchange: Exchange) -> bool:
    """No answer because the TLS layer refused the client (mutual TLS without, or with an
    untrusted, client certificate)."""
    return exchange.status is None and bool(_TLS_REFUSAL.search(exchange.error or ""))


@dataclass(frozen=True)
class AnonymousProbe:
    """The protected routes asked without any credential (safe methods only; the others
    listed): no Authorization, no API key, none of ``[http] headers``, no client certificate."""

    plan: RoutePlan
    sent: tuple[tuple[Route, Exchange], ...] = ()
    not_sent: tuple[Route, ...] = ()
    source: str = ""  # where the routes came from
    # The service asks for a client certificate: a handshake refused without one is a refusal.
    client_cert: bool = False
    dropped: tuple[str, ...] = ()  # the credential headers left out of every request

    def summary(self) -> list[dict[str, Any]]:
        shown: list[dict[str, Any]] = [
            {"request": str(route), "note": NOT_SENT} for route in self.not_sent
        ]
        return shown + [exchange.summary() for _, exchange in self.sent]


def unauthenticated_findings(probe: AnonymousProbe, expected: Sequence[int]) -> list[Finding]:
    """Every protected route answered ``expected`` (401) without a token, and no operation is
    public without the profile saying so. Not applicable when nothing is protected."""
    found = [
        catalog.AUTH_REQUIRED(
            str(route),
            "the OpenAPI document declares no security for this operation and the profile "
            "does not list it in public_routes; declare its security or list it as public",
        )
        for route in probe.plan.undeclared_public
    ]
    if not probe.plan.protected and not found:
        raise NotApplicable(
            "no protected routes to probe: the OpenAPI document declares no secured operations "
            "and [http.expect] protected_routes is empty"
        )
    for route, exchange in probe.sent:
        if exchange.status in expected or (probe.client_cert and refused_at_tls(exchange)):
            continue
        refusal = " or a TLS refusal (no client certificate)" if probe.client_cert else ""
        found.append(
            catalog.AUTH_REQUIRED(
                str(route),
                f"without a token {exchange.target} {observed(exchange)}; expected "
                f"{' or '.join(map(str, expected))}{refusal}",
            )
        )
    return found


def probe_paths(auth: AuthExpectations, document: Mapping[str, Any] | None) -> list[str]:
    """Protected GET routes a valid token must open: the profile's, else the document's
    secured GET operations without path parameters."""
    if auth.probe_paths:
        return list(auth.probe_paths)
    if not document:
        return []
    return [
        op.route.path
        for op in operations(document)
        if op.secured and op.route.method == "GET" and not has_params(op.route.path)
    ]


# -- obtaining a token --------------------------------------------------------------------


@dataclass(frozen=True)
class TokenResult:
    """A token flow's answer: the token (a secret), or why there is none."""

    flow: str  # "login" or "client-credentials"
    exchange: Exchange
    token: Secret | None = None
    problem: str | None = None

    def summary(self) -> dict[str, object]:
        data = {"flow": self.flow, **self.exchange.summary()}
        data["token_received"] = self.token is not None
        if self.problem:
            data["problem"] = self.problem
        return data


def token_from(exchange: Exchange, token_field: str, flow: str) -> TokenResult:
    """The token is the answer's ``token_field``; the body is dropped once it is taken out."""
    if exchange.status != 200:
        return TokenResult(
            flow, exchange, None, f"{exchange.request} answered {exchange.shown()}; expected 200"
        )
    body = exchange.json()
    token = body.get(token_field) if isinstance(body, dict) else None
    kept = dataclasses.replace(exchange, body="")  # the body holds the token
    if not isinstance(token, str) or not token:
        return TokenResult(flow, kept, None, f"the answer has no {token_field!r} string")
    return TokenResult(flow, kept, Secret(token))


@dataclass(frozen=True)
class TokenFlowProbe:
    """One token flow, and the protected paths asked with the token it yielded."""

    result: TokenResult
    paths: tuple[str, ...] = ()
    exchanges: tuple[Exchange, ...] = ()

    def summary(self) -> list[dict[str, object]]:
        return [self.result.summary(), *(e.summary() for e in self.exchanges)]


@dataclass(frozen=True)
class TokenFlows:
    """Each configured flow's probe; the others with the reason they do not apply."""

    probes: Mapping[str, TokenFlowProbe] = field(default_factory=dict)
    not_configured: Mapping[str, str] = field(default_factory=dict)

    def probe(self, flow: str) -> TokenFlowProbe:
        """The flow's probe; ``NotApplicable`` (naming the keys to set) when not configured."""
        if flow not in self.probes:
            raise NotApplicable(self.not_configured.get(flow, f"token flow {flow} not configured"))
        return self.probes[flow]


def token_flow_findings(probe: TokenFlowProbe, rule: Rule) -> list[Finding]:
    """The flow yielded a token, and every protected probe path accepted it (2xx)."""
    result = probe.result
    if result.token is None:
        return [rule(result.exchange.target, str(result.problem))]
    if not probe.paths:
        return [
            rule(
                "probe paths",
                "no protected GET route to try the token on: set [http.expect.auth] probe_paths",
            )
        ]
    return [
        rule(exchange.target, f"with the new token {observed(exchange)}; expected 2xx")
        for exchange in probe.exchanges
        if not exchange.ok
    ]


# -- the verifier's credential ----------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    """How the verifier's authenticated probes authenticate: the headers they send (secrets) and
    whether the client presents a certificate; ``problem`` says why there is none (a token flow
    that failed)."""

    style: str  # "bearer (login)", "bearer (client-credentials)", "api-key", "basic", "client-cert"
    headers: Mapping[str, Secret] = field(default_factory=dict)
    certificate: bool = False
    token: TokenResult | None = None
    problem: str | None = None

    def header_values(self) -> dict[str, str]:
        return {name: value.get() for name, value in self.headers.items()}

    def summary(self) -> dict[str, object]:
        data: dict[str, object] = {
            "style": self.style,
            "headers": sorted(self.headers),
            "client_certificate": self.certificate,
        }
        if self.problem:
            data["problem"] = self.problem
        return data


def basic_value(username: str, password: Secret) -> Secret:
    """The ``Authorization`` value of HTTP basic authentication (RFC 7617)."""
    pair = f"{username}:{password.get()}".encode()
    return Secret("Basic " + base64.b64encode(pair).decode("ascii"))


def bearer_value(token: Secret) -> Secret:
    return Secret(f"Bearer {token.get()}")


def style_headers(
    auth: AuthExpectations, style: str, token: TokenResult | None
) -> dict[str, Secret]:
    """The headers that carry one credential style (none for a client certificate)."""
    if style == "bearer" and token is not None and token.token is not None:
        return {AUTHORIZATION: bearer_value(token.token)}
    if style == "api-key" and auth.api_key is not None:
        return {auth.api_key.header: auth.api_key.key}
    if style == "basic" and auth.basic is not None:
        return {AUTHORIZATION: basic_value(auth.basic.username, auth.basic.password)}
    return {}


def credential_for(auth: AuthExpectations, token: TokenResult | None) -> Credential | None:
    """The credential authenticated probes use: the token (login, else client credentials),
    else the API key, else basic; a configured client certificate is presented with any of
    them. None when the profile configures none."""
    certificate = auth.client_cert is not None
    styles = [style for style in auth.styles if style != "client-cert"]
    if not styles:
        return Credential("client-cert", certificate=True) if certificate else None
    style = styles[0]
    if style == "bearer":
        assert token is not None  # a token flow is configured: the reader obtained one
        name = f"bearer ({token.flow})"
        if token.token is None:
            return Credential(name, certificate=certificate, token=token, problem=token.problem)
        return Credential(name, style_headers(auth, style, token), certificate, token)
    return Credential(style, style_headers(auth, style, token), certificate)


def credential_headers(auth: AuthExpectations, static: Sequence[str] = ()) -> tuple[str, ...]:
    """Every header that may carry a credential: what anonymous probes leave out."""
    names = [AUTHORIZATION, *static]
    if auth.api_key is not None:
        names.append(auth.api_key.header)
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class WrongCredentialProbe:
    """One credential style sent right and then wrong, on a route that refuses anonymous
    requests and accepts the verifier's credential."""

    style: str
    change: str  # what was wrong about the credential sent
    valid: Exchange | None = None  # the style's right credential
    wrong: Exchange | None = None

    def summary(self) -> list[dict[str, object]]:
        return [e.summary() for e in (self.valid, self.wrong) if e is not None]


@dataclass(frozen=True)
class WrongCredentials:
    """The route that tells valid from missing credentials (with the requests that chose it),
    and each configured style sent wrong there."""

    paths: tuple[str, ...] = ()
    path: str | None = None
    baseline: tuple[Exchange, ...] = ()
    probes: tuple[WrongCredentialProbe, ...] = ()
    credential_problem: str | None = None

    def summary(self) -> list[dict[str, object]]:
        shown = [e.summary() for e in self.baseline]
        for probe in self.probes:
            shown += probe.summary()
        return shown


def wrong_credential_findings(seen: WrongCredentials) -> list[Finding]:
    """Every configured style, sent wrong, was refused (401/403, or the TLS handshake for a
    client certificate no CA of the service signed); sent right, it was accepted."""
    rule = catalog.WRONG_CREDENTIAL
    if seen.credential_problem is not None:
        return [rule("credential", f"could not obtain a credential: {seen.credential_problem}")]
    if seen.path is None:
        return [
            rule(
                ", ".join(seen.paths) or "probe paths",
                "no route both refuses anonymous requests and accepts the verifier's credential, "
                "so wrong credentials cannot be judged; set [http.expect.auth] probe_paths to a "
                "protected GET route",
            )
        ]
    found = []
    for probe in seen.probes:
        if probe.valid is not None and not probe.valid.ok:
            found.append(
                rule(
                    f"{seen.path} ({probe.style})",
                    f"the configured {probe.style} credential was not accepted: "
                    f"{observed(probe.valid)}; expected 2xx (is the profile's credential right?)",
                )
            )
        wrong = probe.wrong
        if wrong is None or wrong.status in REJECTED:
            continue
        if probe.style == "client-cert" and refused_at_tls(wrong):
            continue  # the TLS layer refused the certificate: the strongest refusal there is
        if wrong.ok:
            message = f"ACCEPTED a wrong credential ({probe.change}): answered {wrong.status}"
        else:
            message = f"a wrong credential ({probe.change}) {observed(wrong)}; expected 401 or 403"
        found.append(rule(f"{seen.path} ({probe.style})", message))
    return found


# -- forged tokens ------------------------------------------------------------------------


@dataclass(frozen=True)
class ForgeryProbe:
    """Tokens forged as one variant, sent to a route that tells valid from invalid tokens.

    ``baseline`` holds the requests (no token, a valid token) that chose ``path``; without such
    a route a refusal, or an acceptance, would prove nothing."""

    variant: str
    paths: tuple[str, ...] = ()
    keyed: bool = False
    not_applicable: str | None = None
    token_problem: str | None = None
    baseline: tuple[Exchange, ...] = ()
    path: str | None = None
    forged: tuple[Exchange, ...] = ()  # each one's note says what was forged

    def summary(self) -> list[dict[str, object]]:
        return [e.summary() for e in (*self.baseline, *self.forged)]


@dataclass(frozen=True)
class Forgeries:
    probes: Mapping[str, ForgeryProbe] = field(default_factory=dict)

    def probe(self, variant: str) -> ForgeryProbe:
        return self.probes[variant]


def forgery_findings(probe: ForgeryProbe) -> list[Finding]:
    """Every forged token was refused (401/403) on a route that accepts the genuine one."""
    rule = catalog.JWT_RULES[probe.variant]
    if probe.not_applicable is not None:
        raise NotApplicable(probe.not_applicable)
    if probe.token_problem is not None:
        return [rule("token", f"could not obtain a token: {probe.token_problem}")]
    if probe.path is None:
        why = (
            "the claims re-signed with jwt_signing_key were accepted nowhere (is it the "
            "service's key, and jwt_algorithm its algorithm?)"
            if probe.keyed
            else "the genuine token was accepted nowhere"
        )
        return [
            rule(
                ", ".join(probe.paths) or "probe paths",
                "no route both refuses anonymous requests and accepts a valid token, so the "
                f"forged tokens cannot be judged: {why}",
            )
        ]
    found = []
    for exchange in probe.forged:
        if exchange.status in REJECTED:
            continue
        if exchange.ok:
            message = f"ACCEPTED a forged token ({exchange.note}): answered {exchange.status}"
        else:
            message = f"a forged token ({exchange.note}) {observed(exchange)}; expected 401"
        found.append(rule(probe.path, message))
    return found


def discriminates(anonymous: Exchange, valid: Exchange) -> bool:
    """The route refused the anonymous request and accepted the valid token."""
    return anonymous.status in REJECTED and valid.ok
