"""Chaos: `rtcc serve` is SIGKILLed mid-recording under write load; after a restart nothing it accepted is missing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from support import TEST_AGENCY, create_person, free_port, make_test_clip, wait_until

from rtcc.auth import service as accounts
from rtcc.auth import tokens
from rtcc.auth.models import Agency, User
from rtcc.auth.permissions import permissions_of
from rtcc.auth.sessions import user_actor
from rtcc.cameras.service import new_camera
from rtcc.core import clock
from rtcc.settings import Settings
from rtcc.core.runtime import build_runtime

CAMERAS = 2
# Local test sources: file cameras and loopback, which the stream-URL policy refuses unless told otherwise.
SOURCE_POLICY = {"allow_file_streams": "true", "camera_network_allowlist": '["127.0.0.0/8"]'}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    # A keyframe every 0.2 s: the segment being written holds whole fragments on disk most of the time.
    return make_test_clip(tmp_path_factory.mktemp("clips") / "street.mp4", gop=2)


def server_environment(data_dir: Path, port: int, database_url: str) -> dict[str, str]:
    known = set(Settings.model_fields)
    return {**os.environ, "RTCC_DATA_DIR": str(data_dir), "RTCC_PORT": str(port),
            "RTCC_DATABASE_URL": database_url, "RTCC_BUS_URL": "inprocess://", "RTCC_SEGMENT_SECONDS": "1",
            "RTCC_RECORDER_RECONCILE_SECONDS": "0.5", "RTCC_STREAM_IO_TIMEOUT_SECONDS": "3",
            "RTCC_VIDEO_READS_ENABLED": "false",
            **{f"RTCC_{name.upper()}": value for name, value in SOURCE_POLICY.items() if name in known}}


def prepare(data_dir: Path, clip: Path, database_url: str) -> str:
    """The data dir a running centre would have: an agency, cameras recording a file source, a device's API token."""
    known = set(Settings.model_fields)
    policy = {name: value for name, value in {"allow_file_streams": True,
                                              "camera_network_allowlist": ["127.0.0.0/8"]}.items() if name in known}
    runtime = build_runtime(Settings(data_dir=data_dir, database_url=database_url, **policy))
    try:
        runtime.database.upgrade()
        with runtime.database.session() as db:
            accounts.ensure_agency(db, runtime=runtime, ori=TEST_AGENCY, name="Test Sheriff")
        person = create_person(runtime, "gateway", "operator")
        with runtime.database.session() as db:
            agency_id = db.execute(select(Agency.id).where(Agency.ori == TEST_AGENCY)).scalar_one()
            for number in range(CAMERAS):
                db.add(new_camera(runtime=runtime, agency_id=agency_id, values={
                    "name": f"Chaos {number}", "kind": "city_fixed", "latitude": 34.09, "longitude": -118.36,
                    "main_stream_url": f"file://{clip}"}))
            user = db.execute(select(User).where(User.username == person.username)).scalar_one()
            actor = user_actor(user, via="session", permissions=permissions_of(user.role), source_address=None)
            issued = tokens.create_token(db, runtime=runtime, actor=actor, username=user.username, name="chaos",
                                         permissions=["alpr.ingest", "cad.ingest", "video.playback"], expires_in_days=1)
        return issued.raw_token
    finally:
        runtime.close()


class Server:
    """One `rtcc serve` process on the data dir."""

    def __init__(self, data_dir: Path, port: int, log: Path, database_url: str):
        self.log = open(log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "serve"], stdout=self.log,
                                        stderr=subprocess.STDOUT, env=server_environment(data_dir, port, database_url))
        self.url = f"http://127.0.0.1:{port}"
        wait_until(self._healthy, timeout=60, what=lambda: f"the server to answer (log: {log.read_text()[-2000:]})")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("the server exited on start")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def ffmpeg_children(self) -> set[int]:
        """Process ids of the server's ffmpeg children."""
        children = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
                if name == "ffmpeg" and int(fields[1]) == self.process.pid:
                    children.add(int(entry.name))
        return children

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class WriteLoad:
    """Threads sending plate reads and CAD calls as devices do, each id remembered once a 2xx accepted it."""

    def __init__(self, token: str):
        self.headers = {"authorization": f"Bearer {token}"}
        self.url = ""
        self.accepted_reads: set[str] = set()
        self.accepted_calls: set[str] = set()
        self.refused: list[int] = []
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(kind,), daemon=True) for kind in ("read", "call")]

    def start(self, url: str) -> None:
        self.url = url
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _send(self, kind: str) -> None:
        with httpx.Client(headers=self.headers, timeout=10) as client:
            while not self._stopping.is_set():
                identifier = uuid.uuid4().hex[:16]
                try:
                    if kind == "read":
                        response = client.post(f"{self.url}/api/v1/alpr/reads", json={"reads": [{
                            "plate": f"7C{identifier[:5].upper()}", "read_at": clock.iso(clock.utcnow()),
                            "confidence": 0.9, "device_id": "chaos-gateway", "read_id": identifier}]})
                        accepted = self.accepted_reads
                    else:
                        response = client.post(f"{self.url}/api/v1/cad/calls", json={
                            "call_id": f"C{identifier}", "type": "suspicious person", "priority": 3,
                            "latitude": 34.09, "longitude": -118.36, "received_at": clock.iso(clock.utcnow())})
                        accepted = self.accepted_calls
                        identifier = f"C{identifier}"
                except httpx.HTTPError:
                    self._stopping.wait(0.1)  # the server is down (killed, restarting): a device resends later
                    continue
                if response.is_success:
                    accepted.add(identifier)
                else:
                    self.refused.append(response.status_code)


ENGINES: dict[str, Engine] = {}


def stored_ids(database_url: str, query: str) -> set[str]:
    """What the server's database holds now, read over a connection of the test's own."""
    engine = ENGINES.setdefault(database_url, create_engine(database_url))
    with engine.connect() as connection:
        return {row[0] for row in connection.execute(text(query))}


def indexed_names(database_url: str) -> set[str]:
    """Original ffmpeg names of the indexed segments (placing one prefixes its start time: 142501.250_<name>)."""
    return {Path(path).name.split("_", 1)[1] for path in stored_ids(database_url, "SELECT path FROM recording_segments")}


def segment_files_on_disk(data_dir: Path) -> dict[str, Path]:
    """Every segment file under media/, being written or not, by its original name."""
    return {path.name if path.parent.name in ("incoming", "unreadable") else path.name.split("_", 1)[1]: path
            for path in (data_dir / "media").glob("cam*/*/*.mp4")}


def open_segment_holds_video(data_dir: Path) -> bool:
    """Whether a segment ffmpeg is still writing already holds a fragment of video."""
    for path in (data_dir / "media").glob("cam*/incoming/*.mp4"):
        try:
            if b"moof" in path.read_bytes():
                return True
        except FileNotFoundError:  # closed and moved to its day folder meanwhile
            continue
    return False


def holds_video(path: Path) -> bool:
    """Whether ffprobe finds video in a file (one ffmpeg had only opened when it was stopped holds none)."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                           capture_output=True, text=True)
    return probe.returncode == 0 and float(probe.stdout.strip() or 0) > 0


def test_a_server_killed_mid_recording_under_write_load_loses_nothing_it_accepted(tmp_path, clip, database_url):
    data_dir, port = tmp_path / "data", free_port()
    token = prepare(data_dir, clip, database_url)
    load = WriteLoad(token)
    first = Server(data_dir, port, tmp_path / "server.log", database_url)
    second, recorders = None, set()
    try:
        started = clock.utcnow()
        load.start(first.url)
        wait_until(lambda: len(stored_ids(database_url, "SELECT path FROM recording_segments")) >= 3 * CAMERAS
                   and len(load.accepted_reads) >= 10 and len(load.accepted_calls) >= 5,
                   timeout=60, what="segments indexed and writes accepted before the kill")
        recorders = first.ffmpeg_children()
        assert len(recorders) == CAMERAS
        # Kill mid-segment: once a segment being written already holds video (a fragment), so the kill leaves one.
        wait_until(lambda: open_segment_holds_video(data_dir), timeout=10, what="a segment being written to hold a fragment")
        killed_at = clock.utcnow()
        first.stop(signal.SIGKILL)
        # The recorders must not outlive the server: an orphan would keep writing into incoming/ for ever.
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in recorders), timeout=15,
                   what="the killed server's ffmpeg children to end")
        on_disk_at_kill = segment_files_on_disk(data_dir)
        with_video = {name for name, path in on_disk_at_kill.items() if holds_video(path)}
        left_unindexed = with_video - indexed_names(database_url)
        assert left_unindexed, "the kill left no segment unindexed: the test proved nothing"

        second = Server(data_dir, port, tmp_path / "server.log", database_url)
        load.url = second.url
        accepted_before = len(load.accepted_reads)
        wait_until(lambda: len(load.accepted_reads) > accepted_before, timeout=30, what="writes accepted after restart")
        load.stop()

        # What the start-up salvage did shows in health once it has finished.
        salvage = wait_until(lambda: httpx.get(f"{second.url}/healthz").json()["writes"].get("recording_salvage"),
                             timeout=60, what="the salvage report in /healthz")
        assert salvage["salvaged"] >= len(left_unindexed) and salvage["unreadable"] == 0
        wait_until(lambda: with_video <= indexed_names(database_url), timeout=60,
                   what=lambda: f"segments on disk at the kill to be indexed: {sorted(with_video - indexed_names(database_url))}")
        # And none of the files the kill left is still on disk unindexed (one with no video in it is removed).
        left_over = set(segment_files_on_disk(data_dir)) & set(on_disk_at_kill) - indexed_names(database_url)
        assert not left_over, f"segments on disk but not in the index: {sorted(left_over)}"
        assert load.accepted_reads <= stored_ids(database_url, "SELECT source_read_id FROM plate_reads"), "an accepted read is lost"
        assert load.accepted_calls <= stored_ids(database_url, "SELECT call_id FROM cad_calls"), "an accepted call is lost"
        assert set(load.refused) <= {503}, f"writes refused other than 'busy, resend': {set(load.refused)}"
        assert not list((data_dir / "media").glob("cam*/unreadable/*"))

        # Playback: the recording up to the kill is one span per camera, no gap where video exists.
        with httpx.Client(base_url=second.url, headers=load.headers, timeout=10) as client:
            camera_ids = sorted({int(path.split("/")[0][3:]) for path in stored_ids(database_url, "SELECT path FROM recording_segments")})
            assert len(camera_ids) == CAMERAS
            for camera_id in camera_ids:
                recorded = client.get(f"/api/v1/cameras/{camera_id}/recordings",
                                      params={"start": clock.iso(started), "end": clock.iso(killed_at)})
                assert recorded.status_code == 200, recorded.text
                assert len(recorded.json()["spans"]) == 1, f"camera {camera_id}: gaps before the kill: {recorded.json()}"
    finally:
        load.stop()
        first.stop(signal.SIGKILL)
        if second is not None:
            second.stop()
        engine = ENGINES.pop(database_url, None)
        if engine is not None:
            engine.dispose()
        for pid in recorders:  # orphans, if the recorders failed to end with their server: leave none running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def fragmented_mp4(path: Path, seconds: int) -> Path:
    """A segment as the recorder writes one: fragmented MP4, a keyframe a second."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10",
                             "-t", str(seconds), "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", "-movflags",
                             "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", str(path)], capture_output=True)
    assert result.returncode == 0, result.stderr[-300:]
    return path


def test_salvage_indexes_what_the_index_lacks_plays_a_truncated_one_and_sets_aside_what_cannot_play(
        runtime, signed_in_as):
    """What a crash leaves (a closed segment in incoming/, the one being written cut short, one placed but not
    indexed, a file of garbage) is indexed and playable, or set aside and reported; a second pass changes nothing."""
    from rtcc.video.models import RecordingSegment
    from rtcc.video.recording.salvage import SegmentIndexer
    from rtcc.video.pipeline.recording_supervisor import media_store

    admin, _ = signed_in_as("admin")
    camera_id = admin.post("/api/v1/cameras", json={"name": "Salvaged", "kind": "city_fixed", "latitude": 34.09,
                                                    "longitude": -118.36}).json()["id"]
    store = media_store(runtime)
    incoming = store.camera_dir(camera_id) / "incoming"
    closed = fragmented_mp4(incoming / "20261201T100000-abcdef_000000.mp4", 3)
    cut_short = fragmented_mp4(incoming / "20261201T100000-abcdef_000001.mp4", 3)
    cut_short.write_bytes(cut_short.read_bytes()[: cut_short.stat().st_size * 2 // 3])  # killed mid-fragment
    now = clock.utcnow()
    os.utime(closed, (now.timestamp() - 3, now.timestamp() - 3))  # it closed 3 s before the one after it
    day = store.camera_dir(camera_id) / now.strftime("%Y-%m-%d")
    placed = fragmented_mp4(day / f"{(now.replace(microsecond=0)).strftime('%H%M%S')}.000_20261201T090000-123456_000009.mp4", 2)
    (incoming / "20261201T100000-abcdef_000002.mp4").write_bytes(b"\0\0\4\0mdat" + b"not video" * 100)
    (incoming / "20261201T100000-abcdef_000003.mp4").write_bytes(b"")  # opened, never written: nothing to keep
    header_only = fragmented_mp4(incoming / "20261201T100000-abcdef_000004.mp4", 1)
    header_only.write_bytes(header_only.read_bytes()[:28])  # stopped as it opened: a file type box, no frame

    report = SegmentIndexer(runtime, store).salvage()
    assert len(report.salvaged) == 3 and report.failed == []
    assert report.unreadable == [f"cam{camera_id}/unreadable/20261201T100000-abcdef_000002.mp4"]
    assert not list(incoming.glob("*.mp4"))
    with runtime.database.read_session() as db:
        segments = db.execute(select(RecordingSegment.path, RecordingSegment.duration_s, RecordingSegment.sha256,
                                     RecordingSegment.started_at, RecordingSegment.ended_at)
                              .where(RecordingSegment.camera_id == camera_id)).all()
    assert {Path(segment.path).name.split("_", 1)[1] for segment in segments} == {
        closed.name, cut_short.name, placed.name.split("_", 1)[1]}
    assert all(segment.duration_s > 0 and len(segment.sha256) == 64 for segment in segments)
    truncated = next(segment for segment in segments if segment.path.endswith(cut_short.name))
    analyst, _ = signed_in_as("analyst")
    movie = analyst.get(f"/api/v1/cameras/{camera_id}/playback",
                        params={"start": clock.iso(truncated.started_at), "end": clock.iso(truncated.ended_at)})
    assert movie.status_code == 200 and len(movie.content) > 1000

    again = SegmentIndexer(runtime, store).salvage()
    assert (again.salvaged, again.unreadable, again.failed) == ([], [], [])
