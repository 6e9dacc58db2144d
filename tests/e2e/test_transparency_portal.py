"""A member of the public opens the transparency portal in a real browser (no sign-in) and sees the figures move."""

import httpx
import pytest

from rtcc.cameras import service as cameras
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import build_runtime
from rtcc.settings import Settings
from browser_support import chromium, seeded_city, serving, watch_for_problems

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """`rtcc serve` on the seeded simulated city, counting the figures afresh for every request."""
    with seeded_city(tmp_path) as (settings, _, _):
        pass
    with serving(settings.data_dir, tmp_path / "server.log", env={"RTCC_TRANSPARENCY_CACHE_SECONDS": "0"}) as base:
        yield base, settings


def add_camera(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        with runtime.database.session() as db:
            cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=settings.demo_agency_ori,
                                  values={"name": "New corner", "kind": "city_ptz", "latitude": 34.09, "longitude": -118.36})
    finally:
        runtime.close()


def test_the_portal_shows_the_citys_figures_to_anyone_and_follows_them(server):
    base, settings = server
    with chromium() as browser:
        page = browser.new_page()
        problems = watch_for_problems(page)
        page.goto(f"{base}/sign-in")
        page.click("text=Transparency portal")
        page.wait_for_url("**/transparency")
        total = int(page.locator("[data-figure='cameras.total']").inner_text())
        assert total == httpx.get(f"{base}/api/v1/public/transparency").json()["cameras"]["total"] > 0
        assert page.locator("h2", has_text="License plates").count() == 1
        # The portal's own stylesheet applies under the strict CSP (no inline styles).
        assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "6px"

        add_camera(settings)
        page.reload()
        assert int(page.locator("[data-figure='cameras.total']").inner_text()) == total + 1

        page.click("nav >> text=Annual report")
        assert "Annual surveillance report" in page.locator("h1").inner_text()
        pdf_href = page.locator("a", has_text="PDF").get_attribute("href")
        pdf = httpx.get(f"{base}{pdf_href}", timeout=60)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
        assert problems == []
