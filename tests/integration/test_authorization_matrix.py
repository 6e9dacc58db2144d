"""Every route the app serves x every role, against one declared table.

The walk covers app.routes, not only the OpenAPI document: the /api/v1 operations, the console's HTML pages, the
field pages, the WebSocket routes and what is served to anyone (health, static files, the API's own document). A
new route without a row here fails the suite: decide who may call it, then add the row.
"""

import re
from urllib.parse import quote

import pytest
from starlette.routing import Mount
from starlette.websockets import WebSocketDisconnect

from rtcc.auth.permissions import ROLES

EVERYONE = frozenset(ROLES)
NOBODY = frozenset()
PUBLIC = "public"
SIGNING_IN = "signing-in"  # only a session half-way through sign-in (password accepted, MFA pending)
FIELD_LINK = "field-link"  # the token in the path is the credential (a field officer's phone, no session)
# (method, path) -> roles whose fully signed-in accounts may call it.
EXPECTED = {
    ("GET", "/api/v1/auth/banner"): PUBLIC,
    ("GET", "/api/v1/retention/policies"): {"admin", "supervisor", "auditor"},
    ("GET", "/api/v1/retention/policies/{data_class}/versions"): {"admin", "supervisor", "auditor"},
    ("PUT", "/api/v1/retention/policies/{data_class}"): {"admin"},
    ("GET", "/api/v1/retention/presets"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/retention/presets/load"): {"admin"},
    ("GET", "/api/v1/retention/holds"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/retention/holds"): {"supervisor"},
    ("POST", "/api/v1/retention/holds/{hold_id}/release"): {"supervisor"},
    ("GET", "/api/v1/retention/receipts"): {"admin", "supervisor", "auditor"},
    ("GET", "/api/v1/retention/cases"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/retention/cases"): {"supervisor"},
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
    ("GET", "/api/v1/audit-review/flags"): {"supervisor", "auditor"},  # supervisors review, auditors read
    ("GET", "/api/v1/audit-review/flags/{flag_id}"): {"supervisor", "auditor"},
    ("POST", "/api/v1/audit-review/flags/{flag_id}/reviews"): {"supervisor"},
    ("GET", "/api/v1/audit-review/weekly"): {"supervisor", "auditor"},
    ("POST", "/api/v1/audit-review/weekly"): {"supervisor"},
    ("GET", "/api/v1/audit-review/status"): {"supervisor", "auditor"},
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
    ("GET", "/api/v1/public/transparency"): PUBLIC,  # the transparency portal: counts only, no sign-in
    ("GET", "/api/v1/public/transparency/report/{year}"): PUBLIC,
    ("GET", "/api/v1/transparency/years"): {"admin"},  # the annual report's costs and complaints
    ("PUT", "/api/v1/transparency/years/{year}"): {"admin"},
    ("GET", "/api/v1/policy/agencies"): {"admin", "supervisor", "auditor"},
    ("PUT", "/api/v1/policy/agencies/{ori}"): {"admin"},
    ("GET", "/api/v1/policy/agreements"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/policy/agreements"): {"admin"},
    ("GET", "/api/v1/policy/agreements/{agreement_id}"): {"admin", "supervisor", "auditor"},
    ("PATCH", "/api/v1/policy/agreements/{agreement_id}"): {"admin"},
    ("DELETE", "/api/v1/policy/agreements/{agreement_id}"): {"admin"},
    ("PUT", "/api/v1/policy/agreements/{agreement_id}/document"): {"admin"},
    ("GET", "/api/v1/policy/agreements/{agreement_id}/document"): {"admin", "supervisor", "auditor"},
    ("GET", "/api/v1/policy/policies"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/policy/policies"): {"admin"},
    ("GET", "/api/v1/policy/purposes"): EVERYONE,  # the purpose list every search, export and share picks from
    ("POST", "/api/v1/policy/purposes"): {"admin"},
    ("GET", "/api/v1/policy/decisions"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/v1/releases"): {"supervisor", "analyst"},
    ("GET", "/api/v1/releases"): {"supervisor", "analyst"},
    ("GET", "/api/v1/releases/{release_id}"): {"supervisor", "analyst"},
    ("GET", "/api/v1/releases/{release_id}/frame"): {"supervisor", "analyst"},
    ("POST", "/api/v1/releases/{release_id}/boxes"): {"supervisor", "analyst"},
    ("POST", "/api/v1/releases/{release_id}/render"): {"supervisor", "analyst"},
    ("GET", "/api/v1/releases/{release_id}/review"): {"supervisor"},
    ("POST", "/api/v1/releases/{release_id}/decision"): {"supervisor"},
    ("GET", "/api/v1/releases/{release_id}/copy"): {"supervisor", "analyst"},
}
# Outside /api/v1: (method, path) -> rule. Console pages name the roles whose accounts may open them (the page
# checks the permission itself and sends anyone else back to the console with a notice).
ALERT_DESK = {"supervisor", "analyst", "operator", "field_officer"}
ALERT_VERIFIERS = {"supervisor", "analyst", "operator"}
PAGES = {
    ("GET", "/"): PUBLIC,  # sends the browser on to sign-in or the console
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("GET", "/sign-in/mfa"): PUBLIC,  # each sign-in step checks its own stage
    ("POST", "/sign-in/mfa"): PUBLIC,
    ("GET", "/sign-in/password"): PUBLIC,
    ("POST", "/sign-in/password"): PUBLIC,
    ("POST", "/sign-out"): PUBLIC,
    ("GET", "/console"): EVERYONE,
    ("GET", "/console/basemap.geojson"): EVERYONE,
    ("GET", "/console/users"): {"admin", "supervisor", "auditor"},
    ("POST", "/console/users"): {"admin"},
    ("POST", "/console/users/{username}/{action}"): {"admin"},
    ("GET", "/console/audit"): {"auditor"},
    ("GET", "/console/audit-review"): {"supervisor", "auditor"},
    ("GET", "/console/retention"): {"admin", "supervisor", "auditor"},
    ("POST", "/console/retention/holds"): {"supervisor"},
    ("POST", "/console/retention/holds/{hold_id}/release"): {"supervisor"},
    ("POST", "/console/retention/policies"): {"admin"},
    ("POST", "/console/retention/presets"): {"admin"},
    ("POST", "/console/retention/cases"): {"supervisor"},
    ("GET", "/console/audit-review/flags/{flag_id}"): {"supervisor", "auditor"},
    ("POST", "/console/audit-review/flags/{flag_id}/review"): {"supervisor"},
    ("POST", "/console/audit-review/weekly"): {"supervisor"},
    ("GET", "/console/alerts"): ALERT_DESK,
    ("POST", "/console/alerts/{alert_id}/verify"): ALERT_VERIFIERS,
    ("POST", "/console/alerts/{alert_id}/disposition"): ALERT_VERIFIERS,
    ("GET", "/console/plates"): {"supervisor", "analyst"},
    ("GET", "/console/transparency"): {"admin"},
    ("POST", "/console/transparency"): {"admin"},
    ("GET", "/console/releases"): {"supervisor", "analyst"},
    ("GET", "/field/{token}"): FIELD_LINK,
    ("POST", "/field/{token}/verify"): FIELD_LINK,
    ("GET", "/field/{token}/media"): FIELD_LINK,
    ("GET", "/transparency"): PUBLIC,  # the public portal and annual report (HTML, PDF)
    ("GET", "/transparency/report/{year}"): PUBLIC,
    ("GET", "/transparency/report/{year}.pdf"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,  # liveness for load balancers: no detail (that is /api/v1/system/status)
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("MOUNT", "/static"): PUBLIC,  # the console's scripts, styles and icons
}
# WebSocket routes -> rule.
WEBSOCKETS = {
    "/api/v1/events": EVERYONE - {"partner_agency", "camera_owner"},
    "/api/v1/cameras/{camera_id}/live": {"supervisor", "analyst", "operator", "field_officer"},
    "/field/{token}/live": FIELD_LINK,
}
# Path parameters that name nothing, so an allowed call changes nothing (404) but is authorised.
PLACEHOLDERS = {"data_class": "no_such_class", "hold_id": "999999", "username": "no-such-user", "flag_id": "999999", "token_id": "999999", "camera_id": "999999", "export_id": "999999", "hotlist_id": "999999",
                "alert_id": "999999", "read_id": "999999", "action": "unlock", "ori": "ZZ9999999", "agreement_id": "999999",
                "incident_id": "999999", "year": "1999", "share_id": "999999", "release_id": "999999", "token": "not-a-link-anyone-was-sent"}
# Calls that end the caller's session go last.
LAST = {("POST", "/api/v1/auth/sign-out")}
PERMISSION_NOTICE = quote("You do not have permission to open that page.")
CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND = 4401, 4403, 4404


def served_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves: ("WS", path) for a WebSocket, ("MOUNT", path) for a mount."""
    try:  # FastAPI keeps included routers as branches; this walks into them
        from fastapi.routing import iter_route_contexts

        contexts = [(context.original_route, context.path, context.methods) for context in iter_route_contexts(app.routes)]
    except ImportError:
        contexts = [(route, route.path, getattr(route, "methods", None)) for route in app.routes]
    served = set()
    for route, path, methods in contexts:
        if isinstance(route, Mount):
            served.add(("MOUNT", path))
        elif methods:
            served.update((method, path) for method in methods if method != "HEAD")
        else:
            served.add(("WS", path))
    return sorted(served)


def api_routes(client):
    return [(method, path) for method, path in served_routes(client.app)
            if path.startswith("/api/v1") and method not in ("WS", "MOUNT")]


def url_of(path):
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], path)


def call(client, method, path):
    body = {} if method in ("POST", "PATCH", "PUT") else None
    return client.request(method, url_of(path), json=body)


def submit(client, method, path):
    """A page or form as a browser sends it (no CSRF token: an allowed caller is turned back only after the rule)."""
    return client.request(method, url_of(path), data={} if method == "POST" else None, follow_redirects=False)


def websocket_close(client, path):
    """The close code a WebSocket route answers with, or None when it accepted (and said hello)."""
    try:
        with client.websocket_connect(url_of(path)) as socket:
            socket.receive_json()
    except WebSocketDisconnect as closed:
        return closed.code
    return None


def test_every_route_the_app_serves_has_a_declared_rule(client):
    served = served_routes(client.app)
    assert len(api_routes(client)) >= 20 and ("GET", "/console") in served and ("WS", "/api/v1/events") in served
    declared = {*EXPECTED, *PAGES, *(("WS", path) for path in WEBSOCKETS)}
    missing = [f"{method} {path}" for method, path in served if (method, path) not in declared]
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    stale = [f"{method} {path}" for method, path in sorted(declared) if (method, path) not in served]
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"
    # The API's own document lists the same operations the app serves under /api/v1.
    documented = {(method.upper(), path) for path, methods in client.get("/api/openapi.json").json()["paths"].items()
                  for method in methods if path.startswith("/api/v1")}
    assert documented == set(api_routes(client))


def test_the_walk_sees_a_page_hidden_from_the_api_document(runtime):
    """What the OpenAPI walk missed: a console page (include_in_schema=False) added with no row is found."""
    from fastapi import APIRouter

    from rtcc.app import create_app

    app = create_app(runtime=runtime)
    pages = APIRouter(include_in_schema=False)
    pages.add_api_route("/console/new-page", lambda: "unguarded", methods=["GET"])
    app.include_router(pages)
    declared = {*EXPECTED, *PAGES, *(("WS", path) for path in WEBSOCKETS)}
    assert [route for route in served_routes(app) if route not in declared] == [("GET", "/console/new-page")]


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


def _refused_page(response) -> bool:
    return response.status_code == 303 and PERMISSION_NOTICE in response.headers["location"]


def test_console_pages_open_only_for_their_roles(client, signed_in_as):
    pages = [(method, path) for (method, path), rule in PAGES.items() if rule not in (PUBLIC, FIELD_LINK)]
    failures = []
    for method, path in pages:  # no session: back to sign-in, whatever the page
        response = submit(client, method, path)
        if (response.status_code, response.headers.get("location", "").split("?")[0]) != (303, "/sign-in"):
            failures.append(f"anonymous: {method} {path} answered {response.status_code} {response.headers.get('location')}")
    for role in ROLES:
        role_client, _ = signed_in_as(role)
        for method, path in pages:
            response = submit(role_client, method, path)
            if role in PAGES[(method, path)]:
                sent_to_sign_in = response.headers.get("location", "").split("?")[0] == "/sign-in"
                # A form sent without its CSRF token goes back to sign-in: only after the role was let through.
                if _refused_page(response) or response.status_code in (401, 403) or (sent_to_sign_in and method == "GET"):
                    failures.append(f"{role}: {method} {path} refused ({response.status_code}) but is declared allowed")
            elif not _refused_page(response):
                failures.append(f"{role}: {method} {path} answered {response.status_code} "
                                f"{response.headers.get('location')} but is declared denied")
    assert not failures, "\n".join(failures)


def test_public_routes_answer_without_a_session_and_field_links_only_to_their_token(client):
    for (method, path), rule in PAGES.items():
        if method == "MOUNT":
            continue
        response = submit(client, method, path)
        if rule == PUBLIC:
            assert response.status_code not in (401, 403) and response.status_code < 500, f"{method} {path}"
        elif rule == FIELD_LINK:  # a made-up link opens nothing
            assert 400 <= response.status_code < 500, f"{method} {path} answered {response.status_code} to a made-up link"
    assert client.get("/static/no-such-file.js").status_code == 404


def test_websockets_refuse_callers_without_a_session_and_roles_without_the_permission(client, signed_in_as):
    for path, rule in WEBSOCKETS.items():
        code = websocket_close(client, path)
        if rule == FIELD_LINK:
            assert code == CLOSE_FORBIDDEN, f"{path}: a made-up link closed with {code}"
        else:
            assert code == CLOSE_UNAUTHENTICATED, f"{path}: no session closed with {code}"
    failures = []
    for role in ROLES:
        role_client, _ = signed_in_as(role)
        for path, rule in WEBSOCKETS.items():
            if rule == FIELD_LINK:
                continue
            code = websocket_close(role_client, path)
            if role not in rule and code != CLOSE_FORBIDDEN:
                failures.append(f"{role}: {path} closed with {code} but is declared denied")
            if role in rule and code in (CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN):
                failures.append(f"{role}: {path} refused ({code}) but is declared allowed")
            if role in rule and "{camera_id}" in path and code != CLOSE_NOT_FOUND:
                failures.append(f"{role}: {path} of no camera closed with {code}, not as a missing camera")
    assert not failures, "\n".join(failures)


def test_admins_administer_every_agency_but_work_no_other_agencys_cases(signed_in_as):
    """auth/scope.py: another agency's cameras, hotlists and accounts are an admin's to manage; its incidents are not."""
    from support import OTHER_AGENCY, TEST_AGENCY

    admin_a, _ = signed_in_as("admin")
    analyst_a, analyst_person = signed_in_as("analyst")
    admin_b, _ = signed_in_as("admin", agency=OTHER_AGENCY)
    camera = admin_a.post("/api/v1/cameras", json={"name": "Sunset & Vine", "kind": "city_fixed", "latitude": 34.098,
                                                   "longitude": -118.326}).json()
    incident = analyst_a.post("/api/v1/incidents", json={"title": "Stolen car seen", "type": "BOLO follow-up",
                                                         "priority": 2, "latitude": 34.098, "longitude": -118.326}).json()
    assert admin_b.get(f"/api/v1/cameras/{camera['id']}").status_code == 200
    assert admin_b.get(f"/api/v1/users/{analyst_person.username}").status_code == 200
    hotlist = admin_b.post("/api/v1/alpr/hotlists", json={"name": "A's list, loaded by B's admin", "source": "NCIC",
                                                          "priority": 1, "agency_ori": TEST_AGENCY})
    assert hotlist.status_code == 201, hotlist.text
    assert admin_a.get(f"/api/v1/incidents/{incident['id']}").status_code == 200
    refused = admin_b.get(f"/api/v1/incidents/{incident['id']}")
    assert (refused.status_code, refused.json()["code"]) == (404, "incident_not_found")
    assert admin_b.get("/api/v1/incidents").json() == []
