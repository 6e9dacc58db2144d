"""The seed story in a real browser, with a screenshot of every step (test-results/console-scenario/):

sign in with MFA -> a CAD call arrives -> the incident appears on the map -> cameras dock on the wall and a
tile plays live video from a simulated RTSP camera -> the server reads a hotlisted plate off that camera's video
and the plate alert arrives -> the analyst verifies it -> shares a snapshot to a field officer, whose page opens it.
"""

import json
from datetime import UTC, datetime

import pyotp
import pytest

from browser_support import (SEEN_POINT, artifacts_dir, chromium, recording_city, sign_in_through_api, wait_until,
                             watch_for_problems)
import support
from sqlalchemy import select

from rtcc.alpr import hotlists
from rtcc.alpr.models import Hotlist, PlateAlert
from rtcc.core.actor import SYSTEM
from support import create_person

pytestmark = pytest.mark.browser


def sign_in_through_the_pages(page, base, person, new_password, shots):
    page.goto(f"{base}/")
    page.wait_for_url("**/sign-in**")
    page.fill("input[name=username]", person.username)
    page.fill("input[name=password]", person.password)
    page.check("input[name=banner_acknowledged]")
    page.screenshot(path=str(shots / "01-sign-in.png"))
    page.click("button[type=submit]")
    page.wait_for_url("**/sign-in/mfa")
    page.fill("input[name=code]", pyotp.TOTP(person.totp_secret).now())
    page.screenshot(path=str(shots / "02-mfa.png"))
    page.click("button[type=submit]")
    page.wait_for_url("**/sign-in/password")
    page.fill("input[name=current_password]", person.password)
    page.fill("input[name=new_password]", new_password)
    page.fill("input[name=confirm_password]", new_password)
    page.click("button[type=submit]")
    page.wait_for_url("**/console**")


def plant_the_cameras_plates(city) -> None:
    """A priority-1 hotlist holding every plate the live camera's vehicles carry: whichever the reader reads
    first raises the alert (on a loaded machine the reader skips frames, and one chosen plate can go unread)."""
    with city.runtime.database.session() as db:
        hotlist = hotlists.create_hotlist(db, runtime=city.runtime, actor=SYSTEM, name="Demo BOLO", source="simulated city",
                                          priority=1, agency_ori=city.agency_ori)
        hotlists.import_entries(db, runtime=city.runtime, actor=SYSTEM, hotlist_id=hotlist.id, format="json", text=json.dumps(
            [{"plate": plate, "state": "CA", "reason": "STOLEN VEHICLE (demo)"} for plate in city.plates]))


def keep_only(city, plate: str) -> None:
    """The hotlist as a full extract holding one plate: the others' entries are removed."""
    with city.runtime.database.session() as db:
        hotlist_id = db.execute(select(Hotlist.id).where(Hotlist.name == "Demo BOLO")).scalar_one()
        hotlists.import_entries(db, runtime=city.runtime, actor=SYSTEM, hotlist_id=hotlist_id, format="json", replace=True,
                                text=json.dumps([{"plate": plate, "state": "CA", "reason": "STOLEN VEHICLE (demo)"}]))


def alerts_raised(city) -> int:
    with city.runtime.database.session() as db:
        return db.query(PlateAlert).count()


def test_call_to_field_share(tmp_path):
    shots = artifacts_dir("console-scenario")
    with recording_city(tmp_path, read_plates=True) as city, chromium() as browser:
        analyst = create_person(city.runtime, "casey", "analyst", agency=city.agency_ori)
        dispatcher = create_person(city.runtime, "cad-link", "operator", agency=city.agency_ori)
        officer = create_person(city.runtime, "ofc.reyes", "field_officer", agency=city.agency_ori)
        plant_the_cameras_plates(city)

        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        problems = watch_for_problems(page)
        sign_in_through_the_pages(page, city.base, analyst, "Quiet-Harbor-92", shots)
        wait_until(page, "document.getElementById('feed-state').textContent.includes('connected')")
        wait_until(page, "document.querySelectorAll('[data-list-camera-id]').length > 30")
        page.screenshot(path=str(shots / "03-console.png"))

        # A CAD call arrives (the CAD integration's own session posts it).
        cad = browser.new_context()
        cad_headers = sign_in_through_api(cad.request, city.base, dispatcher)
        response = cad.request.post(f"{city.base}/api/v1/cad/calls", headers=cad_headers, data={
            "call_id": "24-118811", "type": "Homicide", "priority": 1, "address": "8400 Sunset Blvd",
            "latitude": SEEN_POINT[0], "longitude": SEEN_POINT[1], "received_at": datetime.now(UTC).isoformat(),
            "narrative": "Caller reports a man down, suspect fled east on foot."})
        assert response.status == 201, response.text()
        incident = response.json()["incident"]
        assert incident["cameras"][0]["camera_id"] == city.camera_id and incident["cameras"][0]["sees_location"]

        # The incident appears on the map and in the list; its cameras dock on the wall.
        page.wait_for_selector(f"#map [data-incident-id='{incident['id']}']", timeout=10000)
        page.wait_for_selector(f"[data-testid=incident-item][data-incident-id='{incident['id']}']")
        page.screenshot(path=str(shots / "04-incident-on-map.png"))
        tile = page.locator(f"[data-tile][data-camera-id='{city.camera_id}']")
        tile.wait_for(timeout=10000)
        assert page.locator("#wall").get_attribute("data-incident") == str(incident["id"])
        docked = [int(value) for value in page.locator("[data-tile][data-camera-id]:not([data-camera-id=''])").evaluate_all(
            "tiles => tiles.map(t => t.dataset.cameraId)")]
        assert docked[:len(incident["cameras"])] == [camera["camera_id"] for camera in incident["cameras"]][:len(docked)]

        # The docked live camera's tile plays live video (fMP4 over WebSocket into Media Source Extensions).
        if tile.get_attribute("data-mode") != "live":
            tile.locator(".tile-view").click()
        tile.locator("video[data-testid=tile-video]").wait_for(timeout=10000)
        wait_until(page, f"document.querySelector(\"[data-tile][data-camera-id='{city.camera_id}'] video\")?.readyState >= 2",
                               timeout=30)
        page.screenshot(path=str(shots / "05-wall-live.png"))

        # A plate alert arrives: the server's plate reader reads a hotlisted plate off the live camera's sub-stream
        # (nothing posts a read); the queue shows the live camera and the crop the reader cut.
        page.locator("[data-testid=queue-item][data-alert-id]").first.wait_for(timeout=60000)
        alert_id = page.locator("[data-testid=queue-item][data-alert-id]").first.get_attribute("data-alert-id")
        item = page.locator(f"[data-testid=queue-item][data-alert-id='{alert_id}']")
        plate = item.locator("strong").inner_text()
        assert plate in city.plates, (plate, city.plates)
        # Keep that plate only, so no new alert redraws the queue while the analyst ticks the boxes; alerts raised
        # meanwhile for the others are all shown first.
        keep_only(city, plate)
        support.wait_until(lambda: page.evaluate("document.querySelectorAll('[data-testid=queue-item][data-alert-id]')"
                                                 ".length") == alerts_raised(city), timeout=15,
                           what="the queue to show every alert raised")
        assert item.get_attribute("data-priority") == "1"
        assert "Live corner" in item.inner_text()
        wait_until(page, f"(() => {{ const img = document.querySelector(\"[data-alert-id='{alert_id}'] img.crop\");"
                         " return img && img.complete && img.naturalWidth > 0; })()", timeout=15)
        page.screenshot(path=str(shots / "06-alert-arrives.png"))

        # The analyst verifies it: crop, vehicle and entry checked -> actionable.
        for name in ("crop_matches_plate", "vehicle_matches", "entry_still_active"):
            item.locator(f"input[name={name}]").check()
        item.locator("[data-testid=verify-form] button").click()
        page.wait_for_selector(f"[data-testid=queue-item][data-alert-id='{alert_id}'][data-status=actionable]", timeout=10000)
        page.screenshot(path=str(shots / "07-alert-verified.png"))

        # Share a snapshot of the live camera to the field officer.
        tile.locator(".tile-share").click()
        dialog = page.locator("[data-testid=share-dialog]")
        dialog.locator("select[name=kind]").select_option("snapshot")
        dialog.locator("input[name=recipient]").fill(officer.username)
        dialog.locator("input[name=case_number]").fill("HOM-2026-0117")
        dialog.locator("input[name=purpose]").fill("suspect description for units on scene")
        wait_until(page, "document.querySelectorAll('[data-testid=share-category] option').length > 30")
        dialog.locator("[data-testid=share-category]").select_option("0900")
        dialog.locator("input[name=message]").fill("Suspect fled east, dark hoodie")
        dialog.locator("[data-testid=share-send]").click()
        link = dialog.locator("[data-testid=share-link]")
        link.wait_for(timeout=20000)
        url = link.input_value()
        page.screenshot(path=str(shots / "08-shared.png"))

        # The officer's phone opens the link, proves who they are, and sees the snapshot.
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        field = phone.new_page()
        field.goto(url)
        form = field.locator("[data-testid=field-verify-form]")
        form.locator("input[name=username]").fill(officer.username)
        form.locator("input[name=code]").fill(pyotp.TOTP(officer.totp_secret).now())
        field.screenshot(path=str(shots / "09-field-verify.png"))
        form.locator("button[type=submit]").click()
        snapshot = field.locator("[data-testid=field-snapshot]")
        snapshot.wait_for(timeout=15000)
        wait_until(field, "(() => { const img = document.querySelector('[data-testid=field-snapshot]');"
                          " return img && img.complete && img.naturalWidth > 0; })()", timeout=15)
        assert "dark hoodie" in field.locator("[data-testid=field-message]").inner_text()
        field.screenshot(path=str(shots / "10-field-snapshot.png"), full_page=True)

        # Single use: the same link on another device is refused.
        other = browser.new_context().new_page()
        refused = other.goto(url)
        assert refused.status == 403
        assert not problems, problems
