"""Authentication: protected routes refuse anonymous calls, token flows work, forged tokens fail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx

from pytest_deployverify.checks.http import catalog, jwt_forge
from pytest_deployverify.checks.http.common import (
    Exchange,
    Outcome,
    bearer,
    fill_path,
    has_params,
    send,
)
from pytest_deployverify.checks.http.openapi import RoutePlan, operations
from pytest_deployverify.expectations.gateway import (
    SAFE_METHODS,
    AuthExpectations,
    Credentials,
)
from pytest_deployverify.profile.secrets import Secret

AUTHORIZATION = "Authorization"
REJECTED = (401, 403)
NO_KEY = (
    "needs a token the service would otherwise accept: set [http.expect.auth] "
    "jwt_signing_key (a test environment's signing key) to run this probe"
)


# -- routes without a token ---------------------------------------------------------------


def unauthenticated(
    client: httpx.Client,
    plan: RoutePlan,
    *,
    param_value: str,
    expected: Sequence[int] = (401,),
) -> Outcome:
    """Every protected route answers ``expected`` (401) without a token.

    Only safe methods are sent: a POST to a route that wrongly lacks authentication could change
    state. Unsafe ones are listed in the evidence as not probed."""
    outcome = Outcome()
    for route in plan.undeclared_public:
        outcome.findings.append(
            catalog.AUTH_REQUIRED.finding(
                str(route),
                "the OpenAPI document declares no security for this operation and the profile "
                "does not list it in public_routes; declare its security or list it as public",
            )
        )
    if not plan.protected:
        outcome.skipped = (
            "no protected routes to probe: the OpenAPI document declares no secured operations "
            "and [http.expect] protected_routes is empty"
        )
        return outcome
    for route in plan.protected:
        if route.method not in SAFE_METHODS:
            outcome.observed.append({"request": str(route), "note": "not sent: may change state"})
            continue
        target = fill_path(route.path, param_value)
        exchange = send(client, route.method, target, strip=(AUTHORIZATION,))
        outcome.observed.append(exchange.summary())
        if exchange.status not in expected:
            outcome.findings.append(
                catalog.AUTH_REQUIRED.finding(
                    str(route),
                    f"without a token {target} {_observed(exchange)}; expected "
                    f"{' or '.join(map(str, expected))}",
                )
            )
    return outcome


def _observed(exchange: Exchange) -> str:
    if exchange.status is None:
        return f"got no answer ({exchange.error})"
    if exchange.status == 429:
        return "was rate limited (429), so authentication could not be verified"
    return f"answered {exchange.status}"


def probe_paths(auth: AuthExpectations, document: dict[str, object] | None) -> list[str]:
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
    token: str | None
    exchange: Exchange
    problem: str | None = None

    def summary(self) -> dict[str, object]:
        data = self.exchange.summary()
        data["token_received"] = self.token is not None
        if self.problem:
            data["problem"] = self.problem
        return data


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
    body = {username_field: credentials.username.get(), password_field: credentials.password.get()}
    exchange = send(client, "POST", path, json=body, strip=(AUTHORIZATION,))
    return _token_from(exchange, token_field)


def client_credentials(
    client: httpx.Client,
    token_url: str,
    client_id: str,
    client_secret: str,
    *,
    token_field: str = "access_token",
) -> TokenResult:
    """OAuth 2.0 client-credentials grant (RFC 6749 4.4) with HTTP Basic client authentication,
    the method every authorization server must support (2.3.1)."""
    exchange = send(
        client,
        "POST",
        token_url,
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth(client_id, client_secret),
        strip=(AUTHORIZATION,),
    )
    return _token_from(exchange, token_field)


def _token_from(exchange: Exchange, token_field: str) -> TokenResult:
    if exchange.status != 200:
        shown = exchange.status if exchange.status is not None else exchange.error
        where = f"{exchange.method} {exchange.target}"
        return TokenResult(None, exchange, f"{where} answered {shown}; expected 200")
    body = exchange.json()
    token = body.get(token_field) if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return TokenResult(None, exchange, f"the answer has no {token_field!r} string")
    return TokenResult(token, exchange)


def obtain_token(client: httpx.Client, auth: AuthExpectations) -> TokenResult | None:
    """A token by the login flow if configured, else by client credentials; None if neither."""
    return token_for(
        client, auth, account=auth.login, client_id=auth.client_id, client_secret=auth.client_secret
    )


def token_for(
    client: httpx.Client,
    auth: AuthExpectations,
    *,
    account: Credentials | None = None,
    client_id: Secret | None = None,
    client_secret: Secret | None = None,
) -> TokenResult | None:
    """A token for the given account through the profile's login path (preferred) or token
    URL; None when the account or the matching endpoint is not configured."""
    if account is not None and auth.login_path is not None:
        return login(
            client,
            auth.login_path,
            account,
            username_field=auth.username_field,
            password_field=auth.password_field,
            token_field=auth.token_field,
        )
    if client_id is not None and client_secret is not None and auth.token_url is not None:
        return client_credentials(
            client,
            auth.token_url,
            client_id.get(),
            client_secret.get(),
            token_field=auth.token_field,
        )
    return None


def token_flow(
    client: httpx.Client, result: TokenResult, paths: Iterable[str], check: catalog.GatewayCheck
) -> Outcome:
    """The flow yielded a token, and every protected probe path accepts it (2xx)."""
    outcome = Outcome(observed=[result.summary()])
    if result.token is None:
        outcome.findings.append(check.finding(result.exchange.target, str(result.problem)))
        return outcome
    paths = list(paths)
    if not paths:
        outcome.findings.append(
            check.finding(
                "probe paths",
                "no protected GET route to try the token on: set [http.expect.auth] probe_paths",
            )
        )
    for path in paths:
        exchange = send(client, "GET", path, headers=bearer(result.token))
        outcome.observed.append(exchange.summary())
        if exchange.status is None or not 200 <= exchange.status < 300:
            outcome.findings.append(
                check.finding(path, f"with the new token {_observed(exchange)}; expected 2xx")
            )
    return outcome


# -- forged tokens ------------------------------------------------------------------------


def forgery(
    client: httpx.Client,
    variant: str,
    token: str,
    paths: Sequence[str],
    *,
    signing_key: str | None = None,
    algorithm: str = "HS256",
) -> Outcome:
    """Tokens forged as ``variant`` (see ``jwt_forge``) are all refused (401/403).

    They are sent to the first of ``paths`` that refuses anonymous requests and accepts the
    genuine token (for keyed variants: the claims re-signed with the test key); without such a
    route a refusal, or an acceptance, would prove nothing."""
    check = catalog.JWT.variant(variant)
    outcome = Outcome()
    try:
        jwt_forge.parse(token)
    except jwt_forge.NotAJwt as exc:
        outcome.skipped = f"the service's tokens are not JWTs ({exc}); forgery probes do not apply"
        return outcome
    keyed = variant in jwt_forge.KEYED
    if keyed and not signing_key:
        outcome.skipped = NO_KEY
        return outcome
    baseline = jwt_forge.control(token, signing_key, algorithm) if keyed and signing_key else token
    path = _discriminating_path(client, paths, baseline, outcome)
    if path is None:
        why = (
            "the claims re-signed with jwt_signing_key were accepted nowhere (is it the "
            "service's key, and jwt_algorithm its algorithm?)"
            if keyed
            else "the genuine token was accepted nowhere"
        )
        outcome.findings.append(
            check.finding(
                ", ".join(paths) or "probe paths",
                "no route both refuses anonymous requests and accepts a valid token, so the "
                f"forged tokens cannot be judged: {why}",
            )
        )
        return outcome
    if variant == "tampered":
        forged = [jwt_forge.tampered(token)]
    elif variant == "alg-none":
        forged = jwt_forge.alg_none(token)
    else:
        assert signing_key is not None
        forged = [jwt_forge.keyed_variant(variant, token, signing_key, algorithm)]
    for item in forged:
        exchange = send(client, "GET", path, headers=bearer(item.token))
        outcome.observed.append({**exchange.summary(), "token": item.change})
        if exchange.status in REJECTED:
            continue
        if exchange.status is not None and 200 <= exchange.status < 300:
            message = f"ACCEPTED a forged token ({item.change}): answered {exchange.status}"
        else:
            message = f"a forged token ({item.change}) {_observed(exchange)}; expected 401"
        outcome.findings.append(check.finding(path, message))
    return outcome


def _discriminating_path(
    client: httpx.Client, paths: Sequence[str], valid_token: str, outcome: Outcome
) -> str | None:
    for path in paths:
        anonymous = send(client, "GET", path, strip=(AUTHORIZATION,))
        outcome.observed.append({**anonymous.summary(), "token": "none (baseline)"})
        if anonymous.status not in REJECTED:
            continue
        valid = send(client, "GET", path, headers=bearer(valid_token))
        outcome.observed.append({**valid.summary(), "token": "valid (baseline)"})
        if valid.status is not None and 200 <= valid.status < 300:
            return path
    return None
