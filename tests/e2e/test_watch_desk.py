"""An analyst's shift in a real browser: find a live camera on the map, watch it, scrub back, export, verify."""

import subprocess
import sys

import pytest

from browser_support import artifacts_dir, chromium, recording_city, sign_in_through_api, wait_until, watch_for_problems
from support import create_person

pytestmark = pytest.mark.browser


def test_find_watch_scrub_export_and_verify(tmp_path):
    with recording_city(tmp_path) as city, chromium() as browser:
        base, camera_id, data_dir = city.base, city.camera_id, city.data_dir
        person = create_person(city.runtime, "casey", "analyst", agency=city.agency_ori)
        # Under the console's real CSP: waits poll through page.evaluate (wait_for_function would need eval).
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems = watch_for_problems(page)
        sign_in_through_api(page.request, base, person)
        page.goto(f"{base}/console")
        page.locator(f"[data-camera-id='{camera_id}']").click()
        assert "Live corner" in page.locator("#camera-title").inner_text()

        # Live: Media Source Extensions play the relayed fMP4.
        wait_until(page, "document.getElementById('live-video').readyState >= 2", timeout=20)

        # Scrub back: the default range (last five minutes) holds the recording.
        page.locator("#playback-form button").click()
        wait_until(page, "document.getElementById('spans').textContent.includes('span')", timeout=15)
        assert "1 span(s)" in page.locator("#spans").inner_text()
        wait_until(page, "document.getElementById('playback-video').readyState >= 2", timeout=20)

        # Export as evidence and verify the bag.
        page.fill("#export-form input[name=case_number]", "HOM-2026-0117")
        page.fill("#export-form input[name=purpose]", "homicide on Sunset, suspect vehicle")
        # The category menu holds the managed purpose list; an export names one.
        wait_until(page, "document.querySelectorAll('[data-testid=export-category] option').length > 30")
        page.locator("[data-testid=export-category]").select_option("0900")
        page.locator("#export-form button").click()
        wait_until(page, "document.getElementById('export-result').textContent.includes('verified')", timeout=60)
        result = page.locator("#export-result").inner_text()
        assert "verified intact" in result and "HOM-2026-0117" in result
        page.screenshot(path=str(artifacts_dir("watch-desk") / "export-verified.png"), full_page=True)
        assert not problems, problems
    bag = next((data_dir / "exports" / "HOM-2026-0117").iterdir())
    verified = subprocess.run([sys.executable, "-m", "rtcc.cli", "export", "verify", str(bag)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
