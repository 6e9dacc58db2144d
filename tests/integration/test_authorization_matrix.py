"""Every route in the OpenAPI document x every role, against one declared table.

A new route without a row here fails the suite: decide who may call it, then add the row.
"""

import re

import pytest

from rtcc.auth.permissions import ROLES

EVERYONE = frozenset(ROLES)
NOBODY = frozenset()
PUBLIC = "public"
SIGNING_IN = "signing-in"  # only a session half-way through sign-in (password accepted, MFA pending)

# (method, path) -> roles whose fully signed-in accounts may call it.
EXPECTED = {
    ("GET", "/api/v1/auth/banner"): PUBLIC,
    ("POST", "/api/v1/auth/sign-in"): PUBLIC,
    ("POST", "/api/v1/auth/mfa"): SIGNING_IN,
    ("POST", "/api/v1/auth/password"): EVERYONE,
    ("POST", "/api/v1/auth/sign-out"): EVERYONE,
    ("GET", "/api/v1/auth/me"): EVERYONE,
    ("GET", "/api/v1/users"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/users"): {"admin"},
    ("GET", "/api/v1/users/{username}"): {"admin", "supervisor", "auditor"},
    ("PATCH", "/api/v1/users/{username}"): {"admin"},
    ("POST", "/api/v1/users/{username}/unlock"): {"admin"},
    ("POST", "/api/v1/users/{username}/disable"): {"admin"},
    ("POST", "/api/v1/users/{username}/enable"): {"admin"},
    ("POST", "/api/v1/users/{username}/reset-credentials"): {"admin"},
    ("GET", "/api/v1/agencies"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/agencies"): {"admin"},
    ("GET", "/api/v1/tokens"): {"admin"},
    ("POST", "/api/v1/tokens"): {"admin"},
    ("DELETE", "/api/v1/tokens/{token_id}"): {"admin"},
    ("GET", "/api/v1/auth/tokens"): EVERYONE,  # one's own tokens: minted by their owner only
    ("POST", "/api/v1/auth/tokens"): EVERYONE,
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): EVERYONE,
    ("GET", "/api/v1/roles"): {"admin", "auditor"},
    ("GET", "/api/v1/audit/records"): {"auditor"},
    ("GET", "/api/v1/audit/export"): {"auditor"},
    ("GET", "/api/v1/audit/verify"): {"admin", "auditor"},
    ("GET", "/api/v1/audit/checkpoint"): PUBLIC,  # the transparency page: seq, hash, time, signature only
    ("GET", "/api/v1/cameras"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("GET", "/api/v1/cameras/{camera_id}"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("POST", "/api/v1/cameras"): {"admin"},
    ("GET", "/api/v1/cameras/map"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("GET", "/api/v1/cameras/seeing"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("GET", "/api/v1/cameras/near"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("GET", "/api/v1/cameras/health"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("POST", "/api/v1/cameras/import"): {"admin"},
    ("POST", "/api/v1/cameras/discover"): {"admin"},
    ("PATCH", "/api/v1/cameras/{camera_id}"): {"admin"},
    ("DELETE", "/api/v1/cameras/{camera_id}"): {"admin"},
    ("GET", "/api/v1/system/status"): {"admin", "supervisor"},
    ("GET", "/api/v1/cameras/{camera_id}/recordings"): {"supervisor", "analyst", "operator"},
    ("GET", "/api/v1/cameras/{camera_id}/playback"): {"supervisor", "analyst", "operator"},
    ("GET", "/api/v1/cameras/{camera_id}/snapshot"): {"supervisor", "analyst", "operator"},
    ("POST", "/api/v1/cameras/{camera_id}/exports"): {"supervisor", "analyst"},
    ("GET", "/api/v1/exports"): {"supervisor", "analyst"},
    ("POST", "/api/v1/cameras/{camera_id}/marks"): {"supervisor", "analyst", "operator"},
    ("POST", "/api/v1/alpr/reads"): {"admin", "operator"},
    ("POST", "/api/v1/cad/calls"): {"admin", "operator"},
    ("GET", "/api/v1/incidents"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("POST", "/api/v1/incidents"): {"supervisor", "analyst", "operator"},
    ("GET", "/api/v1/incidents/{incident_id}"): {"admin", "supervisor", "analyst", "operator", "field_officer"},
    ("POST", "/api/v1/incidents/{incident_id}/notes"): {"supervisor", "analyst", "operator"},
    ("POST", "/api/v1/incidents/{incident_id}/footage-requests"): {"supervisor", "analyst", "operator"},
    ("GET", "/api/v1/alpr/reads"): {"supervisor", "analyst"},
    ("POST", "/api/v1/alpr/hotlists"): {"admin", "supervisor"},
    ("GET", "/api/v1/alpr/hotlists"): {"admin", "supervisor", "analyst", "operator"},
    ("POST", "/api/v1/alpr/hotlists/{hotlist_id}/import"): {"admin", "supervisor"},
    ("GET", "/api/v1/alpr/alerts"): {"supervisor", "analyst", "operator", "field_officer"},
    ("POST", "/api/v1/alpr/alerts/{alert_id}/acknowledge"): {"supervisor", "analyst", "operator"},
    ("POST", "/api/v1/alpr/alerts/{alert_id}/verify"): {"supervisor", "analyst", "operator"},
    ("POST", "/api/v1/alpr/alerts/{alert_id}/disposition"): {"supervisor", "analyst", "operator"},
    ("GET", "/api/v1/alpr/alerts/false-hits"): {"supervisor", "analyst", "operator", "field_officer"},
    ("GET", "/api/v1/alpr/reads/{read_id}/crop"): {"supervisor", "analyst", "operator", "field_officer"},
    ("GET", "/api/v1/exports/{export_id}/verify"): {"supervisor", "analyst"},
    ("POST", "/api/v1/shares"): {"supervisor", "analyst", "operator"},
    ("GET", "/api/v1/shares"): {"supervisor", "analyst", "operator"},
    ("GET", "/api/v1/shares/{share_id}"): {"supervisor", "analyst", "operator"},
    ("POST", "/api/v1/shares/{share_id}/revoke"): {"supervisor", "analyst", "operator"},
}
# Path parameters that name nothing, so an allowed call changes nothing (404) but is authorised.
PLACEHOLDERS = {"username": "no-such-user", "token_id": "999999", "camera_id": "999999", "export_id": "999999", "hotlist_id": "999999",
                "alert_id": "999999", "read_id": "999999",
                "incident_id": "999999", "share_id": "999999"}
# Calls that end the caller's session go last.
LAST = {("POST", "/api/v1/auth/sign-out")}


def api_routes(client):
    document = client.get("/api/openapi.json").json()
    routes = []
    for path, methods in document["paths"].items():
        for method in methods:
            routes.append((method.upper(), path))
    return [r for r in routes if r[1].startswith("/api/v1")]


def call(client, method, path):
    url = re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], path)
    body = {} if method in ("POST", "PATCH", "PUT") else None
    return client.request(method, url, json=body)


def test_every_route_has_a_declared_rule(client):
    routes = api_routes(client)
    assert len(routes) >= 20
    missing = [f"{method} {path}" for method, path in routes if (method, path) not in EXPECTED]
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    stale = [f"{m} {p}" for m, p in EXPECTED if (m, p) not in routes]
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"


def test_anonymous_callers_reach_only_public_routes(client):
    for method, path in api_routes(client):
        status = call(client, method, path).status_code
        if EXPECTED[(method, path)] == PUBLIC:
            assert status not in (401, 403), f"{method} {path} refused an anonymous caller"
        else:
            assert status == 401, f"{method} {path} answered {status} to an anonymous caller"


def test_each_role_is_allowed_and_denied_exactly_as_declared(client, signed_in_as):
    routes = sorted(api_routes(client), key=lambda route: route in LAST)
    failures = []
    for role in ROLES:
        role_client, _ = signed_in_as(role)
        for method, path in routes:
            rule = EXPECTED[(method, path)]
            status = call(role_client, method, path).status_code
            if rule == PUBLIC:
                allowed = True
            elif rule == SIGNING_IN:
                allowed = False  # a fully signed-in session has nothing to verify
            else:
                allowed = role in rule
            if allowed and status in (401, 403):
                failures.append(f"{role}: {method} {path} refused ({status}) but is declared allowed")
            if not allowed and status != 403:
                failures.append(f"{role}: {method} {path} answered {status} but is declared denied")
    assert not failures, "\n".join(failures)


def test_refusals_are_audited(signed_in_as, runtime):
    analyst, person = signed_in_as("analyst")
    assert analyst.get("/api/v1/audit/records").status_code == 403
    from rtcc.audit import service as audit

    with runtime.database.session() as db:
        denied = audit.search(db, query=audit.AuditQuery(username=person.username, outcome="denied"))
    assert [(r.action, r.object_id) for r in denied] == [("access.denied", "GET /api/v1/audit/records")]


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_a_half_signed_in_session_reaches_nothing_protected(client, runtime, role):
    from support import create_person

    person = create_person(runtime, f"half{role}", role)
    client.post("/api/v1/auth/sign-in", json={"username": person.username, "password": person.password, "banner_acknowledged": True})
    for method, path in api_routes(client):
        rule = EXPECTED[(method, path)]
        if rule in (PUBLIC, SIGNING_IN) or path.endswith("sign-out"):
            continue
        assert call(client, method, path).status_code in (401, 403), f"{method} {path} open before MFA"
