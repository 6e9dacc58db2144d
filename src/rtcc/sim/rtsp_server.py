"""The simulated cameras' RTSP server: GStreamer's gst-rtsp-server, run under Debian's python3.

Standalone on purpose: it imports only gi and the standard library, because the project's
venv cannot import Debian's `gi` and Debian's python3 cannot import the project. The venv
side (`rtcc.sim.cameras`) draws the scene images and writes a JSON spec; this script
composites and encodes them (live mode) or streams pre-encoded clips by copy (loop mode).

    python3 rtsp_server.py check
    python3 rtsp_server.py render SPEC.json   # encode the loop clips the spec lists
    python3 rtsp_server.py serve SPEC.json    # prints "READY <port>", then obeys stdin

With "credentials": {"username": ..., "password": ...} in the spec, every mount asks for
them (RTSP Digest) and answers 401 without them.

Commands on stdin while serving: "stop N", "start N" (camera N, 1-based), "quit".
End of stdin also quits, so the server never outlives the process that started it.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from datetime import UTC, datetime

EXIT_MISSING, EXIT_CANNOT_LISTEN, EXIT_BAD_SPEC = 3, 4, 5
VIEWER_ROLE = "viewer"  # the one role a credentialled server grants, with access to every mount
# SPS/PPS before every keyframe, so a client can start at any keyframe.
PAYLOADER = "rtph264pay name=pay0 pt=96 config-interval=-1 aggregate-mode=zero-latency"

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
except (ImportError, ValueError) as error:  # ValueError: a typelib (gir1.2-*) is not installed
    print(f"MISSING Python GObject bindings for GStreamer's RTSP server: {error} "
          "(python3-gi, gir1.2-gst-rtsp-server-1.0)", file=sys.stderr, flush=True)
    sys.exit(EXIT_MISSING)

REQUIRED_ELEMENTS = {
    "compositor": "gstreamer1.0-plugins-base", "imagefreeze": "gstreamer1.0-plugins-good",
    "pngdec": "gstreamer1.0-plugins-good", "textoverlay": "gstreamer1.0-x",
    "x264enc": "gstreamer1.0-plugins-ugly", "h264parse": "gstreamer1.0-plugins-bad",
    "rtph264pay": "gstreamer1.0-plugins-good", "multifilesrc": "gstreamer1.0-plugins-good",
    "videoconvert": "gstreamer1.0-plugins-base", "filesink": "gstreamer1.0 (core)",
}


def say(*words) -> None:
    """One line to the parent on stdout."""
    print(*words, flush=True)


def missing_elements() -> list[str]:
    """GStreamer elements this server needs that are not installed, with their Debian package."""
    return [f"{name} ({package})" for name, package in REQUIRED_ELEMENTS.items()
            if Gst.ElementFactory.find(name) is None]


def scene_launch(variant: dict, *, live: bool, frames: int = -1) -> str:
    """A pipeline fragment ending in a compositor named `scene`: background plus vehicle sprites."""
    fps = variant["fps"]
    # Convert each still to I420 once, before imagefreeze, so the compositor only copies pixels.
    freeze = f"imagefreeze is-live={str(live).lower()} num-buffers={frames} ! video/x-raw,framerate={fps}/1"
    branches = [(f'filesrc location="{variant["background"]}" ! pngdec ! videoconvert ! video/x-raw,format=I420 '
                 f"! {freeze} ! scene.sink_0")]
    for number, vehicle in enumerate(variant["vehicles"], start=1):
        branches.append(f'filesrc location="{vehicle["sprite"]}" ! pngdec ! videoconvert ! video/x-raw,format=I420 '
                        f"! {freeze} ! scene.sink_{number}")
    size = f'width={variant["width"]},height={variant["height"]},framerate={fps}/1'
    head = (f"compositor name=scene background=black emit-signals=true ! video/x-raw,format=I420,{size} "
            f'! textoverlay name=clock font-desc="{variant["clock_font"]}" valignment=top halignment=left '
            "xpad=10 ypad=8 shaded-background=true text=' '")
    return " ".join([head, "!", "{encoder}", *branches])


def vehicle_x(vehicle: dict, frame_width: int, t: float) -> int:
    """Where a vehicle's left edge is at time t: it crosses the frame once per period."""
    travel = frame_width + vehicle["width"]
    progress = (t / vehicle["period_s"] + vehicle["phase"]) % 1.0
    x = -vehicle["width"] + progress * travel
    if vehicle["direction"] < 0:
        x = frame_width - vehicle["width"] - x
    return int(x) & ~1  # even, so I420 chroma lines up


class SceneMover:
    """Moves the sprites and writes the clock before the compositor draws each frame."""

    def __init__(self, pipeline: Gst.Bin, variant: dict, *, live: bool) -> None:
        self.variant = variant
        self.live = live
        compositor = pipeline.get_by_name("scene")
        self.clock = pipeline.get_by_name("clock")
        self.text = ""
        self.pads = []
        for pad in compositor.sinkpads:
            number = int(pad.get_name().split("_")[1])
            pad.set_property("zorder", number)
            if number:
                vehicle = variant["vehicles"][number - 1]
                pad.set_property("ypos", vehicle["top"])
                self.pads.append((pad, vehicle))
        self.move(0.0)
        compositor.connect("samples-selected", self.on_samples_selected)
        if live:
            # A live compositor outputs on its deadline even before the stills are decoded; a
            # client's first keyframe would be black. Hold output until every input has arrived.
            self.waiting = set(compositor.sinkpads)
            for pad in compositor.sinkpads:
                pad.add_probe(Gst.PadProbeType.BUFFER, self.on_first_input)
            compositor.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.hold_until_inputs)

    def on_first_input(self, pad, _info) -> Gst.PadProbeReturn:
        self.waiting.discard(pad)
        return Gst.PadProbeReturn.REMOVE

    def hold_until_inputs(self, _pad, _info) -> Gst.PadProbeReturn:
        return Gst.PadProbeReturn.DROP if self.waiting else Gst.PadProbeReturn.REMOVE

    def on_samples_selected(self, _compositor, _segment, pts, _dts, _duration, _info) -> None:
        # Live: traffic is a function of the wall clock, so main and sub-stream agree and a
        # live camera shows the same scene as its loop clip at the same offset.
        self.move(time.time() if self.live else pts / Gst.SECOND)

    def move(self, t: float) -> None:
        for pad, vehicle in self.pads:
            pad.set_property("xpos", vehicle_x(vehicle, self.variant["width"], t))
        if self.live:
            # Read by the latency benchmark: the wall-clock moment this frame was composed.
            now = datetime.fromtimestamp(t, UTC)
            text = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d} UTC"
        else:
            # A pre-encoded clip cannot carry the live time; whole seconds keep textoverlay
            # from laying the text out again on every frame (a third of the render time).
            text = f"LOOP CLIP +{int(t):02d} s (not live time)"
        if text != self.text:
            self.text = text
            self.clock.set_property("text", text)


def live_encoder(variant: dict) -> str:
    """Real-time H.264 for RTSP: no B-frames, no lookahead, a keyframe every second."""
    fps = variant["fps"]
    bitrate = 2500 if variant["width"] >= 1280 else 600
    # threads=1: one slice per frame. With sliced threads ffmpeg's RTSP reader splits each
    # keyframe into two packets with the same DTS, which stream-copy recorders reject.
    return (f"x264enc tune=zerolatency speed-preset=ultrafast threads=1 key-int-max={fps} bitrate={bitrate} "
            f"! video/x-h264,profile=constrained-baseline ! {PAYLOADER}")


def loop_launch(variant: dict) -> str:
    """Stream copy of a pre-encoded Annex B clip, read again and again.

    With no container timestamps, h264parse counts frames at the caps' frame rate, so DTS
    keeps rising across the wrap instead of jumping back to zero; `copy_dts_to_pts` makes
    PTS (and so the RTP timestamps) follow it.
    """
    caps = f'video/x-h264,stream-format=byte-stream,framerate={variant["fps"]}/1'
    return (f'multifilesrc location="{variant["clip"]}" loop=true caps="{caps}" ! h264parse name=parse '
            f"! {PAYLOADER}")


def copy_dts_to_pts(_pad, info) -> Gst.PadProbeReturn:
    """h264parse leaves PTS unset on a bare stream; the clips have no B-frames, so PTS = DTS."""
    buffer = info.get_buffer()
    if buffer is not None and buffer.pts == Gst.CLOCK_TIME_NONE:
        buffer.pts = buffer.dts
    return Gst.PadProbeReturn.OK


class CameraFactory(GstRtspServer.RTSPMediaFactory):
    """One mount: a shared pipeline (one encoder for all clients), made when the first client asks."""

    def __init__(self, variant: dict, mode: str) -> None:
        super().__init__()
        self.variant = variant
        self.mode = mode
        self.medias: list[GstRtspServer.RTSPMedia] = []
        if mode == "live":
            self.set_launch("( " + scene_launch(variant, live=True).replace("{encoder}", live_encoder(variant)) + " )")
        else:
            self.set_launch("( " + loop_launch(variant) + " )")
        self.set_shared(True)
        self.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
        # Only honoured when the server has an RTSPAuth; then a client holding the viewer role's
        # token (given for the right credentials) may open and play the mount.
        self.add_role_from_structure(Gst.Structure.from_string(
            f"{VIEWER_ROLE}, {GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS}=(boolean)true, "
            f"{GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT}=(boolean)true")[0])
        self.connect("media-configure", self.on_media_configure)

    def on_media_configure(self, _factory, media: GstRtspServer.RTSPMedia) -> None:
        if self.mode == "live":
            media.scene_mover = SceneMover(media.get_element(), self.variant, live=True)
        else:
            parser = media.get_element().get_by_name("parse")
            parser.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, copy_dts_to_pts)
        self.medias.append(media)
        media.connect("unprepared", lambda m: self.medias.remove(m) if m in self.medias else None)


def viewer_auth(username: str, password: str) -> GstRtspServer.RTSPAuth:
    """RTSP Digest for one account, whose token carries the role every mount admits.

    Digest, because it is what IP cameras ask for out of the box. (Offering Basic as well would
    need the methods as a bit mask, which PyGObject refuses for this enum.)
    """
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, VIEWER_ROLE)
    auth = GstRtspServer.RTSPAuth()
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    auth.add_digest(username, password, token)
    return auth


class SimulatedCameraServer:
    """The RTSP server with two mounts per camera, /camN and /camN/sub."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.cameras = {camera["index"]: camera for camera in spec["cameras"]}
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address(spec["host"])
        self.server.set_service(str(spec["port"]))
        self.mounts = self.server.get_mount_points()
        self.factories: dict[str, CameraFactory] = {}
        self.client_paths: dict[GstRtspServer.RTSPClient, set[str]] = {}
        self.server.connect("client-connected", self.on_client_connected)
        if spec.get("credentials"):
            self.server.set_auth(viewer_auth(spec["credentials"]["username"], spec["credentials"]["password"]))
        for index in self.cameras:
            self.start_camera(index)

    @staticmethod
    def mount_paths(index: int) -> dict[str, str]:
        return {"main": f"/cam{index}", "sub": f"/cam{index}/sub"}

    def start_camera(self, index: int) -> None:
        camera = self.cameras[index]
        for variant_name, path in self.mount_paths(index).items():
            if path not in self.factories:
                factory = CameraFactory(camera[variant_name], self.spec["mode"])
                self.factories[path] = factory
                self.mounts.add_factory(path, factory)

    def stop_camera(self, index: int) -> None:
        """As if the camera lost power: unmount it, end its streams and drop its clients."""
        paths = self.mount_paths(index).values()
        for path in paths:
            factory = self.factories.pop(path, None)
            self.mounts.remove_factory(path)
            for media in list(factory.medias if factory else []):
                media.unprepare()
        prefix = f"/cam{index}"
        for client, seen in list(self.client_paths.items()):
            if any(p == prefix or p.startswith(prefix + "/") for p in seen):
                client.close()

    def on_client_connected(self, _server, client: GstRtspServer.RTSPClient) -> None:
        self.client_paths[client] = set()
        for request in ("describe-request", "setup-request", "play-request"):
            client.connect(request, self.on_request)
        client.connect("closed", lambda c: self.client_paths.pop(c, None))

    def on_request(self, client, context) -> None:
        if context.uri is not None and client in self.client_paths:
            self.client_paths[client].add(context.uri.abspath)

    def attach(self) -> int:
        """Start listening; the port actually bound (the spec may ask for 0)."""
        if self.server.attach(None) == 0:
            return 0
        return self.server.get_bound_port()


def serve(spec: dict) -> int:
    loop = GLib.MainLoop()
    server = SimulatedCameraServer(spec)
    port = server.attach()
    if not port:
        print(f"ERROR cannot listen on {spec['host']}:{spec['port']} (in use?)", file=sys.stderr, flush=True)
        return EXIT_CANNOT_LISTEN

    def on_stdin(channel, condition) -> bool:
        line = channel.readline() if condition & GLib.IO_IN else ""
        if not line:  # the parent went away
            loop.quit()
            return False
        words = line.split()
        if words[:1] == ["quit"]:
            loop.quit()
            return False
        if len(words) == 2 and words[0] in ("stop", "start") and words[1].isdigit() and int(words[1]) in server.cameras:
            getattr(server, f"{words[0]}_camera")(int(words[1]))
            say("OK", *words)
        else:
            say("ERROR unknown command:", line.strip())
        return True

    stdin = GLib.IOChannel.unix_new(sys.stdin.fileno())
    GLib.io_add_watch(stdin, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, loop.quit)
    say("READY", port)
    loop.run()
    return 0


def render(spec: dict) -> int:
    """Encode each clip in the spec: the scene for exactly `seconds`, H.264 Annex B, keyframe each second."""
    for job in spec["clips"]:
        variant, fps = job["variant"], job["variant"]["fps"]
        frames = round(job["seconds"] * fps)
        bitrate = 2500 if variant["width"] >= 1280 else 600
        encoder = (f"x264enc speed-preset=superfast key-int-max={fps} bframes=0 bitrate={bitrate} "
                   f'! video/x-h264,profile=constrained-baseline,stream-format=byte-stream ! filesink location="{job["output"]}"')
        pipeline = Gst.parse_launch(scene_launch(variant, live=False, frames=frames).replace("{encoder}", encoder))
        mover = SceneMover(pipeline, variant, live=False)  # noqa: F841 (kept alive while the pipeline runs)
        pipeline.set_state(Gst.State.PLAYING)
        message = pipeline.get_bus().timed_pop_filtered(600 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        pipeline.set_state(Gst.State.NULL)
        if message is None or message.type == Gst.MessageType.ERROR:
            detail = message.parse_error()[0].message if message else "timed out"
            print(f"ERROR rendering {job['output']}: {detail}", file=sys.stderr, flush=True)
            return EXIT_BAD_SPEC
        say("RENDERED", job["output"])
    return 0


def main(argv: list[str]) -> int:
    Gst.init(None)
    missing = missing_elements()
    if missing:
        print("MISSING GStreamer elements: " + ", ".join(missing), file=sys.stderr, flush=True)
        return EXIT_MISSING
    if argv[:1] == ["check"]:
        say("OK", Gst.version_string())
        return 0
    if len(argv) != 2 or argv[0] not in ("serve", "render"):
        print(__doc__, file=sys.stderr)
        return EXIT_BAD_SPEC
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    return serve(spec) if argv[0] == "serve" else render(spec)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
