"""Stream and discovery URLs reach only cameras: never the server itself, loopback, link-local, metadata or files.

These tests run on the production defaults (no camera-network allow-list, no file sources), not on the
allow-list the other tests give their simulated cameras.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from sqlalchemy import insert, select

from rtcc.audit import service as audit
from rtcc.auth.service import get_agency
from rtcc.cameras import stream_urls
from rtcc.cameras.models import Camera
from rtcc.cameras.service import stream_url_for_ingest
from rtcc.cameras.stream_urls import StreamSourcePolicy, StreamSourceRefused
from rtcc.core import clock
from rtcc.settings import Settings
from rtcc.video.pipeline.recording_supervisor import RecordingSupervisor
from support import TEST_AGENCY

CAMERA = {"name": "Sunset & Vine", "kind": "city_fixed", "latitude": 34.0983, "longitude": -118.3267}
CSV_HEADER = "external_id,name,kind,latitude,longitude,main_stream_url\n"
REFUSED_URLS = {
    "a file on the server": "file:///etc/passwd",
    "loopback": "rtsp://127.0.0.1:22/",
    "loopback, another port": "http://127.0.0.1:18080/admin",
    "loopback by another spelling": "rtsp://2130706433/",
    "IPv6 loopback": "rtsp://[::1]:554/",
    "IPv4-mapped loopback": "rtsp://[::ffff:127.0.0.1]/",
    "localhost": "rtsp://localhost:8554/cam1",
    "link-local": "rtsp://169.254.10.20/stream1",
    "cloud metadata": "http://169.254.169.254/latest/meta-data/",
    "IPv6 metadata": "http://[fd00:ec2::254]/latest/",
    "the unspecified address": "rtsp://0.0.0.0:554/",
    "the server's own HTTP address": "http://127.0.0.1:8080/api/v1/cameras",
}


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    """The shipped defaults: no allow-list, no file sources."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url, recording_enabled=False)


def new_camera(admin, url: str, **extra):
    return admin.post("/api/v1/cameras", json={**CAMERA, "main_stream_url": url, **extra})


def test_a_camera_url_that_points_at_the_server_or_its_neighbours_is_refused(signed_in_as):
    admin, _ = signed_in_as("admin")  # one account for every case: signing in is the slow part
    answers = {what: new_camera(admin, url) for what, url in REFUSED_URLS.items()}
    accepted = {what: answer.text for what, answer in answers.items() if answer.status_code != 422}
    assert not accepted, accepted
    for what, answer in answers.items():
        assert answer.json()["code"] == "stream_source_refused", (what, answer.text)
        assert answer.json()["message"].startswith("main_stream_url: "), (what, answer.text)
    assert admin.get("/api/v1/cameras").json() == []  # nothing stored


def test_city_cameras_on_private_networks_and_public_names_are_accepted(signed_in_as):
    admin, _ = signed_in_as("admin")
    for url in ("rtsp://10.20.30.40:554/stream1", "rtsps://192.168.7.8/h264", "http://172.16.5.6/mjpeg",
                "https://[fd12:3456::10]/live.m3u8", "rtsp://cam-17.city.invalid/stream1"):
        created = new_camera(admin, url)
        assert created.status_code == 201, created.text
        assert created.json()["main_stream_url"] == url


def test_the_sub_stream_and_a_patch_are_held_to_the_same_rule(signed_in_as):
    admin, _ = signed_in_as("admin")
    refused = new_camera(admin, "rtsp://10.0.0.5/main", sub_stream_url="rtsp://169.254.169.254/sub")
    assert refused.status_code == 422 and refused.json()["message"].startswith("sub_stream_url: ")
    camera = new_camera(admin, "rtsp://10.0.0.5/main").json()
    patched = admin.patch(f"/api/v1/cameras/{camera['id']}", json={"main_stream_url": "file:///etc/shadow"})
    assert patched.status_code == 422 and patched.json()["code"] == "stream_source_refused"
    assert admin.get(f"/api/v1/cameras/{camera['id']}").json()["main_stream_url"] == "rtsp://10.0.0.5/main"


def test_unknown_schemes_and_broken_ports_are_invalid_not_500(signed_in_as):
    admin, _ = signed_in_as("admin")
    for url in ("ftp://10.0.0.5/x", "gopher://10.0.0.5/", "rtsp://10.0.0.5:99999/x", "rtsp:///no-host"):
        answer = new_camera(admin, url)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_stream_url", (url, answer.text)


def test_an_import_refuses_each_bad_line_by_name_and_keeps_the_good_ones(signed_in_as):
    admin, _ = signed_in_as("admin")
    lines = [f"R-{index},Refused {index},city_fixed,34.09,-118.36,{url}\n" for index, url in enumerate(REFUSED_URLS.values())]
    body = CSV_HEADER + "".join(lines) + "G-1,Good,city_fixed,34.09,-118.36,rtsp://10.1.1.1/s\n"
    report = admin.post("/api/v1/cameras/import", content=body, headers={"content-type": "text/csv"}).json()
    assert (report["created"], report["rejected"]) == (1, len(REFUSED_URLS))
    assert [error["line"] for error in report["errors"]] == list(range(2, 2 + len(REFUSED_URLS)))
    assert {error["field"] for error in report["errors"]} == {"main_stream_url"}
    assert [camera["external_id"] for camera in admin.get("/api/v1/cameras").json()] == ["G-1"]


def test_the_allow_list_opens_loopback_but_never_the_servers_own_http_port(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    runtime.settings.camera_network_allowlist = ["127.0.0.0/8"]  # what the demo sets for its simulated cameras
    assert new_camera(admin, "rtsp://127.0.0.1:8554/cam1").status_code == 201
    own = new_camera(admin, f"http://127.0.0.1:{runtime.settings.port}/api/v1/cameras")
    assert own.status_code == 422 and "its own HTTP port" in own.json()["message"]
    assert new_camera(admin, "http://169.254.169.254/latest/").status_code == 422  # metadata is not in 127/8
    runtime.settings.allow_file_streams = True
    assert new_camera(admin, "file:///srv/clips/street.mp4").status_code == 201


def test_discovery_of_metadata_or_loopback_is_refused_before_anything_is_sent(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        for host, target_port in (("169.254.169.254", 80), ("127.0.0.1", port), ("localhost", port)):
            refused = admin.post("/api/v1/cameras/discover", json={"host": host, "port": target_port})
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] == "stream_source_refused" and refused.json()["message"].startswith("host: ")
        with pytest.raises(BlockingIOError):  # nobody connected to the loopback listener
            listener.accept()
    finally:
        listener.close()
    with runtime.database.session() as db:
        records = audit.search(db, query=audit.AuditQuery(action="camera.discover"))
    assert sorted((record.outcome, record.object_id) for record in records) == sorted([
        ("failure", "169.254.169.254:80"), ("failure", f"127.0.0.1:{port}"), ("failure", f"localhost:{port}")])


def store_directly(runtime, urls: dict[str, str | None]) -> dict[str, int]:
    """Cameras written straight into the table, as a registry from before the rule holds them."""
    with runtime.database.session() as db:
        agency = get_agency(db, ori=TEST_AGENCY)
        ids = {}
        for name, url in urls.items():
            ids[name] = db.execute(insert(Camera).values(
                agency_id=agency.id, name=name, kind="city_fixed", latitude=34.09, longitude=-118.36, groups=[],
                privacy_masks=[], main_stream_url=url, record_mode="continuous", status="unknown",
                created_at=clock.utcnow()).returning(Camera.id)).scalar_one()
    return ids


def test_a_camera_stored_before_the_rule_is_never_opened_and_says_why(runtime):
    ids = store_directly(runtime, {"passwd": "file:///etc/passwd", "ssh": "rtsp://127.0.0.1:22/",
                                   "metadata": "http://169.254.169.254/latest/", "no url": None})
    runtime.settings.recording_enabled = True
    supervisor = RecordingSupervisor(runtime)

    async def one_pass():
        await supervisor.reconcile()
        await supervisor.stop()

    asyncio.run(one_pass())
    assert supervisor.recorders == {}
    with runtime.database.session() as db:
        cameras = {camera.name: camera for camera in db.execute(select(Camera)).scalars()}
        for name in ("passwd", "ssh", "metadata"):
            assert cameras[name].status == "source_refused", name
            assert cameras[name].status_detail.startswith("source refused: main_stream_url: "), cameras[name].status_detail
            with pytest.raises(StreamSourceRefused):  # live view, plate reading and sharing ask the same function
                stream_url_for_ingest(cameras[name], runtime=runtime)
        assert (cameras["no url"].status, cameras["no url"].status_detail) == ("no_source", "no stream URL")
    assert "file sources are switched off" in cameras["passwd"].status_detail
    assert set(ids) == set(cameras)


def test_a_name_that_now_resolves_to_loopback_is_refused_right_before_ffmpeg_starts(runtime, monkeypatch):
    """The name passed when the camera was stored; DNS now answers 127.0.0.1 (DNS is the one part faked here)."""
    real_getaddrinfo = socket.getaddrinfo

    def city_dns(host, *args, **kwargs):
        if host == "cam-9.city.example":
            return real_getaddrinfo("127.0.0.1", *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    store_directly(runtime, {"rebound": "rtsp://cam-9.city.example:22/stream1"})
    monkeypatch.setattr(stream_urls.socket, "getaddrinfo", city_dns)
    runtime.settings.recording_enabled = True
    supervisor = RecordingSupervisor(runtime)

    async def scenario():
        await supervisor.reconcile()  # the name is not resolved here: a recorder starts and checks it itself
        (_, recorder, _), = supervisor.recorders.values()
        deadline = asyncio.get_running_loop().time() + 20
        while recorder.status.state != "source_refused" and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        status, process = recorder.status, recorder._process
        await supervisor.stop()
        return status, process

    status, process = asyncio.run(scenario())
    assert process is None, "ffmpeg was started for a refused source"
    with runtime.database.session() as db:
        camera = db.execute(select(Camera)).scalar_one()
    assert camera.status in ("source_refused", "stopped")
    assert "cam-9.city.example (127.0.0.1) is a loopback address" in (status.detail or "")


def test_the_policy_reads_the_settings_it_is_given():
    policy = StreamSourcePolicy.of(Settings(camera_network_allowlist=["169.254.169.254/32"], port=9000))
    assert policy.refusal("http://169.254.169.254/latest/") is None  # named by the allow-list: the operator's call
    assert "own HTTP port" in policy.refusal("http://127.0.0.1:9000/")
    assert policy.refusal("rtsp://127.0.0.1:8080/") is not None


def test_the_demo_reaches_its_simulated_cameras_but_not_its_own_http_port():
    from rtcc.sim.demo import allow_simulated_cameras

    settings = Settings(port=8123)
    allow_simulated_cameras(settings)
    policy = StreamSourcePolicy.of(settings)
    assert policy.refusal("rtsp://127.0.0.1:8554/cam1") is None
    assert "own HTTP port" in policy.refusal("http://127.0.0.1:8123/api/v1/health")
    assert policy.refusal("http://169.254.169.254/latest/") is not None


def test_one_plate_reading_camera_with_a_refused_source_leaves_the_others_reading(runtime):
    """A refused source skips that camera alone; it used to fail the whole reconcile, so no camera started or stopped."""
    from rtcc.alpr.hotlists import HotlistCache
    from rtcc.alpr.video.consumer import PlateReadingSupervisor

    ids = store_directly(runtime, {"ssh": "rtsp://127.0.0.1:22/", "city": "rtsp://10.20.30.40:554/stream1"})
    with runtime.database.session() as db:
        for camera in db.execute(select(Camera)).scalars():
            camera.reads_plates = True
    # Only what the supervisor would start is asked for: nothing connects to the city address.
    wanted = PlateReadingSupervisor(runtime, HotlistCache())._wanted()
    assert set(wanted) == {ids["city"]}
    assert wanted[ids["city"]][0] == "rtsp://10.20.30.40:554/stream1"
