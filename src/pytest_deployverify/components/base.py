"""The one contract every component follows: a profile section, a client, readers, messages.

A ``Component`` says, in one declaration, everything the run needs to know about one kind of target:

* ``sections``: the profile tables it owns (the first one decides whether it is configured), with the
  dataclass that validates each; they are validated and documented like the profile's own keys;
* ``connect``: how its client is built, including one cheap probe within the configured timeout, so a
  dead component fails once with a message naming it and its (masked) endpoint;
* ``reads``: named readers that turn the component into plain snapshots for the checks;
* ``checks``: the declarations of the checklist items that judge it (``checks.declarations``), and
  ``checklist``: the modules of test items the plugin collects for it.

Readers get a ``ReadContext``: the component's client and section, the profile, and access to other
snapshots (``ctx.read("kubernetes.objects")``). A reader raises ``NotApplicable`` when the profile does
not ask for what it reads, ``ReadError`` when this one read failed, ``ComponentUnavailable`` when the
component as a whole is unusable. No pytest here: scripts and the CLI use components too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_deployverify.checks.declarations import CheckSpec
from pytest_deployverify.profile.model import Profile, SectionSpec

__all__ = ["Component", "ReadContext", "Reader", "SectionSpec"]


class ReadContext(Protocol):
    """What a reader gets: its component's client and section, the profile, other snapshots."""

    @property
    def component(self) -> Component: ...

    @property
    def profile(self) -> Profile: ...

    @property
    def section(self) -> Any: ...

    @property
    def client(self) -> Any: ...

    def read(self, ref: str) -> Any: ...


Reader = Callable[[ReadContext], Any]
Connect = Callable[[Any, Profile], Any]


def _default_endpoint(section: Any) -> str:
    """The masked endpoint of a profile section, for messages: the first URL-like field."""
    for name in ("url", "base_url", "dsn", "server"):
        value = getattr(section, name, None)
        if value is not None:
            return str(value)  # Endpoint.__str__ is the masked display form
    return "(no endpoint in the profile)"


def _close_client(client: Any) -> None:
    close = getattr(client, "close", None)
    if callable(close):
        close()


@dataclass(frozen=True)
class Component:
    """One kind of target the checklist verifies. See the module docstring for the contract."""

    name: str
    title: str
    sections: tuple[SectionSpec, ...]
    connect: Connect | None = None
    reads: Mapping[str, Reader] = field(default_factory=dict)
    checks: tuple[CheckSpec, ...] = ()
    checklist: tuple[str, ...] = ()
    # The pip extra that brings its client library, for the message when it is missing.
    extra: str | None = None
    endpoint: Callable[[Any], str] = _default_endpoint
    close: Callable[[Any], None] = _close_client
    description: str = ""
    # Reads that measure time (latency): never prefetched alongside the others, and run only
    # once the concurrent reads are done, so the verifier's own load does not skew them.
    exclusive: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.sections:
            raise ValueError(f"component {self.name!r} declares no profile section")
        for ref in self.reads:
            if "." in ref:
                raise ValueError(f"component {self.name!r}: read name {ref!r} must not contain '.'")
        unknown = sorted(self.exclusive - set(self.reads))
        if unknown:
            raise ValueError(f"component {self.name!r}: exclusive reads {unknown} are not reads")

    @property
    def key(self) -> str:
        """The profile key whose presence makes the component configured."""
        return self.sections[0].key

    def configured_in(self, profile: Profile) -> bool:
        value = profile.sections.get(self.key)
        return value is not None and value != ()

    def not_configured(self, profile: Profile) -> str:
        return (
            f"{self.name} is not configured for environment {profile.name}: "
            f"add a [{self.key}] table to the profile to verify it"
        )


def read_ref(component: str, read: str) -> str:
    return f"{component}.{read}"


def split_ref(ref: str) -> tuple[str, str]:
    component, sep, read = ref.partition(".")
    if not sep or not component or not read:
        raise ValueError(f"snapshot reference {ref!r} must be 'component.read'")
    return component, read
