"""An analyst's shift in a real browser: find a live camera on the map, watch it, scrub back, export, verify."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest

from rtcc.cameras import service as cameras
from rtcc.core.actor import SYSTEM
from rtcc.core.config import Settings
from rtcc.core.runtime import build_runtime
from rtcc.sim.cameras import SimulatedCameras
from rtcc.sim.city import seed_city
from rtcc.video.models import RecordingSegment
from support import create_person
from test_console_sign_in import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def recording_city(tmp_path):
    """`rtcc serve` recording one simulated RTSP camera placed in the simulated city."""
    data_dir = tmp_path / "data"
    with SimulatedCameras(1, 0, mode="live", cache_dir=tmp_path / "sim") as simulated:
        settings = Settings(data_dir=data_dir)
        runtime = build_runtime(settings)
        runtime.database.upgrade()
        with runtime.database.session() as db:
            agency, _ = seed_city(db, runtime=runtime)
            camera = cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=agency.ori, values={
                "name": "Live corner", "kind": "city_fixed", "latitude": 34.0905, "longitude": -118.3700,
                "heading_deg": 90, "fov_deg": 70, "range_m": 120, "main_stream_url": simulated.urls[0]})
            camera_id = camera.id
        person = create_person(runtime, "casey", "analyst", agency=agency.ori)
        port = free_port()
        env = {**os.environ, "RTCC_SEGMENT_SECONDS": "2", "RTCC_RECORDER_RECONCILE_SECONDS": "1"}
        process = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "serve", "--data-dir", str(data_dir), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:  # up, and at least a few seconds recorded
                with runtime.database.session() as db:
                    recorded = db.query(RecordingSegment).filter_by(camera_id=camera_id).count()
                if recorded >= 3:
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("server did not record: " + (process.stderr.read() if process.poll() is not None else "timeout"))
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}", person, camera_id, data_dir
        finally:
            process.terminate()
            process.wait(timeout=30)
            runtime.close()


def sign_in_through_api(page, base, person):
    """Sign in with the browser's own cookie jar (the console sign-in pages are tested elsewhere)."""
    step = page.request.post(f"{base}/api/v1/auth/sign-in", data={
        "username": person.username, "password": person.password, "banner_acknowledged": True}).json()
    headers = {"x-csrf-token": step["csrf_token"]}
    page.request.post(f"{base}/api/v1/auth/mfa", data={"code": pyotp.TOTP(person.totp_secret).now()}, headers=headers)
    done = page.request.post(f"{base}/api/v1/auth/password", headers=headers,
                             data={"current_password": person.password, "new_password": "Quiet-Harbor-92"}).json()
    assert done["next_step"] == "done"


def test_find_watch_scrub_export_and_verify(recording_city, tmp_path):
    from playwright.sync_api import sync_playwright

    base, person, camera_id, data_dir = recording_city
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/test-services.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        # bypass_csp: Playwright polls wait_for_function predicates with eval, which our CSP forbids.
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
        sign_in_through_api(page, base, person)
        page.goto(f"{base}/console")
        page.locator(f"[data-camera-id='{camera_id}']").click()
        assert "Live corner" in page.locator("#camera-title").inner_text()

        # Live: Media Source Extensions play the relayed fMP4.
        page.wait_for_function("document.getElementById('live-video').readyState >= 2", timeout=20000)

        # Scrub back: the default range (last five minutes) holds the recording.
        page.locator("#playback-form button").click()
        page.wait_for_function("document.getElementById('spans').textContent.includes('span')", timeout=15000)
        assert "1 span(s)" in page.locator("#spans").inner_text()
        page.wait_for_function("document.getElementById('playback-video').readyState >= 2", timeout=20000)

        # Export as evidence and verify the bag.
        page.fill("#export-form input[name=case_number]", "HOM-2026-0117")
        page.fill("#export-form input[name=purpose]", "homicide on Sunset, suspect vehicle")
        page.locator("#export-form button").click()
        page.wait_for_function("document.getElementById('export-result').textContent.includes('verified')", timeout=60000)
        result = page.locator("#export-result").inner_text()
        assert "verified intact" in result and "HOM-2026-0117" in result
        page.screenshot(path=str(tmp_path / "watch-desk.png"), full_page=True)
        browser.close()
    bag = next((data_dir / "exports" / "HOM-2026-0117").iterdir())
    verified = subprocess.run([sys.executable, "-m", "rtcc.cli", "export", "verify", str(bag)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
