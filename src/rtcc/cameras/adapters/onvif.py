"""ONVIF Profile S discovery: ask a device for its media profiles and their RTSP stream URIs.

Built on onvif-zeep-async, with the WSDLs that ship inside that package: nothing is fetched
from the network but the device's own answers. Every failure becomes one of the three errors
below, whose messages name the device but never the credentials; a closed port, a silent one and
one where something else answers read the same, so discovery does not map a host's open ports.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rtcc.core.errors import RTCCError

log = logging.getLogger(__name__)

# The device-side error subcode (ONVIF Core, "ter:NotAuthorized") for refused credentials.
NOT_AUTHORIZED = "NotAuthorized"
UNICAST_RTSP_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
AddressCheck = Callable[[str, int], Awaitable[None]]


class DeviceUnreachable(RTCCError):
    """No ONVIF device answered: refused, closed, timed out, or something that is not ONVIF answered.

    One message for all of them, so discovery cannot be used to learn which ports of a host are open.
    """

    code = "device_unreachable"
    status_code = 502

    def __init__(self, where: str):
        super().__init__(f"No ONVIF device answered at {where}. Check the address and the device's ONVIF port.")


class DeviceAuthFailed(RTCCError):
    """The device refused the username or password."""

    code = "device_auth_failed"
    status_code = 502


class DeviceProtocolError(RTCCError):
    """An ONVIF device answered in SOAP, but is not a usable Profile S media device."""

    code = "device_protocol_error"
    status_code = 502


@dataclass(frozen=True)
class OnvifStream:
    """One media profile of a device and the RTSP URI that streams it."""

    profile_token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    uri: str

    @property
    def pixels(self) -> int:
        """Width x height, 0 when the profile has no video encoder."""
        return (self.width or 0) * (self.height or 0)


async def discover_streams(host: str, port: int, username: str | None, password: str | None, *,
                           timeout_s: float = 10, address_check: AddressCheck | None = None) -> list[OnvifStream]:
    """The device's media profiles with their RTSP URIs, in the device's order; raises a Device* error.

    `address_check(host, port)` raises for an address the server must not open: the device names the
    addresses of its services itself, and those are checked before they are called.
    """
    where = f"{host}:{port}"
    camera = None
    try:
        async with asyncio.timeout(timeout_s):
            # No credentials: an empty token, which a device that allows anonymous access ignores;
            # the library cannot build a token from None.
            camera = _new_camera(host, port, username or "", password or "")
            await camera.update_xaddrs()
            if address_check is not None:
                await _check_service_addresses(camera, where, address_check)
            media = await camera.create_media_service()
            profiles = await media.GetProfiles()
            streams = []
            for profile in profiles or []:
                answer = await media.GetStreamUri({"StreamSetup": UNICAST_RTSP_SETUP, "ProfileToken": profile.token})
                streams.append(_stream_of(profile, answer.Uri))
            return streams
    except RTCCError:
        raise
    except Exception as error:
        translated = translate_error(error, where)
        if translated is None:
            # The library met an answer it did not expect (an empty SOAP body, a missing element): no device
            # that can be used answered. The type goes to the log; the request details stay out of it.
            log.warning("ONVIF discovery at %s: unexpected %s from the client library", where, type(error).__name__)
            translated = DeviceUnreachable(where)
        raise translated from None  # the library's chain can quote request details; keep it out of responses
    finally:
        if camera is not None:
            await camera.close()


async def _check_service_addresses(camera: Any, where: str, address_check: AddressCheck) -> None:
    for xaddr in dict(getattr(camera, "xaddrs", None) or {}).values():
        parts = urlsplit(str(xaddr))
        try:
            await address_check(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except RTCCError as refused:
            raise DeviceProtocolError(f"The device at {where} names a service address the server does not open: "
                                      f"{_short(refused.message)}") from None


def pick_main_and_sub(streams: list[OnvifStream]) -> tuple[str | None, str | None]:
    """(main URI, sub URI): the highest resolution records, the lowest feeds analytics; one stream is both."""
    video = [stream for stream in streams if stream.pixels] or list(streams)
    if not video:
        return None, None
    main = max(video, key=lambda stream: stream.pixels)
    sub = min(video, key=lambda stream: stream.pixels)
    return main.uri, sub.uri


def translate_error(error: BaseException, where: str) -> RTCCError | None:
    """The specific error a failure of the ONVIF client means, or None for one the client did not expect."""
    import aiohttp
    import zeep.exceptions
    from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError

    if isinstance(error, ONVIFAuthError) or _is_not_authorized(error):
        return DeviceAuthFailed(f"The device at {where} refused the username or password.")
    if isinstance(error, zeep.exceptions.Fault) and (error.code is not None or error.subcodes):
        return DeviceProtocolError(f"The device at {where} answered with a SOAP fault: {_short(error.message)}")
    if isinstance(error, TimeoutError | ONVIFTimeoutError | zeep.exceptions.Error | aiohttp.ClientError | OSError):
        # Refused, closed, silent, an HTML page or garbage: to the caller these are all "nothing usable there".
        return DeviceUnreachable(where)
    if isinstance(error, ONVIFError):
        # The library wraps what it raised itself: unwrap once, else it is the device lacking a service.
        cause = error.__cause__
        if cause is not None and not isinstance(cause, ONVIFError):
            return translate_error(cause, where)
        return DeviceProtocolError(f"The device at {where} is not a usable ONVIF media device: {_short(error)}")
    return None


def _is_not_authorized(error: BaseException) -> bool:
    import zeep.exceptions

    if isinstance(error, zeep.exceptions.TransportError):
        return error.status_code in (401, 403)
    if not isinstance(error, zeep.exceptions.Fault):
        return False
    codes = [str(error.code or "")] + [getattr(subcode, "localname", str(subcode)) for subcode in error.subcodes or []]
    # Devices differ: the subcode ter:NotAuthorized is standard, some only say so in the reason text.
    message = str(error.message or "").lower()
    return any(code.endswith(NOT_AUTHORIZED) for code in codes) or "not authorized" in message \
        or "unauthorized" in message


def _stream_of(profile: Any, uri: str) -> OnvifStream:
    encoder = getattr(profile, "VideoEncoderConfiguration", None)
    resolution = getattr(encoder, "Resolution", None)
    return OnvifStream(profile_token=str(profile.token), name=str(profile.Name or profile.token),
                       encoding=str(encoder.Encoding) if encoder is not None and encoder.Encoding else None,
                       width=int(resolution.Width) if resolution is not None else None,
                       height=int(resolution.Height) if resolution is not None else None, uri=str(uri))


def _new_camera(host: str, port: int, username: str | None, password: str | None):
    """An ONVIFCamera on the package's own WSDLs, without the library's side effects on this process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import onvif
    from onvif import ONVIFCamera

    # Importing onvif calls logging.basicConfig(); our logs stay as core.logging set them.
    root.handlers[:], root.level = handlers, level
    proxies = {name: os.environ[name] for name in ("http_proxy", "https_proxy") if name in os.environ}
    try:
        # no_cache: the cache only speeds up fetching remote WSDLs, which never happens here,
        # and would write an SQLite file into the home directory.
        return ONVIFCamera(host, port, username, password, wsdl_dir=str(Path(onvif.__file__).parent / "wsdl"),
                           no_cache=True)
    finally:
        os.environ.update(proxies)  # the constructor deletes them from the whole process's environment


def _short(value: object, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
