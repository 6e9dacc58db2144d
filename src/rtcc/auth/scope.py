"""Who sees what: the one scope policy every service, the event feed and the console pages apply.

A permission (auth/permissions.py) says what kind of thing an actor may touch; this module says which ones: the
agencies whose records, cameras and accounts are inside the actor's scope, and, for cameras, the camera groups.
Everyone sees their own agency's things. The table below names who sees every agency's, per kind of thing, and
why. Nowhere else compares an actor's role or way in (`via`) to decide scope (tests/unit/test_scope_policy_home.py).

Principals yet to come land here: a camera owner (a person outside any agency) gets a rule for their own cameras,
and a partner agency under an agreement adds agencies to `agencies_visible_to`; the callers do not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rtcc.core.actor import Actor

if TYPE_CHECKING:
    from rtcc.core.events import Event

# Kinds of thing whose agency decides who sees them.
CAMERAS = "cameras"  # the camera registry, and what a camera records (video, reads, exports)
HOTLISTS = "hotlists"  # the lists of plates sought (NCIC, state, local) that alerts are raised against
RECORDS = "records"  # an agency's casework: alerts, incidents, calls for service, field shares
ACCOUNTS = "accounts"  # people's accounts and what happens to them
AUDIT = "audit"  # the record of what everyone did
KINDS = (CAMERAS, HOTLISTS, RECORDS, ACCOUNTS, AUDIT)

# The server acting for itself (jobs, ingest from its own devices) and the operator at its console (`rtcc ...`):
# both run with the whole installation's authority, so no agency boundary applies to them.
MACHINE_WAYS_IN = frozenset({"system", "cli"})


@dataclass(frozen=True)
class EveryAgency:
    """Who sees every agency's things of one kind: these roles, and actors that came in these ways."""

    roles: frozenset[str]
    ways_in: frozenset[str] = MACHINE_WAYS_IN


# The one table. Admins administer: they register every agency's cameras (a camera in the registry shows no
# video; admins hold no video permission), load every agency's hotlists and manage every agency's accounts; the
# casework of an agency (alerts, incidents, calls, shares) stays that agency's, admins included. Auditors
# oversee the whole centre: every agency's accounts and audit trail, never the surveillance data itself.
EVERY_AGENCY: dict[str, EveryAgency] = {
    CAMERAS: EveryAgency(roles=frozenset({"admin"})),
    HOTLISTS: EveryAgency(roles=frozenset({"admin"})),
    RECORDS: EveryAgency(roles=frozenset()),
    ACCOUNTS: EveryAgency(roles=frozenset({"admin", "auditor"})),
    AUDIT: EveryAgency(roles=frozenset({"auditor"})),
}

# Records that belong to the person who made them (a field share is its sender's), and the roles that also see
# the ones of everyone in their own agency.
SHARES = "shares"
OVERSEERS: dict[str, frozenset[str]] = {
    SHARES: frozenset({"supervisor"}),
}

# Who may be sent a field link (a snapshot, clip or live view on their phone).
FIELD_LINK_RECIPIENT_ROLES = frozenset({"field_officer"})

# Which kind of thing an event concerns, from the permission needed to receive it (the rest are records).
EVENT_KINDS: dict[str, str] = {
    "cameras.view": CAMERAS,
    "hotlists.view": HOTLISTS,
    "users.read": ACCOUNTS,
    "audit.read": AUDIT,
    "audit_review.read": AUDIT,
}


def sees_every_agency(actor: Actor, *, kind: str) -> bool:
    """Whether the actor's scope for this kind of thing spans every agency."""
    rule = EVERY_AGENCY[kind]
    return actor.role in rule.roles or actor.via in rule.ways_in


def agencies_visible_to(actor: Actor, *, kind: str) -> frozenset[str] | None:
    """The ORIs of the agencies whose things of this kind the actor sees; None means every agency."""
    if sees_every_agency(actor, kind=kind):
        return None
    # Partner agencies under an agreement will be added here.
    return frozenset({actor.agency_ori}) if actor.agency_ori else frozenset()


def sees_agency(actor: Actor, agency_ori: str | None, *, kind: str = RECORDS) -> bool:
    """Whether a thing of this kind owned by this agency is inside the actor's scope.

    A thing that names no agency (an incident opened from the server's console) is no agency's: only the
    permission decides, as for a read from an external reader.
    """
    if agency_ori is None:
        return True
    agencies = agencies_visible_to(actor, kind=kind)
    return agencies is None or agency_ori in agencies


def account_agency_filter(actor: Actor) -> str | None:
    """The agency whose accounts the actor may list (their own), or None for every agency's."""
    return None if sees_every_agency(actor, kind=ACCOUNTS) else actor.agency_ori


def camera_groups_limit(actor: Actor) -> tuple[str, ...] | None:
    """The camera groups the actor is limited to, or None when every group of the agencies they see is theirs."""
    if sees_every_agency(actor, kind=CAMERAS):
        return None
    return actor.camera_groups


def sees_camera_groups(actor: Actor, groups: Iterable[str]) -> bool:
    """Whether a camera in these groups passes the actor's camera-group limit (the agency aside)."""
    limit = camera_groups_limit(actor)
    return limit is None or bool(set(limit) & set(groups))


def sees_camera(actor: Actor, *, agency_ori: str | None, groups: Iterable[str]) -> bool:
    """Whether a camera of this agency and these groups is inside the actor's scope (agency None: groups only)."""
    return sees_agency(actor, agency_ori, kind=CAMERAS) and sees_camera_groups(actor, groups)


def agency_condition(actor: Actor, column, *, kind: str):
    """A SQL condition keeping rows whose agency ORI (`column`) is in scope, or None when nothing is excluded."""
    agencies = agencies_visible_to(actor, kind=kind)
    return None if agencies is None else column.in_(sorted(agencies))


def oversees(actor: Actor, agency_ori: str | None, *, kind: str) -> bool:
    """Whether the actor sees everyone's personal records of this kind in this agency (a supervisor's shares)."""
    return oversees_own_agency(actor, kind=kind) and agency_ori is not None and agency_ori == actor.agency_ori


def oversees_own_agency(actor: Actor, *, kind: str) -> bool:
    """Whether the actor's role oversees the personal records of this kind of everyone in their agency."""
    return actor.role in OVERSEERS.get(kind, frozenset())


def receives_field_links(role: str | None) -> bool:
    """Whether an account of this role may be sent field links."""
    return role in FIELD_LINK_RECIPIENT_ROLES


def event_visible_to(event: Event, actor: Actor) -> bool:
    """Whether a subscriber may receive this event: its permission, then the agency and camera scope of its kind."""
    if not actor.can(event.permission):
        return False
    if not sees_agency(actor, event.agency_ori, kind=EVENT_KINDS.get(event.permission, RECORDS)):
        return False
    return event.camera_groups is None or sees_camera_groups(actor, event.camera_groups)
