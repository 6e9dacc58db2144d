"""ffmpeg input options per kind of camera source: the one table every ffmpeg child of a camera is built from.

The recorder, the sub-stream decoder and the live relay all open a camera through `input_arguments`, so a
timeout, a protocol whitelist or a new kind of source (a drone's SRT feed, a body-worn camera) is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rtcc.cameras.streams import rtsp_transport_of

RTSP_PROTOCOLS = "rtsp,rtsps,rtp,srtp,udp,tcp,tls,crypto"
HTTP_PROTOCOLS = "http,https,tcp,tls,crypto"


@dataclass(frozen=True)
class SourceKind:
    """How ffmpeg opens one kind of source."""

    name: str
    schemes: tuple[str, ...]
    # Each source may open only the protocols its scheme needs: a playlist or redirect inside a camera's
    # stream cannot make ffmpeg read a local file, nor a file camera reach the network.
    protocols: str
    timeout_option: str | None  # the option that bounds a silent read, in microseconds (None: a file never stalls)
    plays_as_live: bool = False  # a file plays at its own pace (-re), looping, so it behaves like a camera
    live_probe: bool = True  # a quick start for live view makes sense (a looping file starts at once anyway)
    rtsp: bool = False  # carries the camera's RTSP transport (TCP or UDP)


# One row per kind. A moving source (drone, body-worn camera) is one more row: its scheme (srt://, rtmp://),
# protocols and timeout option; its position travels beside the stream, not in these arguments.
SOURCE_KINDS = (
    SourceKind("rtsp", ("rtsp", "rtsps"), RTSP_PROTOCOLS, "-timeout", rtsp=True),
    SourceKind("file", ("file",), "file", None, plays_as_live=True, live_probe=False),
    # HTTP covers HLS playlists, MJPEG over HTTP and progressive MP4: everything ffmpeg reads over http(s).
    SourceKind("http", ("http", "https"), HTTP_PROTOCOLS, "-rw_timeout"),
)
# A scheme no row names is opened as HTTP is (ffmpeg will refuse what the whitelist does not allow).
FALLBACK_KIND = SOURCE_KINDS[-1]


def source_kind(url: str) -> SourceKind:
    """The row of SOURCE_KINDS for this URL's scheme."""
    scheme = urlsplit(url).scheme.lower()
    return next((kind for kind in SOURCE_KINDS if scheme in kind.schemes), FALLBACK_KIND)


def input_arguments(url: str, *, io_timeout_s: int, probe_seconds: float | None = None) -> list[str]:
    """ffmpeg options up to and including `-i` for a camera URL.

    With `probe_seconds` (live view), ffmpeg starts after that much analysis instead of its default 5 s, and
    hands packets on as they arrive (nobuffer): the first picture comes about 4 s sooner.
    """
    url, transport = rtsp_transport_of(url)
    kind = source_kind(url)
    arguments: list[str] = []
    if probe_seconds is not None and kind.live_probe:
        arguments += ["-analyzeduration", str(int(probe_seconds * 1_000_000)), "-fflags", "nobuffer"]
    if kind.plays_as_live:
        arguments += ["-re", "-stream_loop", "-1"]
    if kind.rtsp:
        arguments += ["-rtsp_transport", transport]
    if kind.timeout_option:
        arguments += [kind.timeout_option, str(io_timeout_s * 1_000_000)]
    arguments += ["-protocol_whitelist", kind.protocols]
    return [*arguments, "-i", urlsplit(url).path if kind.name == "file" else url]
