"""How the stream workers reach a camera: its ingest URL carries how RTSP media travels (TCP or UDP)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

# The ingest URL carries the camera's RTSP transport in its fragment. A fragment never leaves the
# client (RTSP sends no fragment), and every ffmpeg command line is built by `rtsp_transport_of`,
# which strips it; so the choice travels with the URL through recorder, live relay and health.
TRANSPORT_FRAGMENT = "rtcc-transport="


def with_transport(url: str, transport: str) -> str:
    """The ingest URL for a camera whose RTSP media should come over `transport` (tcp is the default)."""
    if transport == "tcp" or urlsplit(url).scheme.lower() not in ("rtsp", "rtsps"):
        return url
    return f"{url}#{TRANSPORT_FRAGMENT}{transport}"


def rtsp_transport_of(url: str) -> tuple[str, str]:
    """(URL for ffmpeg, 'tcp' or 'udp')."""
    parts = urlsplit(url)
    if parts.fragment.startswith(TRANSPORT_FRAGMENT):
        transport = parts.fragment[len(TRANSPORT_FRAGMENT):]
        return urlunsplit(parts._replace(fragment="")), transport if transport in ("tcp", "udp") else "tcp"
    return url, "tcp"
