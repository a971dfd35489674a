"""pytest hooks and option wiring. The work lives in sibling modules; this file only connects them."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Collection, Generator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checks.findings import NOT_APPLICABLE_PREFIX, NotApplicable
from pytest_deployverify.components.base import Component
from pytest_deployverify.components.catalog import (
    ComponentLoadError,
    all_components,
    check_catalog,
    profile_sections,
)
from pytest_deployverify.components.errors import ComponentUnavailable, NotConfigured, ReadError
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.loader import LoadedProfile, ProfileError, load_profile
from pytest_deployverify.profile.model import Profile, SectionSpec
from pytest_deployverify.profile.secrets import MASK, Redactor, Secret
from pytest_deployverify.profile.settings import DEFAULT_ENV_DIR, SettingError, resolve
from pytest_deployverify.pytest_plugin import fixtures as _fixtures
from pytest_deployverify.pytest_plugin.collection import (
    ALL,
    checklist_modules,
    collect_checklist,
    parse_checklist_choice,
)
from pytest_deployverify.pytest_plugin.component_fixtures import (
    COMPONENT_REGISTRY,
    component_registry,
)
from pytest_deployverify.pytest_plugin.context import RUN_CONTEXT, RunContext, get_context
from pytest_deployverify.pytest_plugin.markers import (
    ITEM_META,
    MARKER_HELP,
    ItemMeta,
    apply_declared_markers,
    cached_metadata,
    cached_spec,
)
from pytest_deployverify.pytest_plugin.options import (
    parse_approval,
    parse_attestation,
    parse_manifests_path,
    parse_rollback_at,
    parse_rollback_to,
    parse_signoff_path,
)
from pytest_deployverify.pytest_plugin.redaction import (
    install_log_redaction,
    install_terminal_redaction,
    redact_report,
    scrub_node_ids,
)

SIGNING_KEY_VAR = "DEPLOYVERIFY_SIGNING_KEY"

ITEM_EVIDENCE = _fixtures.ITEM_EVIDENCE
PREVIOUS_LOG_FACTORY = pytest.StashKey[Any]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_deployverify.pytest_plugin import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("deployverify", "deployment verification (pytest-deployverify)")
    group.addoption(
        "--env",
        dest="deployverify_env",
        metavar="NAME",
        help="environment profile to verify: NAME.toml in the profile folder "
        "(also DEPLOYVERIFY_ENV, ini deployverify_env)",
    )
    group.addoption(
        "--env-dir",
        dest="deployverify_env_dir",
        metavar="DIR",
        help=f"folder of environment profiles (default {DEFAULT_ENV_DIR} under the rootdir; "
        "also DEPLOYVERIFY_ENV_DIR, ini deployverify_env_dir)",
    )
    group.addoption(
        "--allow-destructive",
        dest="deployverify_allow_destructive",
        action="store_true",
        help="run checks marked destructive even on a protected (production) environment",
    )
    group.addoption(
        "--signoff",
        dest="deployverify_signoff",
        action="append",
        default=[],
        type=parse_signoff_path,
        metavar="PATH",
        help="write the sign-off report: .md (Markdown) or .json (signed JSON); may be repeated",
    )
    group.addoption(
        "--signoff-key",
        dest="deployverify_signoff_key",
        metavar="KEY.pem",
        help="also sign each JSON sign-off with this Ed25519 private key (deployverify signoff "
        "keygen): writes NAME.intoto.json beside it, an in-toto attestation in a DSSE envelope "
        "(also DEPLOYVERIFY_SIGNING_KEY_FILE)",
    )
    group.addoption(
        "--signoff-exit",
        dest="deployverify_signoff_exit",
        choices=("strict", "verdict"),
        default=None,
        help="strict (default): any failure fails the run; verdict: the exit code is the "
        "verdict's: 0 GO, 10 CONDITIONAL, 11 NO-GO (a collection error is a NO-GO; pytest's "
        "other codes, such as 4 for bad input, stand)",
    )
    group.addoption(
        "--approve",
        dest="deployverify_approve",
        action="append",
        default=[],
        type=parse_approval,
        metavar="ROLE=NAME[@DATE]",
        help="fill a sign-off approval role, e.g. --approve 'Security=Dana Smith@2026-11-21'",
    )
    group.addoption(
        "--attest",
        dest="deployverify_attest",
        action="append",
        default=[],
        type=parse_attestation,
        metavar="ITEM=NAME[@DATE]",
        help="attest a manual checklist item of the profile, e.g. --attest oncall='Sam Lee'",
    )
    group.addoption(
        "--manifests",
        dest="deployverify_manifests",
        metavar="PATH",
        type=parse_manifests_path,
        help="pre-deploy mode: run the spec-level Kubernetes checks on rendered manifests (a folder "
        "of YAML, or `helm template` output in one file) instead of the live cluster",
    )
    group.addoption(
        "--checklist",
        dest="deployverify_checklist",
        metavar="all|none|SECTIONS",
        help="which of the shipped checklist to collect with an environment selected: all "
        "(default), none (only your own tests), or sections such as smoke,security "
        "(also DEPLOYVERIFY_CHECKLIST, ini deployverify_checklist)",
    )
    group.addoption(
        "--rollback-to",
        dest="deployverify_rollback_to",
        metavar="VERSION",
        type=parse_rollback_to,
        help="verify a rollback instead of a deployment: VERSION (the previous release) runs "
        "everywhere, no pod of the failed release (the profile's version) is left, the rollback "
        "triggers recovered (also DEPLOYVERIFY_ROLLBACK_TO, ini deployverify_rollback_to)",
    )
    group.addoption(
        "--rollback-at",
        dest="deployverify_rollback_at",
        metavar="TIME",
        type=parse_rollback_at,
        help="when the rollback happened, ISO 8601 with offset (default: the time of the Helm "
        "revision that rolled back; also DEPLOYVERIFY_ROLLBACK_AT)",
    )
    group.addoption(
        "--run-by",
        dest="deployverify_run_by",
        metavar="NAME",
        help="who ran the verification (default: CI actor variables, else the user)",
    )
    parser.addini("deployverify_env", "default environment profile name", default=None)
    parser.addini("deployverify_env_dir", "folder of environment profiles", default=None)
    parser.addini(
        "deployverify_checklist", "all, none, or sections of the shipped checklist", default=None
    )
    parser.addini(
        "deployverify_signoff_exit", "strict or verdict (see --signoff-exit)", default=None
    )
    parser.addini(
        "deployverify_rollback_to", "verify a rollback to this version (see --rollback-to)", None
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKER_HELP.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    context = _build_context(config)
    config.stash[RUN_CONTEXT] = context
    if context.profile is not None:
        from pytest_deployverify.checklist import fixtures as checklist_fixtures

        config.pluginmanager.register(checklist_fixtures, "deployverify-checklist-fixtures")
    if context.redactor:
        config.stash[PREVIOUS_LOG_FACTORY] = install_log_redaction(context.redactor)
    if context.profile is not None and not hasattr(config, "workerinput"):
        _register_reporters(config, context)


def _build_context(config: pytest.Config) -> RunContext:
    try:
        return _context(config, os.environ)
    except SettingError as exc:
        raise pytest.UsageError(f"deployverify: {exc}") from None


def _context(config: pytest.Config, environ: Mapping[str, str]) -> RunContext:
    env = resolve(
        option="--env",
        cli_value=config.getoption("deployverify_env"),
        env_var="DEPLOYVERIFY_ENV",
        environ=environ,
        ini_name="deployverify_env",
        ini_value=lambda: _ini(config, "deployverify_env"),
    )
    env_dir = resolve(
        option="--env-dir",
        cli_value=config.getoption("deployverify_env_dir"),
        env_var="DEPLOYVERIFY_ENV_DIR",
        environ=environ,
        ini_name="deployverify_env_dir",
        ini_value=lambda: _ini(config, "deployverify_env_dir"),
        default=DEFAULT_ENV_DIR,
    )
    checklist = resolve(
        option="--checklist",
        cli_value=config.getoption("deployverify_checklist"),
        env_var="DEPLOYVERIFY_CHECKLIST",
        environ=environ,
        ini_name="deployverify_checklist",
        ini_value=lambda: _ini(config, "deployverify_checklist"),
        default=ALL,
    )
    try:
        choice = parse_checklist_choice(checklist.value or ALL)
    except ValueError as exc:
        raise pytest.UsageError(f"deployverify: {checklist.source}: {exc}") from None
    components: list[Component] = []

    def configured(tables: Collection[str] | None) -> list[SectionSpec]:
        # A run that verifies no environment pays nothing for the components; one without the
        # shipped checklist imports only the components its profile configures.
        try:
            components[:] = all_components(_hooked_components(config), tables=tables)
        except ComponentLoadError as exc:
            raise pytest.UsageError(f"deployverify: {exc}") from None
        return profile_sections(components)

    redactor = Redactor()
    if environ.get(SIGNING_KEY_VAR):
        redactor.add(environ[SIGNING_KEY_VAR])
    loaded: LoadedProfile | None = None
    if env.value:
        folder = Path(env_dir.value or DEFAULT_ENV_DIR)
        if not folder.is_absolute():
            # CLI paths are relative to where pytest runs; ini and default paths to the rootdir.
            base = (
                Path.cwd()
                if env_dir.source in ("--env-dir", "DEPLOYVERIFY_ENV_DIR")
                else config.rootpath
            )
            folder = base / folder
        try:
            loaded = load_profile(
                env.value,
                folder,
                environ,
                display_root=config.rootpath,
                sections=configured if not choice.enabled else lambda tables: configured(None),
            )
        except ProfileError as exc:
            raise pytest.UsageError(f"deployverify: {exc}") from None
        for secret in loaded.profile.iter_secrets():
            redactor.add_secret(secret)
    _check_contradictions(config, loaded)
    profile = loaded.profile if loaded else None
    if profile is not None:
        from pytest_deployverify.pytest_plugin.rollback import configure_rollback

        profile = configure_rollback(
            config, profile, environ, lambda: _ini(config, "deployverify_rollback_to")
        )
    return RunContext(
        env=env,
        env_dir=env_dir,
        profile=profile,
        profile_path=loaded.path if loaded else None,
        allow_destructive=bool(config.getoption("deployverify_allow_destructive")),
        redactor=redactor,
        variables=loaded.variables if loaded else (),
        components=components,
        catalog=check_catalog(components),
        checklist=choice,
    )


def _hooked_components(config: pytest.Config) -> list[Component]:
    found: list[Component] = []
    for result in config.hook.pytest_deployverify_components(config=config):
        found += list(result or [])
    return found


def _ini(config: pytest.Config, name: str) -> str | None:
    value = config.getini(name)
    return str(value) if value else None


def _check_contradictions(config: pytest.Config, loaded: LoadedProfile | None) -> None:
    needs_env = [
        opt
        for opt, dest in (
            ("--signoff", "deployverify_signoff"),
            ("--approve", "deployverify_approve"),
            ("--attest", "deployverify_attest"),
            ("--signoff-exit", "deployverify_signoff_exit"),
            ("--signoff-key", "deployverify_signoff_key"),
            ("--rollback-to", "deployverify_rollback_to"),
        )
        if config.getoption(dest)
    ]
    if needs_env and loaded is None:
        raise pytest.UsageError(
            f"deployverify: {', '.join(needs_env)} needs an environment profile; "
            "pass --env NAME (or set DEPLOYVERIFY_ENV)"
        )
    if loaded is None:
        return
    profile = loaded.profile
    for approval in config.getoption("deployverify_approve"):
        if approval.role not in profile.roles:
            raise pytest.UsageError(
                f"deployverify: --approve {approval.role!r}: no such sign-off role in profile "
                f"{profile.name!r}; roles: {', '.join(profile.roles)}"
            )
    from pytest_deployverify.checks.manual import SHIPPED_MANUAL

    problems = profile.manual_problems(SHIPPED_MANUAL)
    if problems:
        raise pytest.UsageError(f"deployverify: profile {profile.name!r}: {'; '.join(problems)}")
    manual_ids = [m.id for m in profile.manual_items(SHIPPED_MANUAL)]
    for attestation in config.getoption("deployverify_attest"):
        if attestation.item_id not in manual_ids:
            known = ", ".join(manual_ids) or "none"
            raise pytest.UsageError(
                f"deployverify: --attest {attestation.item_id!r}: no manual item with that id in "
                f"profile {profile.name!r}; manual items: {known}"
            )
    exit_ini = _ini(config, "deployverify_signoff_exit")
    if exit_ini and exit_ini not in ("strict", "verdict"):
        raise pytest.UsageError(
            f"deployverify: ini key deployverify_signoff_exit = {exit_ini!r}; use strict or verdict"
        )
    signoffs = [p.resolve() for p in config.getoption("deployverify_signoff")]
    if len(signoffs) != len(set(signoffs)):
        raise pytest.UsageError("deployverify: --signoff names the same file twice")


def _register_reporters(config: pytest.Config, context: RunContext) -> None:
    from pytest_deployverify.pytest_plugin.recorder import SignoffRecorder

    recorder = SignoffRecorder(config, context)
    config.pluginmanager.register(recorder, "deployverify-signoff")
    if config.pluginmanager.hasplugin("html") and config.getoption("htmlpath", None):
        from pytest_deployverify.pytest_plugin.html import HtmlIntegration

        config.pluginmanager.register(HtmlIntegration(recorder), "deployverify-html")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    context = get_context(session.config)
    if context is not None and context.redactor:
        install_terminal_redaction(session.config, context.redactor)


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A parametrize id never shows a secret: a Secret, or a value holding a known one."""
    context = get_context(config)
    if context is None or not context.redactor:
        return None
    if isinstance(val, Secret):
        return f"{argname}-{MASK}"
    if isinstance(val, str) and context.redactor.contains_secret(val):
        return context.redactor.redact(val)
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    registry = config.stash.get(COMPONENT_REGISTRY, None)
    if registry is not None:  # an interrupted run: the session fixture never closed it
        registry.close()
    previous = config.stash.get(PREVIOUS_LOG_FACTORY, None)
    if previous is not None:
        logging.setLogRecordFactory(previous)


def pytest_report_header(config: pytest.Config) -> list[str]:
    context = get_context(config)
    if context is None or context.profile is None:
        return ["deployverify: no environment selected (use --env NAME to verify one)"]
    profile = context.profile
    lines = [
        f"deployverify: environment {profile.name!r} (from {context.env.source}), "
        f"profile {_shown(config, context.profile_path)}",
    ]
    configured = [c.name for c in context.components if c.configured_in(profile)]
    lines.append(
        "deployverify: expected version "
        + (profile.version or "(not set)")
        + "; components: "
        + (", ".join(configured) or "none")
    )
    from pytest_deployverify.pytest_plugin.rollback import rollback_of

    rollback = rollback_of(config)
    if rollback is not None:
        lines.append(f"deployverify: ROLLBACK verification: {rollback[1].describe()}")
    if profile.protected:
        guard = (
            "destructive checks ALLOWED (--allow-destructive)"
            if context.allow_destructive
            else "destructive checks will be HELD BACK (pass --allow-destructive to run them)"
        )
        lines.append(f"deployverify: PROTECTED environment: {guard}")
    return lines


def _shown(config: pytest.Config, path: Path | None) -> str:
    if path is None:
        return "-"
    try:
        return str(path.resolve().relative_to(config.rootpath.resolve()))
    except ValueError:
        return str(path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    context = get_context(config)
    if context is not None and context.profile is not None:
        # Before -m/-k deselection (a plain hook of pytest's own), so they apply to these too.
        from pytest_deployverify.pytest_plugin.rollback import rollback_modules

        modules = checklist_modules(context.components) + rollback_modules(config)
        items.extend(collect_checklist(session, modules, context.checklist))
    if context is not None and context.redactor:
        scrub_node_ids(items, context.redactor)
    profile = context.profile if context else None
    default = profile.default_severity.value if profile and profile.default_severity else None
    guard = bool(context and context.protected and not context.allow_destructive)
    destructive: list[pytest.Item] = []
    junit = profile is not None and bool(config.getoption("xmlpath", None))
    for item in items:
        meta = cached_metadata(item, default)
        if junit and profile is not None:
            item.user_properties.extend(junit_properties(meta, profile))
        if meta["destructive"]:
            destructive.append(item)
        if guard and meta["destructive"] and context is not None and profile is not None:
            context.held_back.append(item.nodeid)
            item.add_marker(
                pytest.mark.skip(
                    reason=f"destructive check held back: environment {profile.name!r} is "
                    "protected; pass --allow-destructive to run it"
                )
            )
    if destructive:
        # State-changing checks run last, so they cannot disturb what the read-only checks observe.
        chosen = set(destructive)
        items[:] = [item for item in items if item not in chosen] + destructive


def junit_properties(meta: ItemMeta, profile: Profile) -> list[tuple[str, str]]:
    """The checklist data of an item as JUnit ``<properties>`` (read by CI dashboards)."""
    from pytest_deployverify.signoff.waivers import active_waiver

    found = [
        ("deployverify.check_id", meta["check_id"]),
        ("deployverify.section", meta["section"] or "other"),
        ("deployverify.severity", meta["severity"] or "undeclared"),
    ]
    waiver = active_waiver(meta["check_id"], "", profile.waivers, dt.date.today())
    if waiver is not None:
        found.append(("deployverify.waiver", f"{waiver.ticket} until {waiver.expires.isoformat()}"))
    return found


def pytest_report_collectionfinish(
    config: pytest.Config, start_path: Path, items: list[pytest.Item]
) -> list[str]:
    context = get_context(config)
    if not context or not context.held_back:
        return []
    lines = [
        f"deployverify: WARNING: {len(context.held_back)} destructive check(s) held back on "
        f"protected environment {context.env_name!r} (pass --allow-destructive to run them):"
    ]
    lines += [f"  - {nodeid}" for nodeid in context.held_back]
    return lines


def pytest_itemcollected(item: pytest.Item) -> None:
    apply_declared_markers(item)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        context = get_context(items[0].config)
        if context is not None:
            context.selection["deselected"] += len(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    context = get_context(session.config)
    if context is not None:
        context.selection["collected"] = len(session.items) + context.selection["deselected"]
    _start_prefetch(session)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is None:
        return
    from pytest_deployverify.pytest_plugin.recorder import WORKER_SELECTION_KEY

    if context is not None:
        workeroutput[WORKER_SELECTION_KEY] = dict(context.selection)
    # Under xdist, tell the controller what every collected item is, so the sign-off can describe an
    # item whose worker crashed before it reported.
    from pytest_deployverify.pytest_plugin.recorder import WORKER_METADATA_KEY

    described: dict[str, dict[str, Any]] = {}
    for item in session.items:
        meta = item.stash.get(ITEM_META, None)
        if meta is not None:
            described[item.nodeid] = dict(meta)
    workeroutput[WORKER_METADATA_KEY] = described


def _start_prefetch(session: pytest.Session) -> None:
    """Fetch the snapshots the collected checks declare, concurrently, in the background.

    Not under pytest-xdist (each worker would read everything for the checks it may never get:
    there the workers themselves run in parallel) and not for --collect-only.
    """
    config = session.config
    context = get_context(config)
    if context is None or context.profile is None or not session.items:
        return
    if config.getoption("collectonly", False) or hasattr(config, "workerinput"):
        return
    refs = [ref for item in session.items for ref in cached_metadata(item)["reads"]]
    if refs:
        registry = component_registry(config, context.profile)
        registry.prefetch(refs, wait=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    meta = item.stash.get(ITEM_META, None)
    if meta is None:
        return
    if meta["error"]:
        pytest.fail(meta["error"], pytrace=False)
    if meta["declared"]:
        _prepare_declared(item, meta["reads"])


def _prepare_declared(item: pytest.Item, refs: list[str]) -> None:
    """A declared check that cannot apply is not applicable before anything is read: its primary
    component is not configured, or the profile does not set what it needs (``CheckSpec.applies``).
    Then the snapshots it judges are made ready."""
    context = get_context(item.config)
    spec = cached_spec(item)
    if context is None or context.profile is None or spec is None:
        return
    profile = context.profile
    reason: str | None = None
    primary = spec.components[0] if spec.components else None
    component = next((c for c in context.components if c.name == primary), None)
    if component is not None and not component.configured_in(profile):
        reason = str(NotConfigured(component.name, profile.name, component.key))
    reason = reason or spec.not_applicable(profile)
    if reason is not None:
        raise pytest.skip.Exception(NOT_APPLICABLE_PREFIX + reason, _use_item_location=True)
    if refs:
        _resolve_reads(item, refs)


def _resolve_reads(item: pytest.Item, refs: list[str]) -> None:
    """The snapshots a declared check judges, made ready before it runs: a component that is
    unreachable or a read that failed makes the check an error (it could not be judged), not a
    failure. Not applicable and not configured are left for the check to meet, since a check may
    read some snapshots only when the profile asks for them."""
    context = get_context(item.config)
    if context is None or context.profile is None:
        return
    registry = component_registry(item.config, context.profile)
    problem: str | None = None
    for ref in refs:
        try:
            registry.read(ref)
        except (ComponentUnavailable, ReadError) as exc:
            problem = str(exc)
            break
        except Exception:
            continue
    if problem is not None:
        pytest.fail(problem, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: Any, request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    try:
        return (yield)
    except NotApplicable as exc:
        raise _not_applicable_skip(exc) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except NotApplicable as exc:
        raise _not_applicable_skip(exc) from None


def _not_applicable_skip(exc: NotApplicable) -> BaseException:
    """A check or fixture raised the pure ``NotApplicable``: the skip of its own kind."""
    return pytest.skip.Exception(NOT_APPLICABLE_PREFIX + str(exc), _use_item_location=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # The checklist data rides on the call report, and on any setup or teardown report that did
    # not pass (an error, a skip); a passing setup or teardown has nothing to say, and skipping
    # it keeps the plugin's per-test cost low.
    if report.when == "call" or report.outcome != "passed":
        data: dict[str, Any] = dict(cached_metadata(item))
        evidence = item.stash.get(ITEM_EVIDENCE, None)
        data["evidence"] = list(evidence.entries) if evidence is not None else []
        report.deployverify = data  # type: ignore[attr-defined]
    context = get_context(item.config)
    if context is not None and hasattr(item.config, "workerinput") and not context.sent_collection:
        # A worker's first report carries what every collected item is, so the controller can
        # describe the items that never report, even when the run is cut short (Ctrl-C, a crash).
        context.sent_collection = True
        from pytest_deployverify.pytest_plugin.recorder import REPORT_COLLECTION_ATTRIBUTE

        described = {i.nodeid: dict(cached_metadata(i)) for i in item.session.items}
        setattr(report, REPORT_COLLECTION_ATTRIBUTE, described)
    if context is not None and context.redactor:
        # Every phase: a passing fixture may still have printed a secret into captured output.
        redact_report(report, context.redactor)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after capture adds sections
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    context = get_context(collector.config)
    if context is not None:
        redact_report(report, context.redactor)
    return report


# Fixtures live in fixtures.py and component_fixtures.py; pytest finds them through this namespace.
from pytest_deployverify.pytest_plugin.component_fixtures import (  # noqa: E402
    _deployverify_components,
    alertmanager,
    http_client,
    kube,
    postgres,
    prom_api,
    prometheus,
    redis_client,
    snapshot,
)

evidence = _fixtures.evidence
profile = _fixtures.profile
deployverify_context = _fixtures.deployverify_context
__all__ = [
    "Evidence",
    "_deployverify_components",
    "alertmanager",
    "deployverify_context",
    "evidence",
    "http_client",
    "kube",
    "postgres",
    "profile",
    "prom_api",
    "prometheus",
    "redis_client",
    "snapshot",
]
