"""Sign-in as a user meets it: banner, password, MFA enrolment, new password, lockout, timeouts."""

import re
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
    assert wrong.json()["tries_left"] == 4 and "4 tries left" in wrong.json()["message"]

    step = client.post("/api/v1/auth/mfa", json={"code": current_code(person)}, headers=csrf)
    assert step.json()["next_step"] == "change_password"
    assert client.get("/api/v1/cameras").status_code == 403
    csrf = {"x-csrf-token": step.json()["csrf_token"]}  # a new one with the new session token

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
    unknown = post_sign_in(client, "nobody", "wrong-password")
    for attempt in range(5):
        wrong = post_sign_in(client, "gus", "wrong-password")
        # Locking or not, the answer is the one an unknown name gets: it tells an outsider nothing.
        assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (401, unknown.json())
    refused = post_sign_in(client, "gus", person.password)  # the lockout holds: the right password is refused
    assert (refused.status_code, refused.json()) == (401, unknown.json())
    assert "rtcc_session" not in client.cookies

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


def _session_cookie(client) -> str:
    return client.cookies.get("rtcc_session")


def _replay(runtime, cookie: str):
    """A second browser holding an earlier session cookie."""
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    replayer = TestClient(create_app(runtime=runtime), base_url="http://testserver")
    replayer.cookies.set("rtcc_session", cookie)
    return replayer


def test_each_step_up_issues_a_new_session_token_and_csrf_token(client, runtime):
    person = create_person(runtime, "uma", "analyst")
    step = post_sign_in(client, "uma", person.password).json()
    password_step_cookie, password_step_csrf = _session_cookie(client), step["csrf_token"]
    verified = client.post("/api/v1/auth/mfa", json={"code": current_code(person)}, headers={"x-csrf-token": password_step_csrf})
    assert verified.status_code == 200 and verified.json()["next_step"] == "change_password"
    mfa_cookie, mfa_csrf = _session_cookie(client), verified.json()["csrf_token"]
    assert mfa_cookie != password_step_cookie and mfa_csrf != password_step_csrf

    # The cookie issued at the password step is worth nothing after MFA, and so is its CSRF token.
    stale = _replay(runtime, password_step_cookie).post("/api/v1/auth/password", headers={"x-csrf-token": password_step_csrf},
                                                       json={"current_password": person.password, "new_password": "Tidal-Lantern-58"})
    assert stale.status_code == 401 and stale.json()["code"] == "session_ended"
    old_csrf = client.post("/api/v1/auth/password", headers={"x-csrf-token": password_step_csrf},
                           json={"current_password": person.password, "new_password": "Tidal-Lantern-58"})
    assert old_csrf.status_code == 403 and old_csrf.json()["code"] == "csrf_failed"

    done = client.post("/api/v1/auth/password", headers={"x-csrf-token": mfa_csrf},
                       json={"current_password": person.password, "new_password": "Tidal-Lantern-58"})
    assert done.status_code == 200 and done.json()["next_step"] == "done"
    assert done.json()["csrf_token"] not in (mfa_csrf, None) and _session_cookie(client) != mfa_cookie
    assert _replay(runtime, mfa_cookie).get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 200

    # An enrolled account's later sign-in: the password-step cookie never becomes the full session.
    client.cookies.clear()
    again = post_sign_in(client, "uma", "Tidal-Lantern-58").json()
    half_way = _session_cookie(client)
    assert client.post("/api/v1/auth/mfa", json={"code": current_code(person)},
                       headers={"x-csrf-token": again["csrf_token"]}).json()["next_step"] == "done"
    assert client.get("/api/v1/auth/me").status_code == 200
    assert _replay(runtime, half_way).get("/api/v1/auth/me").status_code == 401


def _up_to_the_password_step(client, runtime, username: str):
    person = create_person(runtime, username, "analyst")
    step = post_sign_in(client, username, person.password).json()
    verified = client.post("/api/v1/auth/mfa", json={"code": current_code(person)}, headers={"x-csrf-token": step["csrf_token"]})
    assert verified.json()["next_step"] == "change_password"
    return person, {"x-csrf-token": verified.json()["csrf_token"]}


def test_the_password_page_asks_for_the_one_time_password_and_counts_the_tries(client, runtime):
    person, csrf = _up_to_the_password_step(client, runtime, "vic")
    page = client.get("/sign-in/password")
    assert "The one-time password you were given" in page.text and "5 wrong one-time passwords will lock" in page.text
    for left in (4, 3, 2, 1):
        wrong = client.post("/api/v1/auth/password", headers=csrf,
                            json={"current_password": "Tidal-Lantern-58", "new_password": "Quiet-Harbor-92"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "wrong_current_password"
        assert wrong.json()["tries_left"] == left and "one-time password you were given" in wrong.json()["message"]
    assert "1 try left" in wrong.json()["message"]
    form = client.post("/sign-in/password", data={"csrf_token": csrf["x-csrf-token"], "current_password": "Tidal-Lantern-58",
                                                  "new_password": "Quiet-Harbor-92", "confirm_password": "Quiet-Harbor-92"})
    # The fifth mistake locks; the sign-in page says so and how to get back in.
    assert form.url.path == "/sign-in" and "now locked" in form.text and "rtcc user reset vic" in form.text
    locked = post_sign_in(client, "vic", person.password)
    assert locked.status_code == 401


def test_a_locked_out_demo_user_gets_back_in_with_rtcc_user_reset(client, runtime):
    from typer.testing import CliRunner

    from rtcc.cli import app as cli
    from rtcc.sim.demo import prepare_demo

    assert "rtcc user reset USERNAME --data-dir" in prepare_demo(runtime)  # the demo says the way back up front
    person, csrf = _up_to_the_password_step(client, runtime, "wes")
    for _ in range(5):
        client.post("/api/v1/auth/password", headers=csrf, json={"current_password": "nope-nope-nope", "new_password": "Quiet-Harbor-92"})
    client.cookies.clear()
    assert post_sign_in(client, "wes", person.password).status_code == 401  # locked
    env = {"RTCC_DATABASE_URL": runtime.settings.effective_database_url}
    reset = CliRunner().invoke(cli, ["user", "reset", "wes", "--data-dir", str(runtime.settings.data_dir)], env=env)
    assert reset.exit_code == 0, reset.output
    one_time_password = re.search(r"One-time password: (\S+)", reset.output).group(1)
    assert "active" in reset.output and person.totp_secret not in reset.output and "TOTP secret" not in reset.output
    fresh = post_sign_in(client, "wes", one_time_password)
    assert fresh.status_code == 200 and fresh.json()["next_step"] == "enrol_mfa"
    assert fresh.json()["totp_secret"] not in (None, person.totp_secret)  # enrolled afresh, shown only to the user


def test_a_credential_reset_hands_the_admin_no_authenticator_key(client, runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    person = sign_in(client, create_person(runtime, "xan", "analyst"))
    reset = admin.post("/api/v1/users/xan/reset-credentials")
    assert reset.status_code == 200
    body = reset.json()
    assert "totp_secret" not in body and "totp_uri" not in body and "otpauth" not in reset.text
    assert body["user"]["mfa_enrolled"] is False and body["user"]["must_change_password"] is True
    assert client.get("/api/v1/auth/me").status_code == 401  # the account's sessions ended
    client.cookies.clear()
    step = post_sign_in(client, "xan", body["one_time_password"]).json()
    assert step["next_step"] == "enrol_mfa" and step["totp_secret"] != person.totp_secret


def test_weak_passwords_are_refused_with_the_estimators_advice(client, runtime):
    person, csrf = _up_to_the_password_step(client, runtime, "yara")
    weak = client.post("/api/v1/auth/password", headers=csrf, json={"current_password": person.password, "new_password": "correcthorse"})
    assert weak.status_code == 422 and weak.json()["code"] == "password_too_weak"
    assert "too easy to guess" in weak.json()["message"] and weak.json()["suggestions"]
    assert client.post("/api/v1/auth/password", headers=csrf,
                       json={"current_password": person.password, "new_password": "Tidal-Lantern-58"}).status_code == 200


def test_demo_credentials_are_removed_once_each_account_has_enrolled(client, runtime):
    from support import Person
    from rtcc.sim.demo import CREDENTIALS_FILE, prepare_demo

    prepare_demo(runtime)
    saved = runtime.settings.data_dir / CREDENTIALS_FILE
    found = re.search(r"username:\s+analyst\none-time password:\s+(\S+).*\nauthenticator key:\s+(\S+)", saved.read_text())
    sign_in(client, Person("analyst", found.group(1), found.group(2), "analyst"))
    left = saved.read_text()
    assert "analyst" not in left and found.group(2) not in left
    assert "username:            officer" in left and "username:            admin" in left  # not yet enrolled: kept
    assert saved.stat().st_mode & 0o077 == 0

    # A data dir from before (its accounts enrolled, the file still full) is cleaned at the next start.
    with runtime.database.session() as db:
        for username in ("officer", "supervisor", "admin"):
            accounts.get_user(db, username=username).mfa_enrolled_at = clock.utcnow()
    prepare_demo(runtime)
    assert not saved.exists()


def test_a_hash_made_with_other_argon2_parameters_verifies_and_is_rehashed_at_sign_in(client, runtime):
    from argon2 import PasswordHasher, extract_parameters

    from rtcc.auth.models import User

    person = create_person(runtime, "zed", "analyst")
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=2).hash(person.password)
    with runtime.database.session() as db:
        accounts.get_user(db, username="zed").password_hash = older
    assert post_sign_in(client, "zed", person.password).status_code == 200
    with runtime.database.session() as db:
        stored = db.query(User).filter_by(username="zed").one().password_hash
    settings = runtime.settings
    assert stored != older and extract_parameters(stored).time_cost == settings.password_hash_time_cost
    assert extract_parameters(stored).memory_cost == settings.password_hash_memory_kib
