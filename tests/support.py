"""Helpers the tests share: accounts and the whole sign-in, as a person does it."""

import asyncio
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from rtcc.auth import service as accounts
from rtcc.auth import totp
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime

TEST_AGENCY = "CA0199900"
OTHER_AGENCY = "NY0300000"
CHECKOUT = Path(__file__).resolve().parents[1]
DEV_SET_IN_SHARED = Path("shared") / "data" / "alpr" / "openalpr-us-dev"
# Argon2id at its lowest bounds: what conftest.py sets for every test and every server a test starts.
CHEAP_PASSWORD_HASHING = {"RTCC_PASSWORD_HASH_TIME_COST": "1", "RTCC_PASSWORD_HASH_MEMORY_KIB": "8",
                          "RTCC_PASSWORD_HASH_PARALLELISM": "1"}


def alpr_dev_set() -> Path:
    """The ALPR dev set: $RTCC_ALPR_DEV_SET, else ../shared beside this checkout (every machine of the project
    and CI), else ../shared beside the checkout this one was cloned from (a clone made elsewhere, /tmp/x)."""
    if os.environ.get("RTCC_ALPR_DEV_SET"):
        return Path(os.environ["RTCC_ALPR_DEV_SET"])
    beside = CHECKOUT.parent / DEV_SET_IN_SHARED
    if beside.exists():
        return beside
    origin = subprocess.run(["git", "-C", str(CHECKOUT), "config", "--get", "remote.origin.url"],
                            capture_output=True, text=True).stdout.strip()
    if origin and Path(origin).is_dir():
        return Path(origin).resolve().parent / DEV_SET_IN_SHARED
    return beside  # missing: the tests that need it fail and name this path


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_test_clip(path: Path, *, seconds: int = 10, gop: int = 10, size: str = "320x180", rate: int = 10) -> Path:
    """An H.264 test pattern made by Debian's ffmpeg, a keyframe every `gop` frames (a file camera's source)."""
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
                             "-t", str(seconds), "-c:v", "libx264", "-g", str(gop), "-pix_fmt", "yuv420p", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}"
    return path


def wait_until(predicate, *, timeout: float, what, poll: float = 0.1):
    """Call predicate until it returns something truthy and return that; fail naming `what` (a text, or a
    function giving one, for the state at the deadline) once the deadline passes."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what() if callable(what) else what}")
        time.sleep(poll)
    return value


async def wait_until_async(predicate, *, timeout: float, what, poll: float = 0.1):
    """wait_until for code on an event loop: the loop keeps running between polls (predicate may be async)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what() if callable(what) else what}")
        await asyncio.sleep(poll)


@dataclass
class Person:
    """A test account and what its owner knows."""

    username: str
    password: str
    totp_secret: str
    role: str
    csrf_token: str | None = None


def create_person(runtime: Runtime, username: str, role: str, *, agency: str = TEST_AGENCY, **extra) -> Person:
    with runtime.database.session() as db:
        new = accounts.create_user(db, runtime=runtime, actor=SYSTEM, username=username, role=role,
                                   agency_ori=agency, **extra)
    return Person(username=new.user.username, password=new.one_time_password, totp_secret=new.totp_secret, role=role)


def current_code(person: Person) -> str:
    """A fresh TOTP code: moves the test clock to the next 30 s step so no code is reused."""
    clock.advance(timedelta(seconds=30))
    return totp.code_at_now(person.totp_secret)


def sign_in(client, person: Person, *, new_password: str | None = None) -> Person:
    """The whole sign-in: banner, password, MFA (enrolling the first time), first password change."""
    response = client.post("/api/v1/auth/sign-in", json={
        "username": person.username, "password": person.password, "banner_acknowledged": True})
    assert response.status_code == 200, response.text
    person.csrf_token = response.json()["csrf_token"]
    response = client.post("/api/v1/auth/mfa", json={"code": current_code(person)},
                           headers={"x-csrf-token": person.csrf_token})
    assert response.status_code == 200, response.text
    person.csrf_token = response.json()["csrf_token"]  # each step up issues a new session and CSRF token
    if response.json()["next_step"] == "change_password":
        chosen = new_password or f"Correct-Horse-{uuid.uuid4().hex[:8]}"
        response = client.post("/api/v1/auth/password", json={"current_password": person.password, "new_password": chosen},
                               headers={"x-csrf-token": person.csrf_token})
        assert response.status_code == 200, response.text
        person.password = chosen
        person.csrf_token = response.json()["csrf_token"]
    assert response.json()["next_step"] == "done"
    return person
