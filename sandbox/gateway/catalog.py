"""The demo data the gateway serves: two tenants with a few venues and events each.

Ids are opaque and global (not per tenant) so that asking for another tenant's venue by id is a
realistic isolation probe.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

TENANTS: tuple[str, ...] = ("acme", "globex")


@dataclass(frozen=True)
class Venue:
    id: str
    tenant: str
    name: str
    city: str
    capacity: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Event:
    id: str
    tenant: str
    venue_id: str
    title: str
    starts_at: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


VENUES: tuple[Venue, ...] = (
    Venue("ven-7f3a", "acme", "Acme Arena", "Lisbon", 12_000),
    Venue("ven-19c2", "acme", "Acme Jazz Cellar", "Porto", 180),
    Venue("ven-b804", "acme", "Riverside Open Air", "Coimbra", 5_500),
    Venue("ven-4d61", "globex", "Globex Dome", "Rotterdam", 16_000),
    Venue("ven-e2a9", "globex", "Globex Theatre", "Utrecht", 900),
)

EVENTS: tuple[Event, ...] = (
    Event("evt-0101", "acme", "ven-7f3a", "Spring Rock Night", "2026-04-18T20:00:00Z"),
    Event("evt-0102", "acme", "ven-19c2", "Late Quartet", "2026-04-20T21:30:00Z"),
    Event("evt-0201", "globex", "ven-4d61", "Harbour Festival", "2026-05-02T18:00:00Z"),
    Event("evt-0202", "globex", "ven-e2a9", "Chamber Evening", "2026-05-09T19:30:00Z"),
)


def venues_of(tenant: str) -> list[Venue]:
    return [venue for venue in VENUES if venue.tenant == tenant]


def events_of(tenant: str) -> list[Event]:
    return [event for event in EVENTS if event.tenant == tenant]


def venue_by_id(venue_id: str) -> Venue | None:
    return next((venue for venue in VENUES if venue.id == venue_id), None)
