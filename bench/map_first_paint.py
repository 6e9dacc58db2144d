"""Map first paint with 40,000 cameras (issue 5 target: < 2 s), and how long a redraw takes when panning.

First paint: from navigation start to every camera drawn (clustered at city zoom), as the console marks it
(document.body.dataset.mapPaintMs). Redraw: zooming in and out, as the console times each redraw.
Prints one JSON object.
"""

import json
import math
import random
import statistics
import sys

from browser_harness import AGENCY, chromium, percentile, person, seeded_server, sign_in
from rtcc.auth import service as accounts
from rtcc.cameras import service as cameras

CAMERAS = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
LOADS = 5
CENTRE = (34.05, -118.30)  # a city about 30 km across


def seed(runtime):
    chooser = random.Random(40)
    with runtime.database.session() as db:
        agency = accounts.ensure_agency(db, runtime=runtime, ori=AGENCY, name="Benchmark agency")
        for index in range(CAMERAS):
            radius, angle = 15_000 * math.sqrt(chooser.random()), chooser.random() * 2 * math.pi
            db.add(cameras.new_camera(runtime=runtime, agency_id=agency.id, values={
                "name": f"Camera {index}", "kind": "city_fixed",
                "latitude": CENTRE[0] + radius * math.cos(angle) / 111_320,
                "longitude": CENTRE[1] + radius * math.sin(angle) / (111_320 * math.cos(math.radians(CENTRE[0]))),
                "heading_deg": chooser.choice([0, 90, 180, 270]), "fov_deg": 70, "range_m": 80}))
    seed.analyst = person(runtime, "bench-analyst", "analyst")


def main() -> None:
    with seeded_server(seed) as (base, runtime), chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, bypass_csp=True)  # Playwright polls with eval
        sign_in(page.request, base, seed.analyst)
        paints, payload = [], None
        for _ in range(LOADS):
            page.goto(f"{base}/")
            page.wait_for_function("document.body.dataset.mapPaintMs", timeout=60000)
            paints.append(float(page.evaluate("document.body.dataset.mapPaintMs")))
        payload = len(page.request.get(f"{base}/api/v1/cameras/map").body())
        drawn = page.evaluate("document.querySelectorAll('#map path.leaflet-interactive').length")
        redraws = []
        for zoom in (1, 1, -1, -1, 2, -2, 1, -1):
            before = page.evaluate("Number(document.body.dataset.drawCount || 0)")
            page.evaluate(f"() => {{ window.rtccMap.setZoom(window.rtccMap.getZoom() + {zoom}, {{animate: false}}); }}")
            page.wait_for_function(f"Number(document.body.dataset.drawCount || 0) > {before}")
            redraws.append(float(page.evaluate("document.body.dataset.lastDrawMs")))
    print(json.dumps({
        "cameras": CAMERAS, "loads": LOADS,
        "first_paint_ms_p50": round(statistics.median(paints)), "first_paint_ms_max": round(max(paints)),
        "map_payload_bytes": payload, "svg_elements_at_first_paint": drawn,
        "redraw_ms_p50": round(statistics.median(redraws), 1), "redraw_ms_p95": round(percentile(redraws, 0.95), 1),
    }))


if __name__ == "__main__":
    main()
