"""Sign-in as a user meets it: banner, password, MFA enrolment, new password, lockout, timeouts."""

from datetime import timedelta

from support import create_person, current_code, sign_in
from rtcc.auth import service as accounts
from rtcc.auth import totp
from rtcc.core import clock


def post_sign_in(client, username, password, banner=True):
    return client.post("/api/v1/auth/sign-in", json={"username": username, "password": password, "banner_acknowledged": banner})


def test_banner_is_public_and_must_be_acknowledged(client, runtime):
    person = create_person(runtime, "dana", "analyst")
    banner = client.get("/api/v1/auth/banner")
    assert banner.status_code == 200 and "monitored" in banner.json()["text"]
    refused = post_sign_in(client, person.username, person.password, banner=False)
    assert refused.status_code == 422
    assert refused.json()["code"] == "banner_not_acknowledged"


def test_first_sign_in_enrols_mfa_then_forces_a_new_password(client, runtime):
    person = create_person(runtime, "erin", "analyst")
    step = post_sign_in(client, "erin", person.password)
    assert step.status_code == 200
    body = step.json()
    assert body["next_step"] == "enrol_mfa"
    assert body["totp_secret"] == person.totp_secret and body["totp_uri"].startswith("otpauth://totp/")
    cookie = step.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    csrf = {"x-csrf-token": body["csrf_token"]}

    # Password alone reaches nothing protected.
    assert client.get("/api/v1/cameras").status_code == 403
    wrong = client.post("/api/v1/auth/mfa", json={"code": "000000"}, headers=csrf)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_mfa_code"

    step = client.post("/api/v1/auth/mfa", json={"code": current_code(person)}, headers=csrf)
    assert step.json()["next_step"] == "change_password"
    assert client.get("/api/v1/cameras").status_code == 403

    banned = client.post("/api/v1/auth/password", json={"current_password": person.password, "new_password": "password123"}, headers=csrf)
    assert banned.status_code == 422 and banned.json()["code"] == "password_banned"
    short = client.post("/api/v1/auth/password", json={"current_password": person.password, "new_password": "Xy7!q"}, headers=csrf)
    assert short.status_code == 422 and short.json()["code"] == "password_too_short"
    done = client.post("/api/v1/auth/password", json={"current_password": person.password, "new_password": "Tidal-Lantern-58"}, headers=csrf)
    assert done.json()["next_step"] == "done"

    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "erin" and me.json()["mfa_enrolled"] is True and "cameras.view" in me.json()["permissions"]

    # Second sign-in: no secret is shown again, a code is required.
    client.cookies.clear()
    again = post_sign_in(client, "erin", "Tidal-Lantern-58")
    assert again.json()["next_step"] == "verify_mfa" and again.json()["totp_secret"] is None


def test_a_totp_code_is_accepted_only_once(client, runtime):
    person = sign_in(client, create_person(runtime, "fay", "operator"))
    client.cookies.clear()
    pending = post_sign_in(client, "fay", person.password).json()
    used_code = totp.code_at_now(person.totp_secret)  # the code sign_in() just used, still in its window
    replay = client.post("/api/v1/auth/mfa", json={"code": used_code}, headers={"x-csrf-token": pending["csrf_token"]})
    assert replay.status_code == 401 and replay.json()["code"] == "invalid_mfa_code"


def test_five_failures_lock_the_account_until_an_admin_unlocks_it(client, runtime, signed_in_as):
    person = sign_in(client, create_person(runtime, "gus", "analyst"))
    client.cookies.clear()
    for attempt in range(4):
        assert post_sign_in(client, "gus", "wrong-password").status_code == 401
    fifth = post_sign_in(client, "gus", "wrong-password")
    assert fifth.status_code == 423 and fifth.json()["code"] == "account_locked"
    refused = post_sign_in(client, "gus", person.password)
    assert refused.status_code == 423

    admin_client, _ = signed_in_as("admin")
    listed = {u["username"]: u["status"] for u in admin_client.get("/api/v1/users").json()}
    assert listed["gus"] == "locked"
    assert admin_client.post("/api/v1/users/gus/unlock").json()["status"] == "active"
    assert post_sign_in(client, "gus", person.password).status_code == 200


def test_failures_outside_the_window_do_not_lock(client, runtime):
    person = create_person(runtime, "hal", "analyst")
    for _ in range(4):
        post_sign_in(client, "hal", "nope-nope-nope")
    clock.advance(timedelta(minutes=16))
    assert post_sign_in(client, "hal", "nope-nope-nope").status_code == 401
    assert post_sign_in(client, "hal", person.password).status_code == 200


def test_unknown_user_and_wrong_password_look_the_same(client, runtime):
    create_person(runtime, "ivy", "analyst")
    unknown = post_sign_in(client, "nobody", "whatever-123")
    wrong = post_sign_in(client, "ivy", "whatever-123")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_idle_session_ends_after_30_minutes(client, runtime):
    sign_in(client, create_person(runtime, "jo", "analyst"))
    assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(timedelta(minutes=29))
    assert client.get("/api/v1/auth/me").status_code == 200  # activity resets the idle timer
    clock.advance(timedelta(minutes=31))
    ended = client.get("/api/v1/auth/me")
    assert ended.status_code == 401 and ended.json()["code"] == "idle_timeout"
    assert client.get("/api/v1/auth/me").json()["code"] == "session_ended"


def test_sessions_must_reauthenticate_after_12_hours_even_when_active(client, runtime):
    sign_in(client, create_person(runtime, "kim", "analyst"))
    for _ in range(36):  # a request every 20 minutes for 12 hours
        clock.advance(timedelta(minutes=20))
        response = client.get("/api/v1/auth/me")
        if response.status_code != 200:
            break
    assert response.status_code == 401 and response.json()["code"] == "reauthentication_required"


def test_sign_out_destroys_the_session_server_side(client, runtime):
    person = sign_in(client, create_person(runtime, "lee", "analyst"))
    stolen_cookie = client.cookies.get("rtcc_session")
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/sign-out", headers={"x-csrf-token": person.csrf_token}).status_code == 204
    client.cookies.set("rtcc_session", stolen_cookie)  # replaying the old cookie gets nowhere
    assert client.get("/api/v1/auth/me").status_code == 401


def test_unsafe_requests_with_a_session_need_the_csrf_token(signed_in_as):
    admin, _ = signed_in_as("admin")
    body = {"ori": "TX1010000", "name": "Austin"}
    refused = admin.post("/api/v1/agencies", json=body, headers={"x-csrf-token": "forged"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert admin.post("/api/v1/agencies", json=body).status_code == 201


def test_temporary_accounts_expire_and_idle_accounts_are_disabled(client, runtime):
    temporary = create_person(runtime, "temp", "analyst", expires_at=clock.utcnow() + timedelta(days=2))
    idle = sign_in(client, create_person(runtime, "idle", "analyst"))
    client.cookies.clear()
    clock.advance(timedelta(days=3))
    expired = post_sign_in(client, "temp", temporary.password)
    assert expired.status_code == 403 and "expired" in expired.json()["message"]
    clock.advance(timedelta(days=88))
    with runtime.database.session() as db:
        disabled = dict(accounts.sweep_account_lifecycle(db, runtime=runtime))
    assert "inactive" in disabled["idle"]
    refused = post_sign_in(client, "idle", idle.password)
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"
