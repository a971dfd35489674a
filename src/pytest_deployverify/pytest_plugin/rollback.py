"""Rollback mode: ``--rollback-to VERSION`` (also ``DEPLOYVERIFY_ROLLBACK_TO``, ini
``deployverify_rollback_to``) verifies that a failed release was rolled back, with the same profile
that verified its deployment.

Settled at configure time: the run's profile becomes ``checks.rollback.rollback_profile`` (the
version rolled back to is the expected one everywhere), the rollback items
(``checklist/test_rollback.py``) are collected, and the sign-off says it verified a rollback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

from pytest_deployverify.checks.versions import same_version
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.settings import SettingError, resolve
from pytest_deployverify.pytest_plugin.options import parse_rollback_at
from pytest_deployverify.signoff.model import RollbackInfo

if TYPE_CHECKING:
    # The rollback checks read Kubernetes objects: imported only by a run that verifies one.
    from pytest_deployverify.checks.rollback import RollbackTarget

ROLLBACK_TO_VARIABLE = "DEPLOYVERIFY_ROLLBACK_TO"
ROLLBACK_AT_VARIABLE = "DEPLOYVERIFY_ROLLBACK_AT"
ROLLBACK_INI = "deployverify_rollback_to"
CHECKLIST_MODULE = "pytest_deployverify.checklist.test_rollback"

# The rollback a run verifies (absent: the run verifies a deployment).
ROLLBACK = pytest.StashKey[tuple["RollbackTarget", RollbackInfo]]()


def rollback_of(config: pytest.Config) -> tuple[RollbackTarget, RollbackInfo] | None:
    return config.stash.get(ROLLBACK, None)


def configure_rollback(
    config: pytest.Config,
    profile: Profile,
    environ: Mapping[str, str],
    ini: Callable[[], str | None],
) -> Profile:
    """The profile this run verifies: ``profile`` itself, or, in rollback mode, the profile as
    a rollback run reads it (the target is kept in ``config.stash``). ``SettingError`` names
    what is wrong with the options."""
    chosen = resolve(
        option="--rollback-to",
        cli_value=config.getoption("deployverify_rollback_to", None),
        env_var=ROLLBACK_TO_VARIABLE,
        environ=environ,
        ini_name=ROLLBACK_INI,
        ini_value=ini,
    )
    at_text = config.getoption("deployverify_rollback_at", None)
    at_source = "--rollback-at"
    if at_text is None and ROLLBACK_AT_VARIABLE in environ:
        at_source = ROLLBACK_AT_VARIABLE
        try:
            at_text = parse_rollback_at(environ[ROLLBACK_AT_VARIABLE])
        except argparse.ArgumentTypeError as exc:
            raise SettingError(f"{ROLLBACK_AT_VARIABLE}: {exc}") from None
    if chosen.value is None:
        if at_text is not None:
            raise SettingError(
                f"{at_source} says when a rollback happened, but no rollback is verified: "
                "add --rollback-to VERSION"
            )
        return profile
    to = chosen.value
    failed = profile.version
    if not failed:
        raise SettingError(
            f"{chosen.source} {to}: the profile {profile.name!r} sets no version; its version "
            'names the release that failed and was rolled back (version = "1.4.2")'
        )
    if same_version(to, failed):
        raise SettingError(
            f"{chosen.source} {to}: that is the profile's own version, the release that was "
            "rolled back; name the previous release, the one the rollback restored"
        )
    from pytest_deployverify.checks.rollback import RollbackTarget, rollback_profile

    target = RollbackTarget(
        to_version=to,
        failed_version=failed,
        at=at_text,
        at_source=at_source if at_text is not None else None,
    )
    info = RollbackInfo(
        to_version=to,
        failed_version=failed,
        source=chosen.source,
        at=at_text.isoformat(timespec="seconds") if at_text is not None else None,
        at_source=target.at_source,
    )
    config.stash[ROLLBACK] = (target, info)
    return rollback_profile(profile, target)


def rollback_modules(config: pytest.Config) -> list[str]:
    """The checklist modules a rollback run adds (none for a deployment)."""
    return [CHECKLIST_MODULE] if rollback_of(config) is not None else []
