"""The demo's alert story, end to end: a simulated RTSP camera drives a planted hotlist plate past, the server's own
plate-reading worker reads it off the sub-stream, and the alert reaches the event bus and the analyst's alert list."""

from __future__ import annotations

import asyncio
import json

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from factories import make_camera
from sqlalchemy import select
from support import TEST_AGENCY, create_person, sign_in, wait_until

from rtcc.alpr import hotlists
from rtcc.alpr.models import Hotlist, HotlistEntry, PlateAlert, PlateRead
from rtcc.app import create_app
from rtcc.core.actor import SYSTEM
from rtcc.sim.demo import plant_demo_hotlist

# The vehicle `rtcc demo` plants (cli.demo): camera 1's fifth, whose plate crosses the frame whole.
PLANTED_VEHICLE = 4
# Every vehicle crosses within the 10 s loop; the reader needs a few seconds to start and to close the pass.
ALERT_DEADLINE_S = 90


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: this test is about video, and a read raising an alert is tested on both engines in test_plates."""
    return f"sqlite:///{tmp_path / 'rtcc.sqlite3'}"


def add_reading_camera(runtime, simulated) -> int:
    """A city camera on the simulated streams that reads plates, in the "alpr" group (as the demo sets it)."""
    return make_camera(runtime, name="Sunset & La Cienega ALPR", latitude=34.0905, longitude=-118.3700,
                       main_stream_url=simulated.urls[0], sub_stream_url=simulated.sub_urls[0], groups=["alpr"],
                       reads_plates=True)


def test_a_planted_plate_driving_past_a_live_camera_raises_an_alert_the_analyst_sees(runtime, simulated):
    assert runtime.settings.video_reads_enabled  # the server's own plate-reading supervisor does the reading
    runtime.settings.demo_agency_ori = TEST_AGENCY
    plates = simulated.plates(1)
    camera_id = add_reading_camera(runtime, simulated)
    plant_demo_hotlist(runtime, plates[PLANTED_VEHICLE])  # what `rtcc demo` plants
    # On a loaded box one plate can be misread pass after pass: every plate of the scene goes on the same list,
    # so whichever pass is read right first raises the alert.
    with runtime.database.session() as db:
        hotlist = db.execute(select(Hotlist).where(Hotlist.name == "Demo BOLO")).scalar_one()
        others = [plate for plate in plates if plate != plates[PLANTED_VEHICLE]]
        hotlists.import_entries(db, runtime=runtime, actor=SYSTEM, hotlist_id=hotlist.id, format="json", text=json.dumps(
            [{"plate": plate, "state": "CA", "reason": "STOLEN VEHICLE (demo)"} for plate in others]))
    with runtime.database.read_session() as db:
        entries = {plate: (entry_id, hotlist_id) for plate, entry_id, hotlist_id in db.execute(
            select(HotlistEntry.plate, HotlistEntry.id, Hotlist.id).join(Hotlist).where(Hotlist.name == "Demo BOLO"))}
    assert set(entries) == set(plates)

    with TestClient(create_app(runtime=runtime), base_url="http://testserver") as client:
        bus_alerts = client.portal.call(_subscribe_to_alerts, runtime)
        sign_in(client, create_person(runtime, "casey", "analyst"))

        def listed_alerts():
            response = client.get("/api/v1/alpr/alerts")
            assert response.status_code == 200, response.text
            return response.json()

        wait_until(listed_alerts, timeout=ALERT_DEADLINE_S, poll=1.0,
                   what=lambda: f"an alert for one of {plates} off camera {camera_id}: {_reader_stats(client)}")
        event = client.portal.call(_next_alert, bus_alerts)
        listed = listed_alerts()
        alert = next(alert for alert in listed if alert["id"] == event.data["alert_id"])
        crop = client.get(f"/api/v1/alpr/reads/{alert['read_id']}/crop")

    # Every alert is for a listed plate, on this camera, from this list.
    for each in listed:
        assert each["plate"] in entries and (each["entry_id"], each["hotlist_id"]) == entries[each["plate"]], each
        assert each["camera_id"] == camera_id
    plate = alert["plate"]
    assert alert["match_method"] in ("exact", "fuzzy") and alert["status"] == "new"
    assert alert["entry"]["reason"] == "STOLEN VEHICLE (demo)"
    with runtime.database.read_session() as db:
        read = db.execute(select(PlateRead.id, PlateRead.plate, PlateRead.source, PlateRead.camera_id, PlateRead.crop_path)
                          .where(PlateRead.id == alert["read_id"])).one()
        assert read.id in db.execute(select(PlateAlert.read_id)).scalars().all()
    # The read came from the camera's video: the reader worker stored it, with the crop it cut.
    assert (read.source, read.camera_id) == ("reader", camera_id)
    assert read.crop_path and (runtime.settings.data_dir / read.crop_path).is_file()
    assert alert["read"]["crop_path"] == read.crop_path
    # The bus carried it to every console, with what the alert queue shows.
    assert (event.data["plate"], event.data["camera_id"], event.data["crop"]) == (plate, camera_id, read.crop_path)
    assert event.data["hotlist"] == "Demo BOLO" and event.agency_ori == TEST_AGENCY
    # The crop the analyst compares with the alert shows the plate the reader read.
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg"
    from rtcc.alpr.reader import PlateReader

    pixels = cv2.imdecode(np.frombuffer(crop.content, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert read.plate in [found.plate for found in PlateReader().read_image(pixels)]


async def _subscribe_to_alerts(runtime):
    return runtime.bus.subscribe()


async def _next_alert(subscription):
    async def first_alert():
        while (event := await subscription.get()).type != "plate.alert":
            pass
        return event

    return await asyncio.wait_for(first_alert(), timeout=10)


def _reader_stats(client) -> list[dict]:
    supervisor = client.app.state.plate_reading
    return supervisor.stats() if supervisor else []
