"""API tokens as an integration uses them: scoped, hashed, expiring, revocable."""

import json
from datetime import timedelta

from sqlalchemy import text

from support import create_person
from rtcc.audit import service as audit
from rtcc.core import clock


def issue(admin, username, permissions, days=30):
    response = admin.post("/api/v1/tokens", json={"username": username, "name": "plate feed", "permissions": permissions, "expires_in_days": days})
    return response


def test_a_token_does_what_its_scope_allows_and_nothing_more(runtime, signed_in_as):
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    admin, _ = signed_in_as("admin")
    create_person(runtime, "feed", "operator")
    beyond_role = issue(admin, "feed", ["users.manage"])
    assert beyond_role.status_code == 422 and "does not hold" in beyond_role.json()["message"]
    issued = issue(admin, "feed", ["cameras.view"])
    assert issued.status_code == 201
    raw = issued.json()["token"]
    assert raw.startswith("rtcc_")
    with runtime.database.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert raw not in stored and all(len(value) == 64 for value in stored)

    machine = TestClient(create_app(runtime=runtime), headers={"authorization": f"Bearer {raw}"})
    assert machine.get("/api/v1/cameras").status_code == 200
    assert machine.get("/api/v1/auth/me").status_code == 403  # account.self is not in its scope
    assert machine.get("/api/v1/tokens").status_code == 403

    listed = admin.get("/api/v1/tokens").json()
    assert listed[0]["last_used_at"] is not None and "token" not in listed[0]
    assert admin.delete(f"/api/v1/tokens/{listed[0]['id']}").json()["revoked_at"] is not None
    revoked = machine.get("/api/v1/cameras")
    assert revoked.status_code == 401 and revoked.json()["code"] == "token_revoked"


def test_tokens_expire_and_die_with_their_account(runtime, signed_in_as):
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    admin, _ = signed_in_as("admin")
    create_person(runtime, "feed", "operator")
    create_person(runtime, "feed2", "operator")
    short = issue(admin, "feed", ["cameras.view"], days=1).json()["token"]
    other = issue(admin, "feed2", ["cameras.view"], days=30).json()["token"]
    app = create_app(runtime=runtime)
    assert admin.post("/api/v1/users/feed2/disable", json={"reason": "integration retired"}).status_code == 200
    gone = TestClient(app, headers={"authorization": f"Bearer {other}"}).get("/api/v1/cameras")
    assert gone.status_code == 401 and gone.json()["code"] == "account_unavailable"
    clock.advance(timedelta(days=1, seconds=1))
    expired = TestClient(app, headers={"authorization": f"Bearer {short}"}).get("/api/v1/cameras")
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    forged = TestClient(app, headers={"authorization": "Bearer rtcc_00000000_forged"}).get("/api/v1/cameras")
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_token"


def bearer(runtime, raw_token):
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    return TestClient(create_app(runtime=runtime), headers={"authorization": f"Bearer {raw_token}"})


def test_an_admin_cannot_mint_a_token_that_watches_or_searches_as_someone_else(runtime, signed_in_as):
    admin, admin_person = signed_in_as("admin")
    create_person(runtime, "ana", "analyst")
    for watching in (["video.playback"], ["alpr.search"], ["cameras.view", "video.live"]):
        refused = issue(admin, "ana", watching)
        assert refused.status_code == 403 and refused.json()["code"] == "surveillance_token_for_another", refused.text
        assert "ana" in refused.json()["message"]
    assert admin.get("/api/v1/tokens").json() == []  # nothing was minted

    # Administering is still the admin's to delegate: a camera-registry token, recorded as the admin's act.
    allowed = issue(admin, "ana", ["cameras.view"])
    assert allowed.status_code == 201 and allowed.json()["created_by"] == admin_person.username
    with runtime.database.session() as db:
        minted = [(row.username, json.loads(row.details)) for row in audit.search(db, query=audit.AuditQuery(action="token.create"))]
    assert [(who, details["for"], details["minted_by_owner"]) for who, details in minted] == [(admin_person.username, "ana", False)]


def test_owners_mint_their_own_tokens_with_what_their_role_holds(runtime, signed_in_as):
    analyst, person = signed_in_as("analyst")
    beyond = analyst.post("/api/v1/auth/tokens", json={"name": "mine", "permissions": ["users.manage"]})
    assert beyond.status_code == 422 and "does not hold" in beyond.json()["message"]
    issued = analyst.post("/api/v1/auth/tokens", json={"name": "my plate search", "expires_in_days": 7,
                                                       "permissions": ["alpr.search", "video.playback", "account.self"]})
    assert issued.status_code == 201 and issued.json()["username"] == person.username
    machine = bearer(runtime, issued.json()["token"])
    assert machine.get("/api/v1/cameras/999999/recordings").status_code not in (401, 403)  # let through (no such camera)
    # A token cannot mint tokens: one leaked would outlive its own expiry and revocation.
    again = machine.post("/api/v1/auth/tokens", json={"name": "child", "permissions": ["account.self"]})
    assert again.status_code == 403 and again.json()["code"] == "token_needs_session"
    assert [token["name"] for token in analyst.get("/api/v1/auth/tokens").json()] == ["my plate search"]

    other, _ = signed_in_as("analyst")
    assert other.delete(f"/api/v1/auth/tokens/{issued.json()['id']}").status_code == 404  # not theirs
    assert analyst.delete(f"/api/v1/auth/tokens/{issued.json()['id']}").json()["revoked_at"] is not None
    assert machine.get("/api/v1/cameras/999999/recordings").json()["code"] == "token_revoked"


def test_tokens_an_admin_minted_for_someone_else_before_never_watch_in_their_name(runtime, signed_in_as):
    from rtcc.auth.models import ApiToken
    from rtcc.auth.service import get_user
    from rtcc.auth.sessions import hash_token

    create_person(runtime, "old", "analyst")
    raw = "rtcc_0badc0de_minted-by-an-admin-before-the-fix"
    with runtime.database.session() as db:
        db.add(ApiToken(name="legacy", prefix="0badc0de", token_hash=hash_token(raw), user_id=get_user(db, username="old").id,
                        permissions=["video.playback", "cameras.view"], created_at=clock.utcnow(), created_by="admin1",
                        expires_at=clock.utcnow() + timedelta(days=30)))
    machine = bearer(runtime, raw)
    assert machine.get("/api/v1/cameras/999999/recordings").status_code == 403
    assert machine.get("/api/v1/cameras").status_code == 200  # its administrative scope still works
