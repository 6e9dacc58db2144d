"""In the console, a clerk requests a release of a recorded clip, draws a box on a frame and renders the copy."""

import shutil
import subprocess
from datetime import timedelta

import pytest

from rtcc.cameras import service as cameras
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.video.models import RecordingSegment
from rtcc.video.pipeline.supervisor import media_store
from rtcc.video.recording.storage import sha256_of
from browser_support import artifacts_dir, chromium, seeded_city, serving, wait_until, watch_for_problems
from support import create_person
from test_share_policy import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """A camera with four seconds recorded, a supervisor to request its release, served."""
    clip = tmp_path / "camera.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10", "-t", "4",
                    "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", str(clip)], check=True)
    ended = clock.utcnow().replace(microsecond=0) - timedelta(seconds=5)
    started = ended - timedelta(seconds=4)
    # The simulated city: the watch floor signing in lands on needs its map.
    with seeded_city(tmp_path) as (settings, runtime, agency_ori):
        with runtime.database.session() as db:
            camera = cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=agency_ori, values={
                "name": "Release corner", "kind": "city_fixed", "latitude": 34.09, "longitude": -118.36,
                "main_stream_url": "rtsp://10.20.0.5/stream1"})
            relative = f"cam{camera.id}/test/segment.mp4"
            media_store(runtime).absolute(relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(clip, media_store(runtime).absolute(relative))
            db.add(RecordingSegment(camera_id=camera.id, started_at=started, ended_at=ended, duration_s=4,
                                    bytes=clip.stat().st_size, sha256=sha256_of(clip), path=relative, created_at=ended))
            camera_id = camera.id
        person = create_person(runtime, "rivera", "supervisor", agency=agency_ori)
    with serving(settings.data_dir, tmp_path / "server.log") as base:
        yield base, person, camera_id, started, ended


def test_a_clerk_requests_a_release_draws_a_box_and_renders_the_copy(server):
    base, person, camera_id, started, ended = server
    shots = artifacts_dir("release-page")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        problems = watch_for_problems(page)
        sign_in(page, base, person)
        page.goto(f"{base}/console/releases")
        form = page.locator("[data-testid=release-form]")
        form.locator("input[name=records_request_number]").fill("PRR-2026-0200")
        form.locator("input[name=requester]").fill("The Daily Ledger")
        form.locator("input[name=purpose]").fill("Public records act request")
        form.locator("input[name=camera_id]").fill(str(camera_id))
        form.locator("input[name=start]").fill(started.strftime("%Y-%m-%dT%H:%M:%S"))
        form.locator("input[name=end]").fill(ended.strftime("%Y-%m-%dT%H:%M:%S"))
        form.locator("button[type=submit]").click()
        wait_until(page, "document.getElementById('detail-status').textContent === 'requested'")

        page.click("#frame-load")
        wait_until(page, "document.getElementById('frame-canvas').width === 320")
        canvas = page.locator("[data-testid=frame-canvas]").bounding_box()
        scale = canvas["width"] / 320
        page.mouse.move(canvas["x"] + 40 * scale, canvas["y"] + 30 * scale)
        page.mouse.down()
        page.mouse.move(canvas["x"] + 120 * scale, canvas["y"] + 90 * scale, steps=5)
        page.mouse.up()
        page.click("#box-add")
        wait_until(page, "document.querySelector('#release-rows td:nth-child(6)').textContent === '1'")
        page.click("#render")
        wait_until(page, "document.getElementById('detail-status').textContent === 'rendered'", timeout=60)
        assert len(page.locator("#detail-copy").inner_text()) == 64  # the copy's SHA-256 is shown
        wait_until(page, "document.querySelector('#release-rows td:nth-child(4)').textContent === 'rendered'")
        page.screenshot(path=str(shots / "rendered.png"))
        assert not problems, problems
