"""A field officer's console shows a stolen-vehicle hit as the analyst's does: P1, red, sounding (real chromium)."""

import pytest
from fastapi.testclient import TestClient

from browser_support import chromium, serving, sign_in_through_api, wait_until, watch_for_problems
from rtcc.app import create_app
from rtcc.core import clock
from rtcc.settings import Settings
from rtcc.core.runtime import build_runtime
from rtcc.sim.city import seed_city
from support import create_person, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server_with_a_p1_alert(tmp_path):
    """`rtcc serve` on a data dir whose agency has a P1 hotlist and an unacknowledged hit on it."""
    settings = Settings(data_dir=tmp_path / "data", recording_enabled=False)
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    with runtime.database.session() as db:
        agency, _ = seed_city(db, runtime=runtime)
        agency_ori = agency.ori
    with TestClient(create_app(runtime=runtime), base_url="http://testserver") as api:
        person = sign_in(api, create_person(runtime, "sgt.lee", "supervisor", agency=agency_ori))
        api.headers["x-csrf-token"] = person.csrf_token
        hotlist = api.post("/api/v1/alpr/hotlists", json={"name": "NCIC stolen", "source": "NCIC", "priority": 1}).json()
        api.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content="LIC,LIS,OFF\n7ABC123,CA,STOLEN VEHICLE\n",
                 headers={"content-type": "text/csv"})
    with TestClient(create_app(runtime=runtime), base_url="http://testserver") as device:
        person = sign_in(device, create_person(runtime, "alpr-feed", "operator", agency=agency_ori))
        device.headers["x-csrf-token"] = person.csrf_token
        stored = device.post("/api/v1/alpr/reads", json={"reads": [{"plate": "7ABC123", "read_at": clock.utcnow().isoformat(),
                                                                    "confidence": 0.96, "device_id": "patrol-alpr-3"}]})
        assert stored.json()["alerts"] == 1, stored.text
    officer = create_person(runtime, "ofc.reyes", "field_officer", agency=agency_ori)
    runtime.close()
    with serving(settings.data_dir, tmp_path / "server.log", env={"RTCC_RECORDING_ENABLED": "false"}) as base:
        yield base, officer


def test_a_field_officer_sees_and_hears_a_p1_hit_as_p1(server_with_a_p1_alert):
    base, officer = server_with_a_p1_alert
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems = watch_for_problems(page)
        sign_in_through_api(page.request, base, officer)
        page.goto(f"{base}/console")
        wait_until(page, "document.querySelector('[data-testid=queue-item]')", timeout=15)
        item = page.locator("[data-testid=queue-item]").first
        assert item.get_attribute("data-priority") == "1"  # the hotlist's priority, which the officer may not read
        assert "p1" in item.get_attribute("class").split()
        assert item.locator(".badge").inner_text() == "P1"
        assert "NCIC stolen" in item.locator(".queue-detail").inner_text()
        wait_until(page, "document.body.dataset.lastBeep", timeout=10)  # it sounds, as a P1 does
        assert not problems, problems
