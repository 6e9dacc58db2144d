"""What the browser tests share: a recording server over a simulated city, and signing in through the API."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
import support
from playwright.sync_api import Error as PlaywrightError

from rtcc.cameras import service as cameras
from rtcc.core.actor import SYSTEM
from rtcc.settings import Settings
from rtcc.core.runtime import Runtime, build_runtime
from rtcc.sim.cameras import SimulatedCameras
from rtcc.sim.city import seed_city
from rtcc.video.models import RecordingSegment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
# Where the live simulated camera stands in the city, and a point its view cone covers.
LIVE_CAMERA = {"name": "Live corner", "kind": "city_fixed", "latitude": 34.0905, "longitude": -118.3700,
               "heading_deg": 90, "fov_deg": 70, "range_m": 120}
SEEN_POINT = (34.0905, -118.3693)
SIMULATED_CAMERA_NETWORK = "127.0.0.0/8"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(data_dir: Path, log_path: Path, *, env: dict[str, str] | None = None):
    """`rtcc serve` on a prepared data dir, as an operator runs it; yields its base URL once /healthz answers."""
    port = free_port()
    with log_path.open("w") as log:  # a file, not a pipe nobody reads: a full pipe blocks the server mid-test
        process = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "serve", "--data-dir", str(data_dir),
                                    "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return True
        except httpx.HTTPError:
            return False

    try:
        support.wait_until(answers, timeout=60, what=lambda: f"the server to start: {log_path.read_text()[-2000:]}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@dataclass
class City:
    base: str
    runtime: Runtime
    camera_id: int
    agency_ori: str
    data_dir: Path
    plates: list[str]  # the plates the live camera's vehicles carry


@contextlib.contextmanager
def seeded_city(tmp_path: Path):
    """A data dir holding the simulated city (its agency, cameras, map); yields (settings, runtime, agency ORI) for
    more seeding, and closes the runtime before the test serves the data dir."""
    settings = Settings(data_dir=tmp_path / "data")
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    with runtime.database.session() as db:
        agency, _ = seed_city(db, runtime=runtime)
        agency_ori = agency.ori
    try:
        yield settings, runtime, agency_ori
    finally:
        runtime.close()


@contextlib.contextmanager
def recording_city(tmp_path: Path, *, min_segments: int = 3, read_plates: bool = False):
    """`rtcc serve` recording one simulated RTSP camera placed in the simulated city (2 s segments).

    read_plates: the camera also has its sub-stream and reads plates (in the "alpr" group too), so the server reads them
    (as `rtcc demo` sets up its first camera); it costs most of a core, so only the tests about plates ask."""
    data_dir = tmp_path / "data"
    with SimulatedCameras(1, 0, mode="live", cache_dir=tmp_path / "sim") as simulated:
        # The simulated camera streams on loopback, which a server opens only where the allow-list names it.
        runtime = build_runtime(Settings(data_dir=data_dir, camera_network_allowlist=[SIMULATED_CAMERA_NETWORK]))
        runtime.database.upgrade()
        values = {**LIVE_CAMERA, "main_stream_url": simulated.urls[0]}
        if read_plates:
            values |= {"sub_stream_url": simulated.sub_urls[0], "groups": ["alpr"], "reads_plates": True}
        with runtime.database.session() as db:
            agency, _ = seed_city(db, runtime=runtime)
            camera = cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=agency.ori, values=values)
            camera_id, agency_ori = camera.id, agency.ori
        env = {"RTCC_SEGMENT_SECONDS": "2", "RTCC_RECORDER_RECONCILE_SECONDS": "1",
               "RTCC_CAMERA_NETWORK_ALLOWLIST": json.dumps([SIMULATED_CAMERA_NETWORK])}
        server_log = tmp_path / "server.log"
        try:
            with serving(data_dir, server_log, env=env) as base:
                def recorded_enough() -> bool:  # a few seconds recorded
                    with runtime.database.session() as db:
                        return db.query(RecordingSegment).filter_by(camera_id=camera_id).count() >= min_segments

                support.wait_until(recorded_enough, timeout=60, poll=0.5, what=lambda: (
                    f"{min_segments} segments recorded by the server: {server_log.read_text()[-3000:]}"))
                yield City(base, runtime, camera_id, agency_ori, data_dir, simulated.plates(1))
        finally:
            runtime.close()


def sign_in_through_api(request_context, base: str, person, new_password: str = "Quiet-Harbor-92") -> dict:
    """Sign in with a browser context's own cookie jar; returns headers carrying the CSRF token."""
    step = request_context.post(f"{base}/api/v1/auth/sign-in", data={
        "username": person.username, "password": person.password, "banner_acknowledged": True}).json()
    headers = {"x-csrf-token": step["csrf_token"]}
    verified = request_context.post(f"{base}/api/v1/auth/mfa", data={"code": pyotp.TOTP(person.totp_secret).now()},
                                    headers=headers).json()
    headers = {"x-csrf-token": verified["csrf_token"]}  # each step up issues a new session and CSRF token
    done = request_context.post(f"{base}/api/v1/auth/password", headers=headers,
                                data={"current_password": person.password, "new_password": new_password}).json()
    assert done["next_step"] == "done", done
    return {"x-csrf-token": done["csrf_token"]}


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/test-services.sh (installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def artifacts_dir(name: str) -> Path:
    """Screenshots kept after the run (test-results/ in the checkout, or $RTCC_TEST_ARTIFACTS)."""
    root = Path(os.environ.get("RTCC_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-results")
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait_until(page, expression: str, *, timeout: float = 10.0, poll: float = 0.1):
    """Poll a JavaScript expression until it is truthy; returns its value.

    Playwright's wait_for_function evaluates with eval, which the console's CSP rightly forbids;
    page.evaluate goes through the DevTools protocol, so these tests run under the real CSP.
    An expression that cannot be evaluated yet (the element it reads is being drawn again, so it is null
    for a moment) is not yet true; the last such error is reported if time runs out.
    """
    deadline = time.monotonic() + timeout
    problem = ""
    while True:
        try:
            value = page.evaluate(expression)
        except PlaywrightError as error:
            if "TypeError" not in error.message:  # only a missing element is "not yet"; anything else is a bug
                raise
            value, problem = None, f" (last: {error.message.splitlines()[0]})"
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {expression}{problem}")
        time.sleep(poll)


def watch_for_problems(page) -> list[str]:
    """Uncaught errors and Content-Security-Policy violations on a page, collected as they happen."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return problems
