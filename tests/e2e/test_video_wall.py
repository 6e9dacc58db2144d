"""The video wall and the alert queue in a real browser: layouts, dragging cameras in from the list and the map,
stills, live on focus, scrubbing back and jumping to live; alerts ordered by priority, sounding, acknowledged."""

from datetime import UTC, datetime

import pytest

from browser_support import (artifacts_dir, chromium, recording_city, sign_in_through_api, wait_until,
                             watch_for_problems)
from rtcc.cameras import service as cameras
from rtcc.core.actor import SYSTEM
from rtcc.sim.demo import plant_demo_hotlist
from support import create_person

pytestmark = pytest.mark.browser


def tile(page, index):
    return page.locator(f"[data-tile='{index}']")


def test_wall_layouts_drag_live_scrub_and_alert_queue(tmp_path):
    shots = artifacts_dir("video-wall")
    with recording_city(tmp_path) as city, chromium() as browser:
        analyst = create_person(city.runtime, "casey", "analyst", agency=city.agency_ori)
        operator = create_person(city.runtime, "reader-link", "operator", agency=city.agency_ori)
        plant_demo_hotlist(city.runtime, "7BOL001")
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
        problems = watch_for_problems(page)
        sign_in_through_api(page.request, city.base, analyst)
        page.goto(f"{city.base}/")
        wait_until(page, "document.getElementById('feed-state').textContent.includes('connected')")
        page.wait_for_selector(f"[data-list-camera-id='{city.camera_id}']")

        # Layouts: 1, 4, 9 and 16 tiles.
        for size in (9, 16, 1, 4):
            page.get_by_test_id(f"layout-{size}").click()
            assert page.locator("[data-tile]").count() == size

        # Find the live camera in the list and drag it onto tile 2: it shows a still of the recording.
        page.fill("#camera-filter", "live corner")
        assert page.locator("[data-list-camera-id]").count() == 1
        page.locator(f"[data-list-camera-id='{city.camera_id}']").drag_to(tile(page, 2))
        assert tile(page, 2).get_attribute("data-camera-id") == str(city.camera_id)
        wait_until(page, "() => { const img = document.querySelector(\"[data-tile='2'] img\");"
                               " return img && img.complete && img.naturalWidth > 0; }", timeout=20)
        assert tile(page, 2).get_attribute("data-mode") == "idle"

        # Drag the same camera from the map onto tile 1 (mouse down on its dot, up over the tile).
        dot = page.locator(f"#map [data-camera-id='{city.camera_id}']")
        dot.scroll_into_view_if_needed()
        box, target = dot.bounding_box(), tile(page, 1).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(target["x"] + 40, target["y"] + 60, steps=12)
        page.mouse.up()
        assert tile(page, 1).get_attribute("data-camera-id") == str(city.camera_id)

        # Focus goes live; scrubbing back plays the recording; "Live" jumps back.
        tile(page, 1).locator(".tile-view").click()
        wait_until(page, "document.querySelector(\"[data-tile='1'] video\")?.readyState >= 2", timeout=30)
        assert tile(page, 1).get_attribute("data-mode") == "live"
        page.screenshot(path=str(shots / "01-live-tile.png"))
        tile(page, 1).locator(".scrub").fill("-0.5")
        tile(page, 1).locator(".scrub").dispatch_event("change")
        wait_until(page, "document.querySelector(\"[data-tile='1'] video[data-testid=tile-playback]\")?.readyState >= 2",
                               timeout=30)
        assert tile(page, 1).get_attribute("data-mode") == "playback"
        page.screenshot(path=str(shots / "02-scrubbed-back.png"))
        tile(page, 1).locator(".tile-live").click()
        wait_until(page, "document.querySelector(\"[data-tile='1'] video[data-testid=tile-video]\")?.readyState >= 2",
                               timeout=30)

        # A camera that cannot be reached goes offline: a priority-3 item in the queue.
        with city.runtime.database.session() as db:
            broken = cameras.create_camera(db, runtime=city.runtime, actor=SYSTEM, agency_ori=city.agency_ori, values={
                "name": "Unplugged corner", "kind": "city_fixed", "latitude": 34.0906, "longitude": -118.3710,
                "main_stream_url": "rtsp://127.0.0.1:9/nothing"}).id
        offline = page.locator(f"[data-testid=queue-item][data-key='camera:{broken}']")
        offline.wait_for(timeout=60000)
        assert offline.get_attribute("data-priority") == "3"

        # A hotlist hit (priority 1) goes above it, sounds, and stops flashing once acknowledged.
        reader = browser.new_context()
        headers = sign_in_through_api(reader.request, city.base, operator)
        response = reader.request.post(f"{city.base}/api/v1/alpr/reads", headers=headers, data={"reads": [{
            "plate": "7BOL001", "read_at": datetime.now(UTC).isoformat(), "confidence": 0.9, "camera_id": city.camera_id}]})
        assert response.status == 200 and response.json()["alerts"] == 1, response.text()
        hit = page.locator("[data-testid=queue-item]", has_text="7BOL001")
        hit.wait_for(timeout=10000)
        keys = page.locator("[data-testid=queue-item]").evaluate_all("items => items.map(i => i.dataset.key)")
        assert keys.index(hit.get_attribute("data-key")) < keys.index(f"camera:{broken}")
        wait_until(page, "document.body.dataset.lastBeep", timeout=5)  # sounded (headless has no speaker to hear)
        assert "unacked" in hit.get_attribute("class")
        page.screenshot(path=str(shots / "03-alert-queue.png"))
        hit.get_by_test_id("ack").click()
        wait_until(page, "!!document.querySelector(\"[data-testid=queue-item][data-status=acknowledged]\")", timeout=10)
        alert_id = hit.get_attribute("data-alert-id")
        alerts = reader.request.get(f"{city.base}/api/v1/alpr/alerts?status=acknowledged", headers=headers).json()
        assert [str(alert["id"]) for alert in alerts] == [alert_id]

        # Jump to camera: the camera panel opens on the alert's camera.
        hit.get_by_test_id("jump").click()
        wait_until(page, f"document.getElementById('camera-title').textContent.startsWith('#{city.camera_id} ')")
        page.screenshot(path=str(shots / "04-jumped-to-camera.png"))

        # An incident opened by hand at the map's centre: it is listed and its cameras dock.
        page.locator("#new-incident summary").click()
        form = page.get_by_test_id("new-incident-form")
        form.locator("input[name=title]").fill("Person trying car doors")
        form.locator("input[name=type]").fill("Suspicious person")
        form.locator("button[type=submit]").click()
        page.locator("[data-testid=incident-item]", has_text="Person trying car doors").wait_for(timeout=10000)
        assert "camera(s) docked" in page.locator("#new-incident-result").inner_text()
        assert not problems, problems
