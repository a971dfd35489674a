"""Token flows and the probes that need a credential: flows, forged tokens, wrong credentials,
tenants, internal headers.

The verifier's credential (``read_credential``) is whichever the profile configures: the token of a
login or client-credentials flow, else an API key, else HTTP basic, with a client certificate
presented by the client itself. A token obtained here is a ``Secret``: it is sent, never shown. The
login body is dropped once the token is taken out of it (``checks.http.auth.token_from``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import ssl
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.http import jwt_forge
from pytest_deployverify.checks.http.auth import (
    AUTHORIZATION,
    NO_CREDENTIAL,
    NO_KEY,
    NO_PROBE_PATHS,
    NO_TOKEN_FLOW,
    Credential,
    Forgeries,
    ForgeryProbe,
    TokenFlowProbe,
    TokenFlows,
    TokenResult,
    WrongCredentialProbe,
    WrongCredentials,
    basic_value,
    credential_for,
    discriminates,
    probe_paths,
    style_headers,
    token_from,
)
from pytest_deployverify.checks.http.catalog import JWT_VARIANTS
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.checks.http.expectations import AuthExpectations, Credentials, Flow
from pytest_deployverify.checks.http.flows import FlowRun
from pytest_deployverify.checks.http.headers import InternalHeaders, InternalProbe
from pytest_deployverify.checks.http.tenants import CrossRead, SpoofRead, TenantLogin, TenantProbe
from pytest_deployverify.components.base import ReadContext
from pytest_deployverify.components.http.client import (
    anonymous_strip,
    bare,
    bare_client,
    bearer,
    concurrently,
    send,
    tls_context,
)
from pytest_deployverify.components.http.probes import openapi_document
from pytest_deployverify.profile.secrets import Secret

if TYPE_CHECKING:
    import httpx

    from pytest_deployverify.components.http.config import HttpConfig


# -- obtaining a token --------------------------------------------------------------------


def login(
    client: httpx.Client,
    path: str,
    credentials: Credentials,
    *,
    username_field: str = "email",
    password_field: str = "password",
    token_field: str = "access_token",
) -> TokenResult:
    """POST the credentials as JSON; the token is ``token_field`` of the answer."""
    body = {username_field: credentials.username, password_field: credentials.password.get()}
    exchange = send(client, "POST", path, json=body, strip=(AUTHORIZATION,))
    return token_from(exchange, token_field, "login")


def client_credentials(
    client: httpx.Client,
    token_url: str,
    client_id: str,
    client_secret: Secret,
    *,
    token_field: str = "access_token",
) -> TokenResult:
    """OAuth 2.0 client-credentials grant (RFC 6749 4.4) with HTTP Basic client authentication,
    the method every authorization server must support (2.3.1)."""
    import httpx

    exchange = send(
        client,
        "POST",
        token_url,
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth(client_id, client_secret.get()),
        strip=(AUTHORIZATION,),
    )
    return token_from(exchange, token_field, "client-credentials")


def login_with(client: httpx.Client, auth: AuthExpectations, account: Credentials) -> TokenResult:
    """``login`` through the profile's login path and field names."""
    assert auth.login_path is not None
    return login(
        client,
        auth.login_path,
        account,
        username_field=auth.username_field,
        password_field=auth.password_field,
        token_field=auth.token_field,
    )


def token_for(
    client: httpx.Client,
    auth: AuthExpectations,
    *,
    account: Credentials | None = None,
    client_id: str | None = None,
    client_secret: Secret | None = None,
) -> TokenResult | None:
    """A token for the given account through the profile's login path (preferred) or token
    URL; None when the account or the matching endpoint is not configured."""
    if account is not None and auth.login_path is not None:
        return login_with(client, auth, account)
    if client_id is not None and client_secret is not None and auth.token_url is not None:
        return client_credentials(
            client, auth.token_url, client_id, client_secret, token_field=auth.token_field
        )
    return None


def obtain_token(client: httpx.Client, auth: AuthExpectations) -> TokenResult | None:
    """A token by the login flow if configured, else by client credentials; None if neither."""
    return token_for(
        client, auth, account=auth.login, client_id=auth.client_id, client_secret=auth.client_secret
    )


def read_token(ctx: ReadContext) -> TokenResult | None:
    """The verifier's token (login, else client credentials); None when no flow is configured."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    return obtain_token(client, section.expect.auth)


def _token(ctx: ReadContext) -> TokenResult:
    """The verifier's token result; not applicable without a token flow."""
    result: TokenResult | None = ctx.read("http.token")
    if result is None:
        raise NotApplicable(NO_TOKEN_FLOW)
    return result


def read_probe_paths(ctx: ReadContext) -> tuple[str, ...]:
    """Protected GET routes a valid token must open (the profile's, else the document's)."""
    section: HttpConfig = ctx.section
    auth = section.expect.auth
    document = None if auth.probe_paths else openapi_document(ctx)
    return tuple(probe_paths(auth, document))


def read_credential(ctx: ReadContext) -> Credential | None:
    """The credential the authenticated probes use (None: the profile configures none)."""
    section: HttpConfig = ctx.section
    token: TokenResult | None = ctx.read("http.token")
    return credential_for(section.expect.auth, token)


def _credential(ctx: ReadContext) -> Credential:
    """The verifier's credential; not applicable when the profile configures none."""
    credential: Credential | None = ctx.read("http.credential")
    if credential is None:
        raise NotApplicable(NO_CREDENTIAL)
    return credential


def _get_with(client: httpx.Client, token: Secret, paths: Sequence[str]) -> list[Exchange]:
    return concurrently([partial(send, client, "GET", p, headers=bearer(token)) for p in paths])


# -- token flows ----------------------------------------------------------------------------


def token_flow(client: httpx.Client, result: TokenResult, paths: Sequence[str]) -> TokenFlowProbe:
    """The protected paths asked with the token a flow yielded."""
    if result.token is None:
        return TokenFlowProbe(result, tuple(paths))
    return TokenFlowProbe(result, tuple(paths), tuple(_get_with(client, result.token, paths)))


def read_token_flows(ctx: ReadContext) -> TokenFlows:
    """Each configured flow run once (the verifier's own token is reused for its flow)."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    cfg = section.expect.auth
    paths = ctx.read("http.probe_paths")
    if not paths:
        raise NotApplicable(NO_PROBE_PATHS)
    token: TokenResult | None = ctx.read("http.token")
    flows: dict[str, Callable[[], TokenResult]] = {}
    skipped: dict[str, str] = {}
    if cfg.has_login:
        assert cfg.login is not None
        flows["login"] = partial(login_with, client, cfg, cfg.login)
    else:
        skipped["login"] = "no login flow configured: set [http.expect.auth] login_path and login"
    if cfg.has_client_credentials:
        assert cfg.token_url is not None
        assert cfg.client_id is not None
        assert cfg.client_secret is not None
        flows["client-credentials"] = partial(
            client_credentials,
            client,
            cfg.token_url,
            cfg.client_id,
            cfg.client_secret,
            token_field=cfg.token_field,
        )
    else:
        skipped["client-credentials"] = (
            "no OAuth client configured: set [http.expect.auth] token_url, client_id, client_secret"
        )

    def probe(flow: str, obtain: Callable[[], TokenResult]) -> TokenFlowProbe:
        result = token if token is not None and token.flow == flow else obtain()
        return token_flow(client, result, paths)

    probes = concurrently([partial(probe, name, obtain) for name, obtain in flows.items()])
    return TokenFlows(dict(zip(flows, probes, strict=True)), skipped)


# -- forged tokens --------------------------------------------------------------------------


def read_forgeries(ctx: ReadContext) -> Forgeries:
    """Every forgery variant of the verifier's token, on the probe paths."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    if not section.expect.auth.jwt:
        raise NotApplicable("[http.expect.auth] jwt = false: the service's tokens are not JWTs")
    result = _token(ctx)
    paths: tuple[str, ...] = ctx.read("http.probe_paths")
    if not paths:
        raise NotApplicable(NO_PROBE_PATHS)
    return probe_forgeries(
        client, section.expect.auth, result, paths, strip=anonymous_strip(section)
    )


def probe_forgeries(
    client: httpx.Client,
    cfg: AuthExpectations,
    result: TokenResult,
    paths: Sequence[str],
    *,
    strip: Sequence[str] = (AUTHORIZATION,),
) -> Forgeries:
    """Every forgery variant, sent to the first of ``paths`` that refuses anonymous requests and
    accepts a valid token (the genuine one; for keyed variants the claims re-signed with the
    test key). The baseline of the first path is asked side by side, the next path only if it
    does not tell valid from invalid tokens; then every forged token side by side."""
    paths = tuple(paths)
    if result.token is None:
        return Forgeries(
            {v: ForgeryProbe(v, paths, token_problem=result.problem) for v in JWT_VARIANTS}
        )
    token = result.token.get()
    try:
        jwt_forge.parse(token)
    except jwt_forge.NotAJwt as exc:
        reason = f"the service's tokens are not JWTs ({exc}); forgery probes do not apply"
        return Forgeries({v: ForgeryProbe(v, paths, not_applicable=reason) for v in JWT_VARIANTS})
    key = cfg.jwt_signing_key.get() if cfg.jwt_signing_key else None
    control = jwt_forge.control(token, key, cfg.jwt_algorithm) if key else None
    genuine_path, control_path, genuine_seen, control_seen = _discriminating_paths(
        client, paths, token, control, strip
    )
    forged: dict[str, list[jwt_forge.Forged]] = {
        "tampered": [jwt_forge.tampered(token)],
        "alg-none": jwt_forge.alg_none(token),
    }
    if key and control_path is not None:
        for variant in jwt_forge.KEYED:
            forged[variant] = [jwt_forge.keyed_variant(variant, token, key, cfg.jwt_algorithm)]
    sends = [
        (variant, partial(send, client, "GET", path, headers=bearer(item.token), note=item.change))
        for variant, items in forged.items()
        for item in items
        if (path := genuine_path if variant in jwt_forge.KEYLESS else control_path) is not None
    ]
    answers = concurrently([call for _, call in sends])
    by_variant: dict[str, list[Exchange]] = {}
    for (variant, _), answer in zip(sends, answers, strict=True):
        by_variant.setdefault(variant, []).append(answer)
    probes = {}
    for variant in JWT_VARIANTS:
        keyed = variant in jwt_forge.KEYED
        if keyed and not key:
            probes[variant] = ForgeryProbe(variant, paths, keyed=True, not_applicable=NO_KEY)
            continue
        probes[variant] = ForgeryProbe(
            variant,
            paths,
            keyed=keyed,
            baseline=tuple(control_seen if keyed else genuine_seen),
            path=control_path if keyed else genuine_path,
            forged=tuple(by_variant.get(variant, ())),
        )
    return Forgeries(probes)


def _discriminating_paths(
    client: httpx.Client,
    paths: Sequence[str],
    token: str,
    control: str | None,
    strip: Sequence[str] = (AUTHORIZATION,),
) -> tuple[str | None, str | None, list[Exchange], list[Exchange]]:
    """The first path that refuses no token and accepts ``token`` (and ``control``), with the
    baseline requests that showed it."""
    genuine_path = control_path = None
    genuine_seen: list[Exchange] = []
    control_seen: list[Exchange] = []
    for path in paths:
        calls = [
            partial(send, bare(client), "GET", path, strip=strip, note="none (baseline)"),
            partial(send, client, "GET", path, headers=bearer(token), note="valid (baseline)"),
        ]
        if control is not None and control_path is None:
            calls.append(
                partial(
                    send,
                    client,
                    "GET",
                    path,
                    headers=bearer(control),
                    note="re-signed with the test key (baseline)",
                )
            )
        anonymous, valid, *rest = concurrently(calls)
        if genuine_path is None:
            genuine_seen += [anonymous, valid]
            if discriminates(anonymous, valid):
                genuine_path = path
        if rest:
            control_seen += [anonymous, rest[0]]
            if discriminates(anonymous, rest[0]):
                control_path = path
        if genuine_path is not None and (control is None or control_path is not None):
            break
    return genuine_path, control_path, genuine_seen, control_seen


# -- tenants --------------------------------------------------------------------------------


def read_tenants(ctx: ReadContext) -> TenantProbe:
    """Both tenants log in side by side; then B's resources are read by B and by A, and A's own
    routes asked plainly and with B's tenant in the tenant header, all side by side."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    expect = section.expect
    tenants = expect.tenants
    if tenants is None:
        raise NotApplicable(
            "no tenants configured: set [http.expect.tenants] with accounts a and b"
        )
    if expect.auth.login_path is None:
        raise NotApplicable("tenant probes log in: set [http.expect.auth] login_path")
    a, b = tenants.a, tenants.b
    result_a, result_b = concurrently(
        [partial(login_with, client, expect.auth, t.login) for t in (a, b)]
    )
    probe = TenantProbe(
        header=tenants.header,
        a=a.tenant,
        b=b.tenant,
        markers_b=b.data_markers,
        logins=(TenantLogin(a.tenant, result_a), TenantLogin(b.tenant, result_b)),
        resources=b.resources,
        own_paths=a.own_paths,
    )
    if result_a.token is None or result_b.token is None:
        return probe
    token_a, token_b = bearer(result_a.token), bearer(result_b.token)
    spoof = {**token_a, tenants.header: b.tenant}
    calls = []
    for path in b.resources:
        calls.append(partial(send, client, "GET", path, headers=token_b, note=f"as {b.tenant}"))
        calls.append(partial(send, client, "GET", path, headers=token_a, note=f"as {a.tenant}"))
    for path in a.own_paths:
        calls.append(partial(send, client, "GET", path, headers=token_a, note=f"as {a.tenant}"))
        calls.append(
            partial(
                send,
                client,
                "GET",
                path,
                headers=spoof,
                note=f"as {a.tenant} + {tenants.header}: {b.tenant}",
            )
        )
    answers = iter(concurrently(calls))
    cross = tuple(CrossRead(path, next(answers), next(answers)) for path in b.resources)
    spoofed = tuple(SpoofRead(path, next(answers), next(answers)) for path in a.own_paths)
    return dataclasses.replace(probe, cross=cross, spoof=spoofed)


# -- internal headers -----------------------------------------------------------------------


def read_internal_headers(ctx: ReadContext) -> InternalHeaders:
    """Each route asked with the verifier's credential, plainly and with the internal headers set
    to random values, side by side."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    cfg = section.expect.headers
    credential = _credential(ctx)
    paths = list(cfg.internal_probe_paths) or list(ctx.read("http.probe_paths"))
    if not paths:
        raise NotApplicable(NO_PROBE_PATHS)
    if credential.problem is not None:
        return InternalHeaders((), token_problem=credential.problem)
    auth = credential.header_values()
    sent = [
        {name: f"deployverify-{secrets.token_hex(6)}" for name in cfg.internal_headers}
        for _ in paths
    ]
    calls = []
    for path, values in zip(paths, sent, strict=True):
        calls.append(partial(send, client, "GET", path, headers=auth))
        calls.append(partial(send, client, "GET", path, headers={**auth, **values}))
    answers = iter(concurrently(calls))
    return InternalHeaders(
        tuple(
            InternalProbe(path, values, next(answers), next(answers))
            for path, values in zip(paths, sent, strict=True)
        )
    )


# -- flows ----------------------------------------------------------------------------------


def run_flows(
    client: httpx.Client,
    flows: Sequence[Flow],
    credential: Credential | None,
    *,
    ordered: bool,
    strip: Sequence[str] = (AUTHORIZATION,),
) -> tuple[FlowRun, ...]:
    """Send every flow (with the verifier's credential when it needs one; the others without
    any, every header in ``strip`` left out). Read-only flows go side by side; state-changing
    ones (``ordered``) one after another, in the profile's order."""

    def run(flow: Flow) -> FlowRun:
        if flow.authenticated and (credential is None or credential.problem is not None):
            why = (
                "no credential is configured"
                if credential is None
                else f"the credential could not be had: {credential.problem}"
            )
            return FlowRun(flow, None, why)
        kwargs: dict[str, Any] = {}
        if flow.json_body is not None:
            kwargs["json"] = json.loads(flow.json_body)
        if flow.authenticated:
            assert credential is not None
            headers = credential.header_values()
            answer = send(client, flow.method.upper(), flow.path, headers=headers, **kwargs)
        else:
            answer = send(bare(client), flow.method.upper(), flow.path, strip=strip, **kwargs)
        return FlowRun(flow, answer)

    if ordered:
        return tuple(run(flow) for flow in flows)
    return tuple(concurrently([partial(run, flow) for flow in flows]))


def read_flows(ctx: ReadContext) -> tuple[FlowRun, ...]:
    """The read-only flows of ``[[http.expect.flows]]``."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    selected = [flow for flow in section.expect.flows if not flow.destructive]
    if not selected:
        raise NotApplicable("no read-only [[http.expect.flows]] configured")
    credential = ctx.read("http.credential") if any(f.authenticated for f in selected) else None
    return run_flows(client, selected, credential, ordered=False, strip=anonymous_strip(section))


# -- wrong credentials ----------------------------------------------------------------------


def _wrong_headers(auth: AuthExpectations, style: str) -> tuple[dict[str, str], str]:
    """The headers of a wrong credential of ``style``, and what is wrong about it."""
    noise = f"deployverify-{secrets.token_hex(12)}"
    if style == "api-key":
        assert auth.api_key is not None
        return {auth.api_key.header: noise}, f"a random key in {auth.api_key.header}"
    if style == "basic":
        assert auth.basic is not None
        value = basic_value(auth.basic.username, Secret(noise))
        return {AUTHORIZATION: value.get()}, "the right username with a wrong password"
    return {AUTHORIZATION: f"Bearer {noise}"}, "a random bearer token"


def untrusted_certificate_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext | bool:
    """A TLS context presenting a freshly made, self-signed client certificate (no CA of the
    service signed it); the server is verified as ``verify`` says."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deployverify-untrusted-client")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    context = verify if isinstance(verify, ssl.SSLContext) else ssl.create_default_context()
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with tempfile.TemporaryDirectory(prefix="deployverify-cert-") as folder:
        pem = Path(folder) / "client.pem"
        pem.write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(str(pem))
    return context


def probe_wrong_credentials(
    client: httpx.Client,
    section: HttpConfig,
    credential: Credential,
    token: TokenResult | None,
    paths: Sequence[str],
) -> WrongCredentials:
    """The first probe path that refuses an anonymous request and accepts the verifier's
    credential; there, each configured style sent right (its own header alone) and wrong,
    side by side. A client certificate is sent wrong as a self-signed one, with the right
    header credential."""
    auth = section.expect.auth
    strip = anonymous_strip(section)
    primary = credential.header_values()
    chosen: str | None = None
    baseline: list[Exchange] = []
    for path in paths:
        anonymous, valid = concurrently(
            [
                partial(send, bare(client), "GET", path, strip=strip, note="none (baseline)"),
                partial(
                    send,
                    client,
                    "GET",
                    path,
                    headers=primary,
                    note=f"{credential.style} (baseline)",
                ),
            ]
        )
        baseline += [anonymous, valid]
        if discriminates(anonymous, valid):
            chosen = path
            break
    if chosen is None:
        return WrongCredentials(tuple(paths), None, tuple(baseline))
    path = chosen
    plan: list[tuple[str, str, Callable[[], Exchange] | None, Callable[[], Exchange]]] = []
    for style in auth.styles:
        if style == "client-cert":
            verify = tls_context(section, certificate=False)
            untrusted = bare_client(section, untrusted_certificate_context(verify))
            change = "a self-signed client certificate no CA of the service signed"
            wrong_cert: Callable[[], Exchange] = partial(
                _send_closing, untrusted, path, {**section.static_headers(), **primary}, change
            )
            plan.append((style, change, None, wrong_cert))
            continue
        right = {k: v.get() for k, v in style_headers(auth, style, token).items()}
        wrong, change = _wrong_headers(auth, style)
        valid_call: Callable[[], Exchange] | None = (
            partial(
                send, client, "GET", path, headers=right, strip=_others(strip, right), note=style
            )
            if right
            else None
        )
        wrong_call: Callable[[], Exchange] = partial(
            send,
            client,
            "GET",
            path,
            headers=wrong,
            strip=_others(strip, wrong),
            note=f"wrong {style}: {change}",
        )
        plan.append((style, change, valid_call, wrong_call))
    calls: list[Callable[[], Exchange]] = []
    for _, _, right_call, wrong_call in plan:
        if right_call is not None:
            calls.append(right_call)
        calls.append(wrong_call)
    answers = iter(concurrently(calls))
    probes = []
    for style, change, right_call, _ in plan:
        valid_answer = next(answers) if right_call is not None else None
        probes.append(WrongCredentialProbe(style, change, valid_answer, next(answers)))
    return WrongCredentials(tuple(paths), path, tuple(baseline), tuple(probes))


def _others(strip: Sequence[str], kept: Mapping[str, str]) -> tuple[str, ...]:
    """The credential headers to leave out of a request that carries only ``kept``."""
    wanted = {name.lower() for name in kept}
    return tuple(name for name in strip if name.lower() not in wanted)


def _send_closing(
    client: httpx.Client, path: str, headers: Mapping[str, str], change: str
) -> Exchange:
    try:
        return send(client, "GET", path, headers=headers, note=f"wrong client-cert: {change}")
    finally:
        client.close()


def read_wrong_credentials(ctx: ReadContext) -> WrongCredentials:
    """Each configured credential style sent wrong on a protected route (``WrongCredentials``)."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    credential = _credential(ctx)
    paths: tuple[str, ...] = ctx.read("http.probe_paths")
    if not paths:
        raise NotApplicable(NO_PROBE_PATHS)
    if credential.problem is not None:
        return WrongCredentials(paths, credential_problem=credential.problem)
    return probe_wrong_credentials(client, section, credential, credential.token, paths)
