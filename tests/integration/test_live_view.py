"""Live view with real ffmpeg: fMP4 parsing, one shared upstream, keyframe starts, slow viewers, idle stop, failures."""

import asyncio
import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient

from support import wait_until_async

from rtcc.video.fmp4 import Fmp4Parser, InitSegment, MediaFragment
from rtcc.video.live.registry import LiveRelayRegistry, LiveSettings, live_command, serve_live_viewer

GOP_FRAMES = 10  # at 25 fps: a keyframe every 0.4 s
H264_PROFILE_IDC = {"Baseline": 66, "Constrained Baseline": 66, "Main": 77, "High": 100}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 6 s H.264 Main@3.1 test pattern with a keyframe every 10 frames, made by Debian's ffmpeg."""
    path = tmp_path_factory.mktemp("live") / "camera.mp4"
    try:
        result = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "6",
             "-c:v", "libx264", "-profile:v", "main", "-level", "3.1", "-g", str(GOP_FRAMES), "-pix_fmt", "yuv420p",
             str(path)], capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        pytest.fail("ffmpeg is not installed: live view needs Debian's ffmpeg (run scripts/media-deps.sh)")
    if result.returncode != 0:
        pytest.fail(f"ffmpeg could not make the test clip: {result.stderr[-300:]}")
    return path


def remuxed(clip: Path) -> bytes:
    """The relay's ffmpeg command, run on a file as fast as it can go."""
    command = live_command(ffmpeg="ffmpeg", url=f"file://{clip}", fragment_ms=100, io_timeout_s=5)
    command.remove("-re")  # as fast as possible; the loop flags stay out too
    command[command.index("-stream_loop"):command.index("-stream_loop") + 2] = []
    return subprocess.run(command, capture_output=True, check=True, timeout=60).stdout


def upstream_processes(clip: Path) -> int:
    """How many ffmpeg processes read this clip."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command_line and command_line[0].endswith(b"ffmpeg") and str(clip).encode() in command_line:
            count += 1
    return count


async def next_fragment(viewer, timeout: float = 5.0) -> MediaFragment:
    """The viewer's next fragment, skipping init and status items."""
    while True:
        kind, value = await asyncio.wait_for(viewer.next(), timeout)
        if kind == "fragment":
            return value


def test_parser_splits_a_real_stream_into_init_and_keyframe_fragments(clip):
    stream = remuxed(clip)
    parser = Fmp4Parser()
    segments, position = [], 0
    while position < len(stream):  # arbitrary chunk boundaries, as a pipe delivers them
        size = random.randint(1, 4096)
        segments += parser.feed(stream[position:position + size])
        position += size

    assert isinstance(segments[0], InitSegment)
    fragments = segments[1:]
    assert fragments and all(isinstance(fragment, MediaFragment) for fragment in fragments)
    assert fragments[0].keyframe
    assert sum(fragment.keyframe for fragment in fragments) == 150 // GOP_FRAMES  # 6 s x 25 fps
    assert sum(len(fragment.sample_sizes) for fragment in fragments) == 150
    # Every byte but ffmpeg's closing index (mfra) is in a segment, in order.
    assert stream.startswith(b"".join(segment.data for segment in segments))


def test_codec_string_matches_ffprobe(clip):
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                       "stream=profile,level", "-of", "json", str(clip)],
                                      capture_output=True, text=True, check=True).stdout)["streams"][0]
    init = Fmp4Parser().feed(remuxed(clip))[0]
    assert init.codec[:5] == "avc1."
    assert int(init.codec[5:7], 16) == H264_PROFILE_IDC[probe["profile"]]
    assert int(init.codec[9:11], 16) == probe["level"]
    assert init.mime == f'video/mp4; codecs="{init.codec}"'


def test_two_viewers_share_one_upstream_and_a_late_joiner_starts_at_a_keyframe(clip):
    async def scenario():
        registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=5))
        relay = registry.get_or_start(1, f"file://{clip}")
        first = relay.add_viewer()
        fragment = await next_fragment(first)
        assert fragment.keyframe
        # Join mid-GOP, never on a keyframe: the first viewer has everything the relay sent (nothing queued), and the
        # newest fragment is not a keyframe. No await between here and add_viewer, so the relay cannot move on.
        gop_start = fragment.sequence
        while fragment.keyframe or first.pending_fragments():
            fragment = await next_fragment(first)
            gop_start = fragment.sequence if fragment.keyframe else gop_start
        mid_gop = fragment.sequence
        assert registry.get_or_start(1, f"file://{clip}") is relay
        late = relay.add_viewer()
        assert late.take_nowait()[0] == "init"
        # It starts at once, at the keyframe that began this GOP, and catches up with the rest of the GOP.
        started = late.take_nowait()
        assert started is not None and started[0] == "fragment", "a late joiner must not wait for the next keyframe"
        assert started[1].keyframe and started[1].sequence == gop_start < mid_gop
        caught_up = [started[1].sequence] + [(await next_fragment(late)).sequence for _ in range(mid_gop - gop_start)]
        assert caught_up == list(range(gop_start, mid_gop + 1))
        await next_fragment(first)
        assert upstream_processes(clip) == 1
        assert relay.stats()["viewers"] == 2 and relay.stats()["upstream_starts"] == 1
        await registry.stop_all()
        assert upstream_processes(clip) == 0

    asyncio.run(scenario())


def test_a_slow_viewer_skips_to_the_next_keyframe_while_a_fast_one_gets_everything(clip):
    async def scenario():
        registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=5))
        relay = registry.get_or_start(1, f"file://{clip}")
        slow = relay.add_viewer(capacity=4)
        fast = relay.add_viewer()
        received: list[MediaFragment] = []

        async def read_fast():
            while True:
                received.append(await next_fragment(fast))

        reader = asyncio.create_task(read_fast())
        await wait_until_async(lambda: slow.drops and slow.pending_fragments(), timeout=10, poll=0.05,
                               what="the slow viewer's queue to overflow and the loss to be counted")
        assert slow.pending_fragments() <= 4
        assert (await next_fragment(slow)).keyframe, "after a drop the slow viewer must resume at a keyframe"
        reader.cancel()
        assert fast.drops == 0
        sequences = [fragment.sequence for fragment in received]
        assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
        assert relay.stats()["drops"] == slow.drops
        await registry.stop_all()

    asyncio.run(scenario())


def test_the_relay_stops_after_the_idle_timeout(clip):
    async def scenario():
        registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=1))
        relay = registry.get_or_start(1, f"file://{clip}")
        viewer = relay.add_viewer()
        await next_fragment(viewer)
        await asyncio.sleep(1.5)  # about time: longer than the idle timeout, with a viewer watching
        assert relay.state == "live", "a watched relay must not stop"
        relay.remove_viewer(viewer)
        await wait_until_async(lambda: not registry.relays, timeout=5, what="the unwatched relay to stop")
        assert relay.state == "stopped"
        assert upstream_processes(clip) == 0

    asyncio.run(scenario())


def test_a_codec_browsers_cannot_play_falls_back_to_one_still_a_second(clip):
    mpeg4 = clip.with_name("mpeg4.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(clip), "-c:v", "mpeg4", str(mpeg4)],
                   check=True, timeout=60)

    async def scenario():
        registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=5))
        relay = registry.get_or_start(1, f"file://{mpeg4}")
        viewer = relay.add_viewer()
        states = []
        while True:
            kind, value = await asyncio.wait_for(viewer.next(), 10)
            if kind == "snapshot":
                break
            assert kind == "status", "an MPEG-4 Part 2 stream must never reach a viewer as fMP4"
            states.append(value["state"])
        assert value.startswith(b"\xff\xd8") and value.endswith(b"\xff\xd9")
        assert "unsupported" in states and relay.stats()["codec"] is None
        assert "mp4v" in relay.detail
        await registry.stop_all()

    asyncio.run(scenario())


def live_app(registry: LiveRelayRegistry, urls: dict[int, str]) -> Starlette:
    """The endpoint as the API mounts it, minus authentication."""
    async def live(websocket):
        await websocket.accept()
        camera_id = int(websocket.path_params["camera_id"])
        await serve_live_viewer(websocket, registry.get_or_start(camera_id, urls[camera_id]))

    return Starlette(routes=[WebSocketRoute("/cameras/{camera_id}/live", live)])


def test_a_websocket_viewer_gets_codec_init_then_a_keyframe(clip):
    registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=1))
    with TestClient(live_app(registry, {1: f"file://{clip}"})) as client:
        with client.websocket_connect("/cameras/1/live") as socket:
            message = socket.receive_json()
            while message["type"] == "status":
                message = socket.receive_json()
            assert message["type"] == "init" and message["codec"].startswith("avc1.")
            assert message["mime"] == f'video/mp4; codecs="{message["codec"]}"'
            parser = Fmp4Parser()
            assert isinstance(parser.feed(socket.receive_bytes())[0], InitSegment)
            fragments = [parser.feed(socket.receive_bytes())[0] for _ in range(5)]
            assert fragments[0].keyframe
        client.portal.call(registry.stop_all)


def test_an_unreachable_camera_gives_the_viewer_a_status_not_a_crash():
    registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=1, io_timeout_seconds=2))
    with TestClient(live_app(registry, {7: "rtsp://127.0.0.1:9/nothing-here"})) as client:
        with client.websocket_connect("/cameras/7/live") as socket:
            states = []
            while "offline" not in states:
                message = socket.receive_json()
                assert message["type"] == "status"
                states.append(message["state"])
                if message["state"] == "offline":
                    assert "connection refused" in message["detail"]
            assert registry.stats()[7]["upstream_starts"] >= 1
        client.portal.call(registry.stop_all)


def test_the_live_endpoint_is_authorised_audited_and_streams_fmp4(runtime, signed_in_as, tmp_path):
    """Through the app: /api/v1/cameras/{id}/live for a permitted role; refused for others."""
    from starlette.websockets import WebSocketDisconnect

    clip = tmp_path / "live.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15", "-t", "6",
                    "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p", str(clip)], check=True)
    admin, _ = signed_in_as("admin")
    camera = admin.post("/api/v1/cameras", json={"name": "live", "kind": "city_fixed", "latitude": 1, "longitude": 1,
                                                 "main_stream_url": f"file://{clip}"}).json()
    operator, person = signed_in_as("operator")
    with operator:  # runs the app's lifespan: the live relay registry lives there
        with operator.websocket_connect(f"/api/v1/cameras/{camera['id']}/live") as feed:
            hello = feed.receive_json()
            while hello["type"] == "status":  # "connecting" comes first while the upstream starts
                hello = feed.receive_json()
            assert hello["type"] == "init" and hello["codec"].startswith("avc1.")
            init = feed.receive_bytes()
            assert init[4:8] == b"ftyp"
            fragment = feed.receive_bytes()
            assert fragment[4:8] in (b"moof", b"styp")
    auditor, _ = signed_in_as("auditor")
    with auditor:
        with pytest.raises(WebSocketDisconnect) as refused:
            with auditor.websocket_connect(f"/api/v1/cameras/{camera['id']}/live") as feed:
                feed.receive_json()
    assert refused.value.code == 4403
    from rtcc.audit import service as audit

    with runtime.database.session() as db:
        viewed = audit.search(db, query=audit.AuditQuery(action="video.live"))
    assert [(r.username, r.object_id) for r in viewed] == [(person.username, str(camera["id"]))]
