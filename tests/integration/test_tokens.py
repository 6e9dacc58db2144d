"""API tokens as an integration uses them: scoped, hashed, expiring, revocable."""

from datetime import timedelta

from sqlalchemy import text

from support import create_person
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
