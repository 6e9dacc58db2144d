"""In the console, a share to an officer of an agency with no sharing agreement is refused, naming the rule."""

import pyotp
import pytest

from rtcc.cameras import service as cameras
from rtcc.core.actor import SYSTEM
from rtcc.sim.demo_policy import seed_partners
from browser_support import artifacts_dir, chromium, seeded_city, serving, wait_until, watch_for_problems
from support import create_person

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """The simulated city with the demo's sharing partners, agreement and presets, served."""
    with seeded_city(tmp_path) as (settings, runtime, agency_ori):
        with runtime.database.session() as db:
            seed_partners(db, runtime=runtime, home_ori=agency_ori)
            cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=agency_ori, values={
                "name": "Policy corner", "kind": "city_fixed", "latitude": 34.09, "longitude": -118.36,
                "main_stream_url": "rtsp://10.20.0.5/stream1"})
        person = create_person(runtime, "casey", "analyst", agency=agency_ori)
    with serving(settings.data_dir, tmp_path / "server.log") as base:
        yield base, person


def sign_in(page, base, person):
    page.goto(f"{base}/sign-in")
    page.fill("input[name=username]", person.username)
    page.fill("input[name=password]", person.password)
    page.check("input[name=banner_acknowledged]")
    page.click("button[type=submit]")
    page.wait_for_url("**/sign-in/mfa")
    page.fill("input[name=code]", pyotp.TOTP(person.totp_secret).now())
    page.click("button[type=submit]")
    page.wait_for_url("**/sign-in/password")
    page.fill("input[name=current_password]", person.password)
    page.fill("input[name=new_password]", "Quiet-Harbor-92")
    page.fill("input[name=confirm_password]", "Quiet-Harbor-92")
    page.click("button[type=submit]")
    page.wait_for_url("**/console**")


def test_a_share_outside_the_agreement_is_refused_in_the_console(server):
    base, person = server
    shots = artifacts_dir("share-policy")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        problems = watch_for_problems(page)
        sign_in(page, base, person)
        page.fill("#camera-filter", "Policy corner")
        page.locator("[data-list-camera-id]").first.click()
        page.click("#camera-share")
        dialog = page.locator("[data-testid=share-dialog]")
        dialog.wait_for()
        # The managed purpose list fills the category menu.
        wait_until(page, "document.querySelectorAll('[data-testid=share-category] option').length > 30")
        dialog.locator("select[name=kind]").select_option("live")
        dialog.locator("input[name=recipient]").fill("federal.agent")
        dialog.locator("input[name=case_number]").fill("ROB-2026-0042")
        dialog.locator("input[name=purpose]").fill("robbery suspect seen on this corner")
        dialog.locator("[data-testid=share-category]").select_option("1200")
        dialog.locator("[data-testid=share-send]").click()
        wait_until(page, "document.querySelector('[data-testid=share-result]').textContent.includes('refused')")
        said = dialog.locator("[data-testid=share-result]").inner_text()
        assert "rule 'default deny'" in said and "DC0010000" in said, said
        page.screenshot(path=str(shots / "share-refused.png"))
        assert not problems, problems
