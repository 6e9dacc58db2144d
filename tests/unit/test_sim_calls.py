"""The simulated city's calls for service: realistic, repeatable, in the city, and often in front of a live camera."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from rtcc.cameras.geometry import CameraView, sees_point
from rtcc.settings import Settings
from rtcc.incidents.calls import opens_incident
from rtcc.incidents.schemas import CallIn
from rtcc.sim.calls import CallGenerator, hotspots_of, live_camera_sites
from rtcc.sim.city import CORRIDORS, EAST_END, WEST_END

START = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
LIVE = live_camera_sites(36, 4)


def _run(seed: int, count: int = 200):
    generator = CallGenerator(seed=seed, hotspots=hotspots_of(LIVE))
    return [generator.next_call(START + timedelta(seconds=30 * index)) for index in range(count)]


def _in_view_of_a_live_camera(values) -> bool:
    return any(sees_point(CameraView(site.name, site.latitude, site.longitude, site.heading_deg, site.fov_deg,
                                     site.range_m), values["latitude"], values["longitude"]) for site in LIVE)


def test_the_same_seed_makes_the_same_calls_and_another_seed_other_ones():
    assert [(call.kind, call.values) for call in _run(11, 50)] == [(call.kind, call.values) for call in _run(11, 50)]
    assert [call.values for call in _run(11, 50)] != [call.values for call in _run(12, 50)]


def test_calls_are_valid_cad_calls_inside_the_city_with_a_realistic_mix():
    calls = _run(5)
    lats = [lat for _, west, east in CORRIDORS for lat in (west, east)]
    for call in calls:
        values = call.values
        CallIn.model_validate({**values, "received_at": values["received_at"].isoformat()})  # what the REST API accepts
        assert min(lats) - 0.002 <= values["latitude"] <= max(lats) + 0.002
        assert WEST_END - 0.003 <= values["longitude"] <= EAST_END + 0.003
        assert values["address"] and values["call_id"].startswith("SIM-")
    new = [call.values for call in calls if call.kind == "new"]
    types = Counter(values["type"] for values in new)
    assert len(types) >= 8 and {"Shots fired", "Robbery", "Noise complaint", "Traffic collision"} <= set(types)
    settings = Settings()
    opening = [values for values in new if opens_incident(settings=settings, call_type=values["type"],
                                                         priority=values["priority"])]
    assert 0.25 < len(opening) / len(new) < 0.75  # some open incidents, many do not
    assert len({values["call_id"] for values in new}) == len(new)


def test_the_first_call_opens_an_incident_in_front_of_the_first_live_camera_and_many_others_follow():
    calls = _run(7)
    first = calls[0].values
    assert calls[0].kind == "new" and first["priority"] == 1
    assert sees_point(CameraView("first", LIVE[0].latitude, LIVE[0].longitude, LIVE[0].heading_deg, LIVE[0].fov_deg,
                                 LIVE[0].range_m), first["latitude"], first["longitude"])
    new = [call.values for call in calls if call.kind == "new"]
    share = sum(_in_view_of_a_live_camera(values) for values in new) / len(new)
    assert 0.3 < share < 0.8


def test_earlier_calls_are_updated_and_closed_and_no_call_changes_after_it_closed():
    calls = _run(3)
    kinds = Counter(call.kind for call in calls)
    assert kinds["update"] >= 10 and kinds["close"] >= 30
    closed: set[str] = set()
    open_now: set[str] = set()
    for call in calls:
        call_id = call.values["call_id"]
        assert call_id not in closed, f"{call_id} sent again after it closed"
        if call.kind == "new":
            open_now.add(call_id)
        else:
            assert call_id in open_now
            if call.kind == "close":
                assert call.values["status"] == "closed"
                open_now.discard(call_id)
                closed.add(call_id)
        assert len(open_now) <= 8  # the oldest are cleared: the demo's incident list stays readable
    escalated = [call.values for call in calls if call.kind == "update" and call.values["priority"] == 2
                 and call.values["type"] in ("Suspicious vehicle", "Suspicious person")]
    assert escalated, "no suspicious call was escalated into one that opens an incident"
