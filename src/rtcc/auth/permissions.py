"""Roles and the permissions each holds: the one table every route's rule refers to."""

from __future__ import annotations

ROLES = (
    "admin",
    "supervisor",
    "analyst",
    "operator",
    "field_officer",
    "auditor",
    "partner_agency",
    "camera_owner",
)

# Every permission, with what it allows. Routes name one of these (or a sign-in stage).
PERMISSIONS: dict[str, str] = {
    "account.self": "see one's own account and sessions",
    "users.read": "list and view accounts",
    "users.manage": "create, change, unlock, disable and enable accounts",
    "agencies.read": "list agencies",
    "agencies.manage": "create agencies",
    "tokens.manage": "issue, list and revoke API tokens",
    "roles.read": "see roles and their permissions",
    "audit.read": "search the audit trail",
    "audit.export": "export the audit trail as CSV or JSON",
    "audit.verify": "verify the audit chain",
    "audit_review.read": "see the audit-review queue: flags, the records they link, reviews and weekly reviews",
    "audit_review.record": "review flags (cleared or referred, with notes) and complete one's weekly review",
    "cameras.view": "see cameras in one's scope",
    "cameras.manage": "add, change, import and remove cameras",
    "video.live": "watch cameras in scope live",
    "video.mark": "mark an event on a camera (event-only cameras keep video around marks)",
    "video.playback": "play back recorded video and stills of cameras in scope",
    "video.export": "export clips as evidence (with a case number and purpose)",
    "alpr.ingest": "send plate reads (ALPR devices and integrations)",
    "alpr.search": "search plate reads (always with a purpose and a case number)",
    "hotlists.view": "see hotlists",
    "hotlists.manage": "create hotlists and import their entries",
    "alerts.view": "see plate alerts",
    "alerts.verify": "verify plate alerts and record their dispositions",
    "cad.ingest": "send calls for service (CAD integrations)",
    "incidents.view": "see incidents, their timelines and docked cameras",
    "incidents.manage": "work incidents: add notes",
    "shares.send": "send snapshots, clips and time-limited live links to field officers (with a purpose and case number)",
    "releases.request": "make public-records release copies of clips: request, draw boxes to blur, render, download once approved",
    "releases.approve": "approve or reject a release copy someone else requested",
    "transparency.manage": "enter the annual surveillance report's costs and complaints (published as entered)",
    "policy.read": "see agencies' kinds, sharing agreements, policies in force and the policy engine's decisions",
    "policy.manage": "record agencies' kinds, make and end sharing agreements, load policies, add purposes",
    "retention.read": "see retention policies in force, legal holds and deletion receipts",
    "retention.manage": "set retention policies and load jurisdiction presets (every change versioned and audited)",
    "holds.manage": "place and release legal holds (with a reason and a review date)",
    "cases.manage": "close and reopen cases (with a reason): starts and stops their case-closed retention clock",
    "events.subscribe": "receive live events one may see",
    "system.status": "see detailed system status",
}

_EVERYONE = {"account.self", "events.subscribe"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        _EVERYONE | {
            "retention.read", "retention.manage",
            "users.read", "users.manage", "agencies.read", "agencies.manage", "tokens.manage", "policy.read", "policy.manage",
            "roles.read", "audit.verify", "cameras.view", "cameras.manage", "system.status", "alpr.ingest",
            "hotlists.view", "hotlists.manage", "cad.ingest", "incidents.view", "transparency.manage",
        }
    ),
    "supervisor": frozenset(
        _EVERYONE | {"retention.read", "holds.manage", "cases.manage",
                     "users.read", "agencies.read", "policy.read", "cameras.view", "video.live", "video.playback", "video.export",
                     "video.mark", "system.status", "alpr.search", "hotlists.view", "hotlists.manage", "alerts.view",
                     "audit_review.read", "audit_review.record",
                     "alerts.verify", "incidents.view", "incidents.manage", "shares.send", "releases.request",
                     "releases.approve"}
    ),
    "analyst": frozenset(_EVERYONE | {"cameras.view", "video.live", "video.playback", "video.export", "video.mark",
                                      "alpr.search", "hotlists.view", "alerts.view", "alerts.verify", "incidents.view",
                                      "incidents.manage", "shares.send", "releases.request"}),
    "operator": frozenset(_EVERYONE | {"cameras.view", "video.live", "video.playback", "video.mark", "alpr.ingest",
                                       "hotlists.view", "alerts.view", "alerts.verify", "cad.ingest", "incidents.view",
                                       "incidents.manage", "shares.send"}),
    "field_officer": frozenset(_EVERYONE | {"cameras.view", "video.live", "alerts.view", "incidents.view"}),
    # Oversight reads the record of what everyone did, not the surveillance data itself.
    "auditor": frozenset(
        _EVERYONE | {"retention.read",
                     "audit_review.read", "audit.read", "audit.export", "audit.verify", "roles.read", "agencies.read", "users.read", "policy.read"}
    ),
    "partner_agency": frozenset({"account.self"}),
    "camera_owner": frozenset({"account.self"}),
}

# What reveals people's movements, video or searches. A token carrying one of these acts as its owner, so
# only the owner may mint it: an admin minting one for someone else could watch and search in their name.
SURVEILLANCE_PERMISSIONS = frozenset({
    "video.live", "video.mark", "video.playback", "video.export", "alpr.search", "hotlists.view", "alerts.view",
    "alerts.verify", "incidents.view", "incidents.manage", "shares.send", "releases.request", "releases.approve",
})

# Route rules that are not permissions: who may call while signing in.
PUBLIC = "public"
SIGN_IN_MFA = "sign_in.mfa"  # password accepted, MFA code (or enrolment) pending
SIGN_IN_PASSWORD = "sign_in.password"  # must set a new password, or an active session changing it
ANY_SESSION = "sign_in.any"  # any session at all (sign-out)
STAGE_RULES = (PUBLIC, SIGN_IN_MFA, SIGN_IN_PASSWORD, ANY_SESSION)


def permissions_of(role: str) -> frozenset[str]:
    """The permissions a role holds (none for an unknown role)."""
    return ROLE_PERMISSIONS.get(role, frozenset())


def assert_complete() -> None:
    """Every role has an entry and names only declared permissions."""
    for role in ROLES:
        unknown = permissions_of(role) - PERMISSIONS.keys()
        if role not in ROLE_PERMISSIONS or unknown:
            raise AssertionError(f"role {role}: missing or unknown permissions {sorted(unknown)}")
    if SURVEILLANCE_PERMISSIONS - PERMISSIONS.keys():
        raise AssertionError(f"unknown surveillance permissions {sorted(SURVEILLANCE_PERMISSIONS - PERMISSIONS.keys())}")
