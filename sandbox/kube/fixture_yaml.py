"""Reading fixture YAML: multi-document files with a few tags that keep fixtures readable.

Tags (resolved at load time, so the wire carries plain API values):

- `!ago 5m` → an RFC 3339 UTC timestamp that long before now (units s, m, h, d), so ages and
  "recent events" stay realistic whenever the suite runs.
- `!b64 plain text` → the base64 of the text, for Secret `data`.
- `!helm-release {...}` → a Helm release mapping encoded as Helm stores it (see `helm.py`).
- `!tls-data {hosts: [...], valid_days: 60, issued_days_ago: 30}` → the `data` of a
  `kubernetes.io/tls` Secret: a fresh certificate (leaf + issuing CA) and its key, so expiry
  checks see a real certificate whose dates move with the clock.

Plain YAML timestamps stay strings: the API serves them as strings.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import trustme
import yaml

from sandbox.kube.helm import encode_release

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rfc3339(moment: datetime) -> str:
    """Kubernetes' timestamp format: second precision, UTC, `Z` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(text: str, now: datetime | None = None) -> str:
    """`ago("5m")` → the timestamp five minutes before now."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"!ago expects a duration like 30s, 5m, 2h or 3d, got {text!r}")
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    return rfc3339((now or datetime.now(UTC)) - timedelta(seconds=seconds))


class FixtureLoader(yaml.SafeLoader):
    """SafeLoader plus the fixture tags; a subclass so the global SafeLoader is untouched."""


def _construct_ago(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return ago(str(loader.construct_scalar(node)))  # type: ignore[arg-type]


def _construct_b64(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    return base64.b64encode(text.encode()).decode("ascii")


def _construct_helm_release(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    release = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return encode_release({str(k): v for k, v in release.items()})


def _construct_tls_data(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, str]:
    spec = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    hosts = [str(h) for h in spec.get("hosts", [])]
    if not hosts:
        raise ValueError("!tls-data needs at least one entry in hosts")
    now = datetime.now(UTC)
    issued = now - timedelta(days=int(spec.get("issued_days_ago", 30)))
    issuer = trustme.CA(organization_name=str(spec.get("issuer", "Example Issuing CA")))
    leaf = issuer.issue_cert(
        *hosts,
        not_before=issued,
        not_after=now + timedelta(days=int(spec.get("valid_days", 60))),
    )
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems) + issuer.cert_pem.bytes()
    return {
        "tls.crt": base64.b64encode(chain).decode("ascii"),
        "tls.key": base64.b64encode(leaf.private_key_pem.bytes()).decode("ascii"),
    }


def _construct_timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


FixtureLoader.add_constructor("!ago", _construct_ago)
FixtureLoader.add_constructor("!b64", _construct_b64)
FixtureLoader.add_constructor("!helm-release", _construct_helm_release)
FixtureLoader.add_constructor("!tls-data", _construct_tls_data)
FixtureLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def load_documents(text: str, source: str = "<string>") -> Iterator[dict[str, Any]]:
    """Every non-empty document; `kind: List` documents are flattened into their items."""
    for doc in yaml.load_all(text, Loader=FixtureLoader):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ValueError(f"{source}: a document is not a mapping: {doc!r:.80}")
        if doc.get("kind") == "List" or str(doc.get("kind", "")).endswith("List"):
            yield from doc.get("items") or []
        else:
            yield doc


def load_file(path: Path) -> list[dict[str, Any]]:
    return list(load_documents(path.read_text(encoding="utf-8"), source=str(path)))


def fixture_files(directory: Path) -> list[Path]:
    """The YAML files of a fixtures folder, sorted so loading order is stable."""
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
