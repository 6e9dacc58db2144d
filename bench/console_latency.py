"""Watch-floor latencies in a real browser (issue 5 targets: alert-to-screen median < 1 s; CAD call to docked
cameras < 1 s).

- alert to screen: a plate read that hits a hotlist, from the alert event's publication (its occurred_at,
  stamped just before the transaction commits and the bus publishes) to the item rendered in the alert queue;
  also from the moment the read is POSTed.
- CAD to docked: from POSTing a priority-1 call to the video wall holding the incident's cameras.
Prints one JSON object.
"""

import json
import statistics
import time
from datetime import UTC, datetime

from browser_harness import chromium, percentile, person, seeded_server, sign_in
from rtcc.alpr import hotlists
from rtcc.core.actor import SYSTEM
from rtcc.sim.city import camera_sites, seed_city

ALERTS = 20
CALLS = 10
PLATES = [f"9LAT{index:03d}" for index in range(ALERTS)]


def seed(runtime):
    with runtime.database.session() as db:
        agency, _ = seed_city(db, runtime=runtime)
        hotlist = hotlists.create_hotlist(db, runtime=runtime, actor=SYSTEM, name="Bench BOLO", source="bench", priority=1,
                                          agency_ori=agency.ori)
        hotlists.import_entries(db, runtime=runtime, actor=SYSTEM, hotlist_id=hotlist.id, format="json",
                                text=json.dumps([{"plate": plate, "state": "CA", "reason": "STOLEN"} for plate in PLATES]))
    seed.analyst = person(runtime, "bench-analyst", "analyst")
    seed.integration = person(runtime, "bench-cad", "operator")


def main() -> None:
    sites = [site for site in camera_sites(36) if site.kind.startswith("city")]  # calls where a city camera stands
    with seeded_server(seed) as (base, runtime), chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, bypass_csp=True)
        sign_in(page.request, base, seed.analyst)
        page.goto(f"{base}/")
        page.wait_for_function("document.getElementById('feed-state').textContent.includes('connected')")
        page.wait_for_function("document.body.dataset.mapPaintMs")
        integration = browser.new_context()
        headers = sign_in(integration.request, base, seed.integration)

        from_post = []
        for index, plate in enumerate(PLATES):
            posted = time.time() * 1000
            integration.request.post(f"{base}/api/v1/alpr/reads", headers=headers, data={"reads": [{
                "plate": plate, "read_at": datetime.now(UTC).isoformat(), "confidence": 0.9, "camera_id": 1 + index % 30}]})
            page.wait_for_function(f"window.rtccAlertLatencies.length > {index}", timeout=10000)
            shown = page.evaluate("Date.now()")
            from_post.append(shown - posted)
        from_event = page.evaluate("window.rtccAlertLatencies")

        docked, post_ms = [], []
        for index in range(CALLS):
            site = sites[(index * 3) % len(sites)]
            before = page.evaluate("Number(document.body.dataset.wallDockedAt || 0)")
            posted = time.time() * 1000
            response = integration.request.post(f"{base}/api/v1/cad/calls", headers=headers, data={
                "call_id": f"BENCH-{index}", "type": "Shots fired", "priority": 1, "address": site.name,
                "latitude": site.latitude, "longitude": site.longitude, "received_at": datetime.now(UTC).isoformat()})
            post_ms.append(time.time() * 1000 - posted)
            assert response.status == 201, response.text()
            page.wait_for_function(f"Number(document.body.dataset.wallDockedAt || 0) > {before}", timeout=10000)
            docked.append(float(page.evaluate("document.body.dataset.wallDockedAt")) - posted)
    print(json.dumps({
        "alerts": ALERTS, "alert_to_screen_ms_p50": round(statistics.median(from_event)),
        "alert_to_screen_ms_p95": round(percentile(from_event, 0.95)),
        "read_post_to_screen_ms_p50": round(statistics.median(from_post)),
        "calls": CALLS, "cad_to_docked_ms_p50": round(statistics.median(docked)),
        "cad_to_docked_ms_p95": round(percentile(docked, 0.95)), "cad_post_ms_p50": round(statistics.median(post_ms)),
    }))


if __name__ == "__main__":
    main()
