"""Configuration checks: required and expected environment, secrets in Secrets, references exist.

No message ever contains a value read from a Secret, nor a literal value of a secret-like
variable: findings say where a value comes from and how long it is, never what it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.env import (
    ContainerEnv,
    EnvVar,
    configmap_entries,
    container_env,
    data_keys,
    find_object,
    main_container,
    secret_value,
)
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    containers,
    dig,
    mapping,
    pod_spec,
    sequence,
    subject,
)
from pytest_deployverify.checks.kube.sensitive import why_secret


def required_env_findings(
    workload: KubeObject,
    required: Iterable[str],
    *,
    configmaps: Iterable[KubeObject] = (),
    secrets: Iterable[KubeObject] = (),
    container: str | None = None,
) -> list[Finding]:
    """Every name in ``required`` is set on the application container (env or envFrom)."""
    env = _env(workload, container, configmaps, secrets)
    if env is None:
        return [_no_container(workload, container)]
    where = subject(workload, env.container)
    missing = [n for n in required if n not in env.variables]
    if not missing:
        return []
    unresolved = f" (not found, may provide it: {', '.join(env.missing_sources)})"
    return [
        rules.ENV_MISSING(
            where,
            f"{var} is not set{unresolved if env.missing_sources else ''}; add it to the "
            "container's env (valueFrom secretKeyRef for secrets) or to its envFrom ConfigMap",
        )
        for var in missing
    ]


def expected_env_findings(
    workload: KubeObject,
    expected: Mapping[str, str],
    *,
    forbidden: Mapping[str, Iterable[str]] | None = None,
    configmaps: Iterable[KubeObject] = (),
    secrets: Iterable[KubeObject] = (),
    container: str | None = None,
) -> list[Finding]:
    """Variables hold their production value (``NODE_ENV=production``) and no forbidden one.

    ``forbidden`` maps a name to values it must not have (``{"CORS_ORIGIN": ["*"]}``); a
    comma-separated value is forbidden when any item is. Values from Secrets are compared too,
    but never shown.
    """
    secret_list = list(secrets)
    env = _env(workload, container, configmaps, secret_list)
    if env is None:
        return [_no_container(workload, container)]
    where = subject(workload, env.container)
    found: list[Finding] = []
    for var_name, want in expected.items():
        var = env.variables.get(var_name)
        if var is None:
            found.append(
                rules.ENV_MISSING(
                    where, f"{var_name} is not set; set it to the production value {want!r}"
                )
            )
            continue
        actual = _value(var, workload, secret_list)
        if actual is None:
            found.append(
                rules.ENV_VALUE(
                    where,
                    f"{var_name} comes from {var.describe()}, which could not be resolved; "
                    f"make it resolve to the production value {want!r}",
                )
            )
        elif actual != want:
            hide = var.from_secret or why_secret(var_name, actual) is not None
            found.append(
                rules.ENV_VALUE(
                    where,
                    f"{var_name} is {'(secret, not shown)' if hide else repr(actual)} from "
                    f"{var.describe()}, expected "
                    f"{'the configured secret value' if hide else repr(want)}; "
                    "fix the value at its source",
                )
            )
    for var_name, bad_values in (forbidden or {}).items():
        var = env.variables.get(var_name)
        actual = _value(var, workload, secret_list) if var is not None else None
        if var is None or actual is None:
            continue
        hit = _forbidden_hit(actual, {str(v) for v in bad_values})
        if hit is not None:
            hide = var.from_secret or why_secret(var_name, actual) is not None
            shown = "a forbidden value (secret, not shown)" if hide else repr(hit)
            found.append(
                rules.ENV_FORBIDDEN(
                    where,
                    f"{var_name} contains {shown} from {var.describe()}; set an explicit "
                    "production value (e.g. the production domain for CORS_ORIGIN)",
                )
            )
    return found


def sensitive_env_findings(
    workload: KubeObject,
    *,
    configmaps: Iterable[KubeObject] = (),
    allow: Iterable[str] = (),
) -> list[Finding]:
    """Secrets come from a Secret: never a literal value, never a ConfigMap.

    A variable is a secret by its name or by its value (``sensitive.why_secret``: a PEM private
    key, a recognisable token, a random value under a key-like name). ``allow`` lists names that
    look secret but are not. Values are never shown.
    """
    allowed, cms = set(allow), list(configmaps)
    found: list[Finding] = []
    for c in containers(pod_spec(workload)):
        env = container_env(workload, c, configmaps=cms)
        where = subject(workload, env.container)
        for var in env.variables.values():
            if var.name in allowed or not (var.origin == "value" or var.from_configmap):
                continue
            why = why_secret(var.name, var.value)
            if why is None:
                continue
            if var.origin == "value":
                found.append(
                    rules.SENSITIVE_ENV(
                        where,
                        f"{var.name} looks secret ({why}) but is a literal value in the pod "
                        "spec (value not shown); move it to a Secret and use "
                        "valueFrom.secretKeyRef",
                    )
                )
            else:
                found.append(
                    rules.SENSITIVE_CONFIGMAP(
                        where,
                        f"{var.name} looks secret ({why}) but comes from {var.describe()} "
                        "(value not shown); ConfigMaps are not protected like Secrets: move the "
                        "key to a Secret",
                    )
                )
    return found


def configmap_sensitive_findings(
    configmap: KubeObject, *, allow: Iterable[str] = ()
) -> list[Finding]:
    """A ConfigMap holds no secret, by key name or by value (Polaris sensitiveConfigmapContent)."""
    allowed = set(allow)
    entries = configmap_entries(configmap)
    hits = {
        key: why
        for key in sorted(entries)
        if key not in allowed and (why := why_secret(key, entries[key])) is not None
    }
    if not hits:
        return []
    listed = ", ".join(f"{key} ({why})" for key, why in hits.items())
    return [
        rules.SENSITIVE_CONFIGMAP(
            subject(configmap, default_kind="ConfigMap"),
            f"secret-like key(s) {listed} in a ConfigMap (values not shown); move them to a Secret",
        )
    ]


def reference_findings(
    workload: KubeObject,
    *,
    configmaps: Iterable[KubeObject],
    secrets: Iterable[KubeObject],
    external: Iterable[str] = (),
) -> list[Finding]:
    """Every ConfigMap/Secret (and key) the pod references exists; ``optional`` refs exempt.

    Covers env ``valueFrom``, ``envFrom``, ``configMap``/``secret``/``projected`` volumes and
    ``imagePullSecrets``. Pass every ConfigMap and Secret of the namespace; ``external`` names
    objects created outside what is given (a secrets operator), which are not checked.
    """
    cms, secs, skip = list(configmaps), list(secrets), set(external)
    found: list[Finding] = []
    for ref_kind, ref_name, keys, where in _references(workload):
        if ref_name in skip:
            continue
        objects = cms if ref_kind == "ConfigMap" else secs
        obj = find_object(objects, ref_kind, ref_name, workload)
        missing_rule, key_rule = (
            (rules.CONFIGMAP_MISSING, rules.CONFIGMAP_KEY_MISSING)
            if ref_kind == "ConfigMap"
            else (rules.SECRET_MISSING, rules.SECRET_KEY_MISSING)
        )
        if obj is None:
            found.append(
                missing_rule(
                    subject(workload),
                    f"{where} references {ref_kind} {ref_name!r}, which does not exist in the "
                    f"namespace; create it before the rollout (or mark the reference optional)",
                )
            )
            continue
        absent = sorted(set(keys) - data_keys(obj))
        if absent:
            found.append(
                key_rule(
                    subject(workload),
                    f"{where} needs key(s) {', '.join(absent)} of {ref_kind} {ref_name!r}, "
                    "which it lacks; add the key(s)",
                )
            )
    return found


def secret_min_length(secret: KubeObject, key: str, min_len: int) -> list[Finding]:
    """The Secret's ``key`` decodes to at least ``min_len`` characters; only the length is told."""
    where = subject(secret, default_kind="Secret")
    try:
        value = secret_value(secret, key)
    except ValueError as exc:
        return [rules.SECRET_TOO_SHORT(where, f"{exc}; re-create the Secret")]
    if value is None:
        return [
            rules.SECRET_KEY_MISSING(
                where, f"key {key!r} is absent; add it (at least {min_len} characters)"
            )
        ]
    if len(value) >= min_len:
        return []
    unit = "characters" if isinstance(value, str) else "bytes"
    return [
        rules.SECRET_TOO_SHORT(
            where,
            f"key {key!r} is {len(value)} {unit} long, below the minimum {min_len}; generate a "
            f"new random value of at least {min_len} (e.g. openssl rand -base64 48)",
        )
    ]


def _env(
    workload: KubeObject,
    container: str | None,
    configmaps: Iterable[KubeObject],
    secrets: Iterable[KubeObject],
) -> ContainerEnv | None:
    chosen = main_container(workload, container)
    if chosen is None:
        return None
    return container_env(workload, chosen, configmaps=configmaps, secrets=secrets)


def _no_container(workload: KubeObject, container: str | None) -> Finding:
    wanted = f"container {container!r}" if container else "any container"
    return rules.ENV_MISSING(
        subject(workload), f"the pod spec has no {wanted}, so no variable is set; check the name"
    )


def _value(var: EnvVar, workload: KubeObject, secrets: list[KubeObject]) -> str | None:
    if not var.from_secret:
        return var.value
    secret = find_object(secrets, "Secret", var.source, workload)
    if secret is None:
        return None
    try:
        value = secret_value(secret, var.key)
    except ValueError:
        return None
    return value if isinstance(value, str) or value is None else value.decode("latin-1")


def _forbidden_hit(actual: str, bad_values: set[str]) -> str | None:
    if actual.strip() in bad_values:
        return actual.strip()
    for item in re.split(r"[,\s]+", actual):
        if item and item in bad_values:
            return item
    return None


def _references(workload: KubeObject) -> list[tuple[str, str, list[str], str]]:
    """(kind, name, keys needed, where) for every non-optional ConfigMap/Secret reference."""
    spec = pod_spec(workload)
    refs: list[tuple[str, str, list[str], str]] = []
    for c in containers(spec):
        cname = f"container {c.get('name')}"
        for entry in sequence(c.get("env")):
            value_from = mapping(mapping(entry).get("valueFrom"))
            for ref_key, ref_kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = mapping(value_from.get(ref_key))
                if ref and ref.get("optional") is not True:
                    where = f"{cname} env {mapping(entry).get('name')}"
                    refs.append((ref_kind, str(ref.get("name")), [str(ref.get("key"))], where))
        for source in sequence(c.get("envFrom")):
            for ref_key, ref_kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = mapping(mapping(source).get(ref_key))
                if ref and ref.get("optional") is not True:
                    refs.append((ref_kind, str(ref.get("name")), [], f"{cname} envFrom"))
    for volume in sequence(spec.get("volumes")):
        refs += _volume_refs(mapping(volume))
    for pull in sequence(spec.get("imagePullSecrets")):
        refs.append(("Secret", str(mapping(pull).get("name")), [], "imagePullSecrets"))
    return refs


def _volume_refs(volume: Mapping[str, Any]) -> list[tuple[str, str, list[str], str]]:
    where = f"volume {volume.get('name')}"
    sources: list[tuple[str, Mapping[str, Any], str]] = []
    if volume.get("configMap") is not None:
        sources.append(("ConfigMap", mapping(volume["configMap"]), "name"))
    if volume.get("secret") is not None:
        sources.append(("Secret", mapping(volume["secret"]), "secretName"))
    for projected in sequence(dig(volume, "projected", "sources")):
        projected = mapping(projected)
        if projected.get("configMap") is not None:
            sources.append(("ConfigMap", mapping(projected["configMap"]), "name"))
        if projected.get("secret") is not None:
            sources.append(("Secret", mapping(projected["secret"]), "name"))
    refs: list[tuple[str, str, list[str], str]] = []
    for ref_kind, ref, name_key in sources:
        if ref.get("optional") is True:
            continue
        keys = [str(mapping(item).get("key")) for item in sequence(ref.get("items"))]
        refs.append((ref_kind, str(ref.get(name_key) or ""), keys, where))
    return refs
