"""Camera view cones and the spatial index: edges, wrap-around, accuracy, and index == brute force."""

from __future__ import annotations

import itertools
import math
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcc.cameras.geometry import (
    CameraView,
    as_camera_view,
    bearing_deg,
    distance_m,
    offset_point,
    sees_point,
    view_cone_polygon,
)
from rtcc.cameras.models import Camera
from rtcc.cameras.spatial_index import CameraIndex

DC = (38.9072, -77.0369)


def camera(heading: float, fov: float, range_m: float, *, camera_id="cam", at=DC) -> CameraView:
    return CameraView(camera_id, at[0], at[1], heading, fov, range_m)


def point(bearing: float, distance: float, *, origin=DC) -> tuple[float, float]:
    return offset_point(origin[0], origin[1], bearing, distance)


def vincenty_inverse(lat1, lon1, lat2, lon2):
    """Reference geodesic distance (m) and start bearing (deg) on WGS84, by Vincenty's iteration."""
    a, f = 6378137.0, 1 / 298.257223563
    b = a * (1 - f)
    u1, u2 = math.atan((1 - f) * math.tan(math.radians(lat1))), math.atan((1 - f) * math.tan(math.radians(lat2)))
    big_l = lam = math.radians(lon2 - lon1)
    for _ in range(200):
        sin_sigma = math.hypot(math.cos(u2) * math.sin(lam),
                               math.cos(u1) * math.sin(u2) - math.sin(u1) * math.cos(u2) * math.cos(lam))
        cos_sigma = math.sin(u1) * math.sin(u2) + math.cos(u1) * math.cos(u2) * math.cos(lam)
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = math.cos(u1) * math.cos(u2) * math.sin(lam) / sin_sigma
        cos2_alpha = 1 - sin_alpha**2
        cos_2sm = cos_sigma - 2 * math.sin(u1) * math.sin(u2) / cos2_alpha if cos2_alpha else 0.0
        c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        previous, lam = lam, big_l + (1 - c) * f * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2)))
        if abs(lam - previous) < 1e-13:
            break
    usq = cos2_alpha * (a * a - b * b) / (b * b)
    big_a = 1 + usq / 16384 * (4096 + usq * (-768 + usq * (320 - 175 * usq)))
    big_b = usq / 1024 * (256 + usq * (-128 + usq * (74 - 47 * usq)))
    delta_sigma = big_b * sin_sigma * (cos_2sm + big_b / 4 * (cos_sigma * (-1 + 2 * cos_2sm**2) - big_b / 6 * cos_2sm
                                                              * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)))
    start_bearing = math.degrees(math.atan2(math.cos(u2) * math.sin(lam), math.cos(u1) * math.sin(u2)
                                            - math.sin(u1) * math.cos(u2) * math.cos(lam))) % 360
    return b * big_a * (sigma - delta_sigma), start_bearing


# ---- sees_point -----------------------------------------------------------------------------


def test_the_cone_edges_are_inside_and_just_past_them_is_outside():
    cam = camera(heading=90, fov=60, range_m=100)
    for bearing in (60.01, 90, 119.99):
        assert sees_point(cam, *point(bearing, 50))
    for bearing in (59.99, 120.01, 270):
        assert not sees_point(cam, *point(bearing, 50))


def test_a_cone_across_north_wraps_around_zero():
    cam = camera(heading=350, fov=40, range_m=100)
    for bearing in (5, 9.99, 0, 359, 330.01):
        assert sees_point(cam, *point(bearing, 60)), bearing
    for bearing in (10.01, 329.99, 170):
        assert not sees_point(cam, *point(bearing, 60)), bearing
    assert sees_point(camera(heading=0, fov=90, range_m=100), *point(359, 50))
    assert sees_point(camera(heading=-10, fov=40, range_m=100), *point(5, 50))  # headings normalise


def test_range_is_inclusive_and_a_centimetre_beyond_is_not_seen():
    cam = camera(heading=45, fov=90, range_m=100)
    assert sees_point(cam, *point(45, 99.99))
    assert not sees_point(cam, *point(45, 100.01))


@pytest.mark.parametrize("fov", [360, 400])
def test_a_full_circle_ptz_sees_all_round_but_not_past_its_range(fov):
    cam = camera(heading=0, fov=fov, range_m=150)
    for bearing in (0, 90, 180, 270, 359.9):
        assert sees_point(cam, *point(bearing, 149))
    assert not sees_point(cam, *point(180, 151))


def test_the_cameras_own_spot_is_seen_even_by_a_zero_range_camera():
    assert sees_point(camera(heading=123, fov=40, range_m=0), *DC)
    assert sees_point(camera(heading=123, fov=0, range_m=50), *DC)


def test_registry_rows_and_tuples_are_accepted_and_bad_cameras_rejected():
    row = Camera(id=7, name="pole 7", kind="city_fixed", agency_id=1, latitude=DC[0], longitude=DC[1],
                 heading_deg=10.0, fov_deg=60.0, range_m=80.0)
    assert as_camera_view(row) == CameraView(7, DC[0], DC[1], 10.0, 60.0, 80.0)
    assert sees_point((1, DC[0], DC[1], 10.0, 60.0, 80.0), *point(10, 40))
    with pytest.raises(ValueError):
        as_camera_view((1, DC[0], DC[1], 0.0, 60.0, -1.0))
    with pytest.raises(ValueError):
        as_camera_view((1, 91.0, DC[1], 0.0, 60.0, 10.0))


# ---- distances, bearings, polygons ----------------------------------------------------------


@pytest.mark.parametrize("latitude", [0.0, 38.9, -45.0, 70.0])
def test_distance_and_bearing_agree_with_the_geodesic_within_a_hundredth_of_a_percent_at_50_km(latitude):
    for bearing in range(0, 360, 30):
        for metres in (30, 1_000, 50_000):
            lat, lon = offset_point(latitude, DC[1], bearing, metres)
            true_metres, true_bearing = vincenty_inverse(latitude, DC[1], lat, lon)
            assert distance_m(latitude, DC[1], lat, lon) == pytest.approx(true_metres, rel=1e-4)
            off = (bearing_deg(latitude, DC[1], lat, lon) - true_bearing + 180) % 360 - 180
            assert abs(off) < 0.01


def test_offset_point_round_trips_and_crosses_the_antimeridian():
    lat, lon = offset_point(10.0, 179.9995, 90, 200)
    assert lon < -179.99
    assert distance_m(10.0, 179.9995, lat, lon) == pytest.approx(200, abs=1e-6)
    assert bearing_deg(10.0, 179.9995, lat, lon) == pytest.approx(90, abs=1e-6)


def test_view_cone_polygon_is_a_closed_counter_clockwise_ring_of_the_cone():
    ring = view_cone_polygon(*DC, heading_deg=350, fov_deg=40, range_m=100, segments=8)
    assert ring[0] == ring[-1] == (DC[1], DC[0])  # (lon, lat), apex first and last
    assert len(ring) == 8 + 3
    for lon, lat in ring[1:-1]:
        assert distance_m(*DC, lat, lon) == pytest.approx(100, abs=1e-6)
    bearings = [bearing_deg(*DC, lat, lon) for lon, lat in ring[1:-1]]
    assert bearings[0] == pytest.approx(10) and bearings[-1] == pytest.approx(330)
    signed_area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert signed_area > 0  # RFC 7946: exterior rings counter-clockwise
    circle = view_cone_polygon(*DC, heading_deg=0, fov_deg=360, range_m=50, segments=12)
    assert len(circle) == 13 and circle[0] == circle[-1] and (DC[1], DC[0]) not in circle


# ---- the index --------------------------------------------------------------------------------

cameras_near = st.builds(
    lambda n, bearing, metres, heading, fov, range_m: (n, *point(bearing, metres), heading, fov, range_m),
    st.integers(0, 30),  # ids collide on purpose: a later camera with the same id replaces the first
    st.floats(0, 360), st.floats(0, 1_500), st.floats(-360, 720), st.floats(0, 420),
    st.one_of(st.floats(0, 300), st.sampled_from([0.0, 2_500.0])),
)
query_points = st.lists(st.tuples(st.floats(0, 360), st.floats(0, 1_800)), min_size=1, max_size=8)
updates = st.lists(st.one_of(cameras_near, st.integers(0, 30)), max_size=15)  # an int means remove


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cameras=st.lists(cameras_near, max_size=40), changes=updates, queries=query_points,
       radius=st.floats(0, 1_000), max_pending=st.sampled_from([1, 4, 256]))
def test_the_index_answers_exactly_what_a_brute_force_scan_does(cameras, changes, queries, radius, max_pending):
    # max_pending 1 and 4 rebuild the trees during the changes; 256 answers from the list of changed cameras.
    index = CameraIndex(cameras, max_pending=max_pending)
    truth = {c[0]: as_camera_view(c) for c in cameras}
    for change in changes:
        if isinstance(change, int):
            assert index.remove(change) == (change in truth)
            truth.pop(change, None)
        else:
            index.add_or_update(change)
            truth[change[0]] = as_camera_view(change)
    assert len(index) == len(truth)
    for bearing, metres in queries:
        lat, lon = point(bearing, metres)
        seeing = index.cameras_seeing(lat, lon)
        assert [h.camera_id for h in seeing if h.sees] == [h.camera_id for h in seeing]
        assert {h.camera_id for h in seeing} == {i for i, c in truth.items() if sees_point(c, lat, lon)}
        within = index.cameras_within(lat, lon, radius)
        assert {h.camera_id for h in within} == {
            i for i, c in truth.items() if distance_m(c.latitude, c.longitude, lat, lon) <= radius}
        for hit in within:
            assert hit.sees == sees_point(truth[hit.camera_id], lat, lon)
        assert [h.distance_m for h in within] == sorted(h.distance_m for h in within)


def test_cameras_seeing_ranks_closest_first_then_most_centred():
    pole = point(0, 40)  # three cameras on one pole 40 m north of P, one farther pole
    cams = [camera(180 + 25, 60, 100, camera_id="pole-off-centre", at=pole),
            camera(180, 60, 100, camera_id="pole-centred", at=pole),
            camera(180 - 10, 60, 100, camera_id="pole-slightly-off", at=pole),
            camera(0, 90, 100, camera_id="pole-facing-away", at=pole),
            camera(270, 30, 150, camera_id="far-east", at=point(90, 90))]
    index = CameraIndex(cams)
    hits = index.cameras_seeing(*DC)
    assert [h.camera_id for h in hits] == ["pole-centred", "pole-slightly-off", "pole-off-centre", "far-east"]
    assert hits[0].distance_m == pytest.approx(40) and hits[0].off_axis_deg == pytest.approx(0, abs=1e-6)
    assert hits[0].bearing_from_camera_deg == pytest.approx(180)
    assert [h.camera_id for h in index.cameras_seeing(*DC, limit=2)] == ["pole-centred", "pole-slightly-off"]
    assert index.cameras_seeing(*DC, limit=0) == []


def test_cameras_within_ranks_by_distance_and_says_which_ones_see():
    cams = [camera(180, 60, 100, camera_id="near-looking", at=point(0, 40)),
            camera(0, 60, 100, camera_id="nearer-away", at=point(0, 20)),
            camera(0, 60, 100, camera_id="outside", at=point(0, 260))]
    within = CameraIndex(cams).cameras_within(*DC, 200)
    assert [(h.camera_id, h.sees) for h in within] == [("nearer-away", False), ("near-looking", True)]
    assert within[1].off_axis_deg == pytest.approx(0, abs=1e-6)
    assert within[0].off_axis_deg == pytest.approx(180, abs=1e-6)


def test_updates_and_removals_take_effect():
    index = CameraIndex()
    assert index.cameras_seeing(*DC) == [] and index.cameras_within(*DC, 500) == []
    index.add_or_update(camera(180, 60, 100, camera_id=1, at=point(0, 50)))
    assert [h.camera_id for h in index.cameras_seeing(*DC)] == [1]
    index.add_or_update(camera(0, 60, 100, camera_id=1, at=point(0, 50)))  # turned away
    assert index.cameras_seeing(*DC) == [] and [h.camera_id for h in index.cameras_within(*DC, 60)] == [1]
    index.add_or_update(camera(180, 60, 100, camera_id=1, at=point(0, 5_000)))  # moved away
    assert index.cameras_within(*DC, 60) == [] and index.cameras_seeing(*DC) == []
    assert index.remove(1) and not index.remove(1) and 1 not in index
    for n in range(100):  # past the initial capacity
        index.add_or_update(camera(180, 60, 100, camera_id=n, at=point(0, 10.5 + n)))
    assert [h.camera_id for h in index.cameras_seeing(*DC)] == list(range(90))  # the ones 10.5..99.5 m away
    index.build([camera(0, 360, 30, camera_id="only")])
    assert [h.camera_id for h in index.cameras_within(*DC, 1_000)] == ["only"]


def test_long_range_and_antimeridian_cameras_are_found():
    east_of_dateline = (10.0, 179.9995)
    cams = [camera(90, 20, 200, camera_id="dateline", at=east_of_dateline),
            camera(0, 360, 20_000, camera_id="tower", at=point(180, 10_000))]
    index = CameraIndex(cams)
    lat, lon = offset_point(*east_of_dateline, 90, 150)
    assert [h.camera_id for h in index.cameras_seeing(lat, lon)] == ["dateline"]
    assert [h.camera_id for h in index.cameras_within(lat, lon, 200)] == ["dateline"]
    assert [h.camera_id for h in index.cameras_seeing(*DC)] == ["tower"]
    assert [h.camera_id for h in index.cameras_within(*DC, 60_000)] == ["tower"]


def test_queries_from_several_threads_during_updates_stay_correct():
    base = [camera(180, 60, 100, camera_id=n, at=point(n * 7 % 360, 10 + n % 80)) for n in range(300)]
    index = CameraIndex(base)
    errors: list[BaseException] = []
    stop = threading.Event()

    def query_until_stopped():
        try:
            while not stop.is_set():
                for hit in index.cameras_within(*DC, 120):
                    assert hit.distance_m <= 120
                index.cameras_seeing(*DC)
        except BaseException as error:  # noqa: BLE001 - any failure in a worker must fail the test
            errors.append(error)

    workers = [threading.Thread(target=query_until_stopped) for _ in range(4)]
    for worker in workers:
        worker.start()
    for round_ in range(3):
        for cam in base:
            index.add_or_update(CameraView(cam.id, cam.latitude, cam.longitude, (cam.heading_deg + 90 * round_) % 360,
                                           cam.fov_deg, cam.range_m))
        for cam in base[::10]:
            index.remove(cam.id)
        index.build(base)
    stop.set()
    for worker in workers:
        worker.join()
    assert errors == []
    assert {h.camera_id for h in index.cameras_seeing(*DC)} == {c.id for c in base if sees_point(c, *DC)}


@pytest.mark.parametrize("origin", [(10.0, 179.9990), (-33.0, -179.9995), (89.4, 20.0), (0.0, 0.0)])
def test_the_index_agrees_with_a_brute_force_scan_across_the_antimeridian_and_near_a_pole(origin):
    spots = [(bearing, metres) for bearing in range(0, 360, 23) for metres in (0, 35, 140, 900)]
    cams = [camera(n * 37 % 360, 30 + n * 11 % 330, (0, 60, 250, 2_000)[n % 4], camera_id=n,
                   at=point(*spots[n * 7 % len(spots)], origin=origin)) for n in range(60)]
    index = CameraIndex(cams)
    for bearing, metres in spots:
        lat, lon = point(bearing, metres, origin=origin)
        assert {h.camera_id for h in index.cameras_seeing(lat, lon)} == {
            c.id for c in cams if sees_point(c, lat, lon)}, (bearing, metres)
        assert {h.camera_id for h in index.cameras_within(lat, lon, 300)} == {
            c.id for c in cams if distance_m(c.latitude, c.longitude, lat, lon) <= 300}, (bearing, metres)
