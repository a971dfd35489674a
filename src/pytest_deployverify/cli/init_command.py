"""``deployverify init NAME``: write a first environment profile, commented, never over a file.

With ``--kube-context``, ``--kubeconfig`` or ``--namespace`` it reads the cluster with the
read-only reader (LIST and GET only; the reader refuses anything else before sending it): the
namespace's workloads, Services, Ingresses, HorizontalPodAutoscalers and PodDisruptionBudgets, and
(when the credentials may list them) every namespace's Services and workloads, to recognise
Redis, PostgreSQL, Prometheus and Alertmanager. Secrets are never read. Without those options it
writes a commented template. ``cli.init_profile`` builds the text from what was read.

The profile goes to ``NAME.toml`` in the profile folder (``--env-dir``, ``DEPLOYVERIFY_ENV_DIR``,
the ``deployverify_env_dir`` ini key, else ``verify/environments``: where a run looks), with the
JSON Schema beside it (``profile.schema.json``, for editors) when none is there yet. An existing
profile is never overwritten: exit 1, naming it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_deployverify.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError
from pytest_deployverify.cli.init_profile import (
    READ_KINDS,
    SCHEMA_FILE,
    WORKLOAD_KIND_ORDER,
    ClusterView,
    render_profile,
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def add_parser(commands: Any) -> None:
    init = commands.add_parser(
        "init",
        help="write a first environment profile, read from a cluster (read-only) or a template",
        description="Write NAME.toml in the profile folder. With --kube-context, --kubeconfig or "
        "--namespace the cluster is read (list and get only; Secrets are not read) and the "
        "profile lists its workloads, Services, Ingress hosts and TLS, HPAs, PDBs, the release "
        "version and candidate Redis/PostgreSQL/Prometheus/Alertmanager endpoints, guesses "
        "marked as such; otherwise a commented template. Exit 1 if the file exists.",
    )
    init.add_argument("name", metavar="NAME", help="the environment's name: NAME.toml")
    init.add_argument("--kube-context", metavar="CTX", default=None, help="kubeconfig context")
    init.add_argument("--kubeconfig", metavar="FILE", default=None, help="kubeconfig file")
    init.add_argument(
        "--namespace",
        metavar="NS",
        default=None,
        help="the application's namespace (default: the context's, else default)",
    )
    init.add_argument(
        "--env-dir",
        metavar="DIR",
        default=None,
        help="profile folder (default: DEPLOYVERIFY_ENV_DIR, the deployverify_env_dir ini key, "
        "else verify/environments)",
    )
    init.set_defaults(handler=init_command)


def init_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.profile.settings import SettingError, env_dir

    if not _NAME.match(args.name):
        raise CommandError(
            f"environment name {args.name!r} is not valid: use letters, digits, '-', '_' or '.'",
            EXIT_USAGE,
        )
    cwd = Path.cwd()
    try:
        folder, _ = env_dir(args.env_dir, os.environ, cwd)
    except SettingError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    path = folder / f"{args.name}.toml"
    shown = _shown(path, cwd)
    if path.exists() or path.is_symlink():
        raise CommandError(
            f"{shown} already exists; init never overwrites a file: choose another NAME, or "
            "remove the file first",
            EXIT_FAILED,
        )
    reads_cluster = any(v is not None for v in (args.kube_context, args.kubeconfig, args.namespace))
    view = (
        read_cluster(
            kubeconfig=args.kubeconfig, context=args.kube_context, namespace=args.namespace
        )
        if reads_cluster
        else None
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(
            f"{_shown(folder, cwd)}: cannot create the folder: {exc.strerror}"
        ) from None
    schema_path = folder / SCHEMA_FILE
    text = render_profile(args.name, view, today=dt.date.today(), schema=SCHEMA_FILE)
    _write_new(path, text, shown)
    print(f"wrote {shown}" + (f" from {view.endpoint}" if view and view.endpoint else ""))
    if not schema_path.exists():
        from pytest_deployverify.cli.profile_commands import documented_sections
        from pytest_deployverify.profile.jsonschema import render_schema

        _write_new(schema_path, render_schema(*documented_sections()), _shown(schema_path, cwd))
        print(f"wrote {_shown(schema_path, cwd)} (the JSON Schema editors validate it with)")
    else:
        print(
            f"kept {_shown(schema_path, cwd)} (regenerate it after an upgrade: "
            f"deployverify profile schema > {_shown(schema_path, cwd)})"
        )
    env_dir_option = f" --env-dir {_shown(folder, cwd)}" if args.env_dir else ""
    print("next:")
    print(f"  review the lines marked 'guess:' and the commented-out candidates in {shown}")
    print(f"  deployverify profile check {args.name}{env_dir_option}")
    print(f"  pytest --env {args.name}{env_dir_option} --signoff signoff.md")
    return EXIT_OK


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def _write_new(path: Path, text: str, shown: str) -> None:
    """Create ``path``; never replace one that appeared in the meantime."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise CommandError(
            f"{shown} already exists; init never overwrites a file", EXIT_FAILED
        ) from None
    except OSError as exc:
        raise CommandError(f"{shown}: cannot be written: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def read_cluster(
    *, kubeconfig: str | None, context: str | None, namespace: str | None
) -> ClusterView:
    """The namespace's objects init writes about, read with the read-only reader: one round of
    concurrent LISTs (the namespace's kinds, and every namespace's Services and workloads)."""
    try:
        from pytest_deployverify.components.errors import ComponentUnavailable
        from pytest_deployverify.components.kubernetes import KubernetesConfig
        from pytest_deployverify.components.kubernetes.reader import (
            KubeError,
            KubeForbidden,
            build_kube_reader,
        )
    except ImportError as exc:
        raise CommandError(
            f"reading a cluster needs the Kubernetes client ({exc.name or exc}): pip install "
            "'pytest-deployverify[kubernetes]'",
            EXIT_USAGE,
        ) from None
    if kubeconfig is not None and not Path(kubeconfig).expanduser().is_file():
        raise CommandError(f"--kubeconfig {kubeconfig}: no such file", EXIT_USAGE)
    ns = namespace or _context_namespace(kubeconfig, context) or "default"
    config = KubernetesConfig(kubeconfig=kubeconfig, context=context, namespace=ns)
    try:
        reader = build_kube_reader(config)
    except ComponentUnavailable as exc:
        raise CommandError(
            f"cannot read the cluster: {exc}; without --kube-context/--kubeconfig/--namespace "
            "init writes a template",
            EXIT_FAILED,
        ) from None
    with reader:
        scopes: list[tuple[str, str | None]] = [(k, ns) for k in READ_KINDS]
        wide: list[tuple[str, str | None]] = [
            ("Service", None),
            *((k, None) for k in WORKLOAD_KIND_ORDER[:3]),
        ]
        answers = reader.list_many([*scopes, *wide])
    objects: dict[str, list[Mapping[str, Any]]] = {}
    problems: dict[str, str] = {}
    for obj_kind, scope in scopes:
        answer = answers[(obj_kind, scope)]
        if isinstance(answer, KubeForbidden):
            problems[obj_kind] = answer.problem
        elif isinstance(answer, KubeError):
            if obj_kind in ("Deployment", "Service"):
                raise CommandError(
                    f"cannot read the cluster at {reader.endpoint}: {answer.problem}", EXIT_FAILED
                )
            problems[obj_kind] = answer.problem
        else:
            objects[obj_kind] = list(answer)
    cluster_services = _all_or_nothing(answers, [("Service", None)])
    cluster_workloads = _all_or_nothing(answers, wide[1:])
    return ClusterView(
        namespace=ns,
        context=context,
        kubeconfig=kubeconfig,
        endpoint=reader.endpoint,
        objects=objects,
        cluster_services=cluster_services,
        cluster_workloads=cluster_workloads,
        problems=problems,
    )


def _all_or_nothing(
    answers: Mapping[Any, Any], scopes: Sequence[tuple[str, str | None]]
) -> list[Any]:
    found: list[Any] = []
    for scope in scopes:
        answer = answers.get(scope)
        if not isinstance(answer, list):
            return []
        found += answer
    return found


def _context_namespace(kubeconfig: str | None, context: str | None) -> str | None:
    """The namespace the kubeconfig context names (as kubectl would use), if any."""
    try:
        from kubernetes.config import list_kube_config_contexts

        contexts, active = list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=kubeconfig
        )
    except Exception:  # no kubeconfig, or unreadable: the reader says why when it is built
        return None
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else active
    value = ((chosen or {}).get("context") or {}).get("namespace")
    return str(value) if value else None
