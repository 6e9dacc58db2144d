"""A simulated ONVIF Profile S device: the SOAP a client needs to find a camera's stream URIs.

It answers, over real HTTP on 127.0.0.1, what an ONVIF client asks while discovering streams:
GetSystemDateAndTime, GetServices and GetCapabilities on /onvif/device_service, and
GetProfiles and GetStreamUri on /onvif/media_service. The answers are SOAP 1.2 and valid
against the ONVIF schemas. As the ONVIF Core spec says, the three device-service calls are
pre-authentication; the media calls need a WS-Security UsernameToken, and a wrong one gets
the `ter:NotAuthorized` fault with HTTP 400, as real devices answer.

    with SimulatedOnvifDevice(cameras.urls[0], cameras.sub_urls[0], "admin", "secret") as device:
        streams = await discover_streams("127.0.0.1", device.port, "admin", "secret")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self
from xml.sax.saxutils import escape

import uvicorn
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
NAMESPACES = (f'xmlns:env="{SOAP_ENV}" xmlns:tds="{DEVICE_NS}" xmlns:trt="{MEDIA_NS}" '
              'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error"')
SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
# Real devices refuse a token created too far from their own clock (replayed or skewed);
# this is why ONVIF clients offer to adjust for the device's time.
CLOCK_TOLERANCE_S = 300
PRE_AUTH_OPERATIONS = {"GetSystemDateAndTime", "GetServices", "GetCapabilities"}


@dataclass(frozen=True)
class SimulatedProfile:
    """One media profile: an H.264 encoder at a resolution, streamed at `uri`."""

    token: str
    name: str
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    uri: str


class SoapFault(Exception):
    """A SOAP 1.2 fault to send back: env code, ONVIF subcode, reason and HTTP status."""

    def __init__(self, code: str, subcode: str, reason: str, http_status: int) -> None:
        super().__init__(reason)
        self.code, self.subcode, self.reason, self.http_status = code, subcode, reason, http_status


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken PasswordDigest: Base64(SHA-1(nonce + created + password))."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def check_username_token(envelope: etree._Element, username: str, password: str) -> None:
    """Raise the NotAuthorized fault unless the envelope carries a fresh, correct UsernameToken."""
    token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        raise not_authorized("no WS-Security UsernameToken")
    given_user = token.findtext(f"{{{WSSE}}}Username") or ""
    password_element = token.find(f"{{{WSSE}}}Password")
    given = (password_element.text or "") if password_element is not None else ""
    if password_element is not None and password_element.get("Type", "").endswith("#PasswordText"):
        expected = password
    else:
        created = token.findtext(f"{{{WSU}}}Created") or ""
        try:
            nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "", validate=True)
            age_s = (datetime.now(UTC) - datetime.fromisoformat(created)).total_seconds()
        except ValueError:
            raise not_authorized("malformed nonce or created time") from None
        if abs(age_s) > CLOCK_TOLERANCE_S:
            raise not_authorized("token created too far from the device's clock")
        expected = password_digest(nonce, created, password)
    # Both compared in constant time, so a wrong user and a wrong password look the same.
    user_ok = hmac.compare_digest(given_user.encode(), username.encode())
    if not (hmac.compare_digest(given.encode(), expected.encode()) and user_ok):
        raise not_authorized("wrong username or password")


def not_authorized(why: str) -> SoapFault:
    return SoapFault("env:Sender", "ter:NotAuthorized", f"Sender not authorized ({why})", 400)


def envelope(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope {NAMESPACES}><env:Body>{body}</env:Body></env:Envelope>'


def fault_envelope(fault: SoapFault) -> str:
    return envelope(
        f"<env:Fault><env:Code><env:Value>{fault.code}</env:Value><env:Subcode><env:Value>{fault.subcode}"
        f'</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">{escape(fault.reason)}'
        "</env:Text></env:Reason></env:Fault>")


def system_date_and_time() -> str:
    now = datetime.now(UTC)
    return ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
            "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
            f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
            f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")


def services(base_url: str) -> str:
    entries = "".join(
        f"<tds:Service><tds:Namespace>{namespace}</tds:Namespace><tds:XAddr>{escape(base_url + path)}</tds:XAddr>"
        "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
        for namespace, path in ((DEVICE_NS, "/onvif/device_service"), (MEDIA_NS, "/onvif/media_service")))
    return f"<tds:GetServicesResponse>{entries}</tds:GetServicesResponse>"


def capabilities(base_url: str) -> str:
    return ("<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{escape(base_url)}/onvif/device_service</tt:XAddr></tt:Device>"
            f"<tt:Media><tt:XAddr>{escape(base_url)}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>"
            "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
            "</tt:StreamingCapabilities></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>")


def profile_xml(profile: SimulatedProfile, width: int, height: int) -> str:
    # One video source (the sensor, at the main resolution) shared by every profile, as on real cameras.
    return (
        f'<trt:Profiles token="{profile.token}" fixed="true"><tt:Name>{escape(profile.name)}</tt:Name>'
        '<tt:VideoSourceConfiguration token="video_source_config"><tt:Name>video source</tt:Name>'
        "<tt:UseCount>2</tt:UseCount><tt:SourceToken>video_source</tt:SourceToken>"
        f'<tt:Bounds x="0" y="0" width="{width}" height="{height}"/></tt:VideoSourceConfiguration>'
        f'<tt:VideoEncoderConfiguration token="encoder_{profile.token}"><tt:Name>{escape(profile.name)} encoder</tt:Name>'
        "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{profile.width}</tt:Width><tt:Height>{profile.height}</tt:Height></tt:Resolution>"
        f"<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>{profile.fps}</tt:FrameRateLimit>"
        f"<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>{profile.bitrate_kbps}</tt:BitrateLimit>"
        f"</tt:RateControl><tt:H264><tt:GovLength>{profile.fps}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile>"
        "</tt:H264><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address>"
        "</tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
        "<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></trt:Profiles>")


def stream_uri(profile: SimulatedProfile) -> str:
    return (f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{escape(profile.uri)}</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
            "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>")


class OnvifDeviceApp:
    """The device's two SOAP endpoints as a Starlette app; counts requests per operation."""

    def __init__(self, profiles: list[SimulatedProfile], username: str, password: str) -> None:
        self.profiles = {profile.token: profile for profile in profiles}
        self.username, self.password = username, password
        self.requests: dict[str, int] = {}
        self.app = Starlette(routes=[Route("/onvif/device_service", self.device_service, methods=["POST"]),
                                     Route("/onvif/media_service", self.media_service, methods=["POST"])])

    async def device_service(self, request: Request) -> Response:
        return await self._answer(request, {
            "GetSystemDateAndTime": lambda _body, _base: system_date_and_time(),
            "GetServices": lambda _body, base: services(base),
            "GetCapabilities": lambda _body, base: capabilities(base),
        })

    async def media_service(self, request: Request) -> Response:
        return await self._answer(request, {"GetProfiles": self._profiles, "GetStreamUri": self._stream_uri})

    async def _answer(self, request: Request, operations: dict) -> Response:
        try:
            try:
                document = etree.fromstring(await request.body(), etree.XMLParser(resolve_entities=False, no_network=True))
            except etree.XMLSyntaxError:
                raise SoapFault("env:Sender", "ter:WellFormed", "The request is not well-formed XML", 400) from None
            body = document.find(f"{{{SOAP_ENV}}}Body")
            if document.tag != f"{{{SOAP_ENV}}}Envelope" or body is None or len(body) == 0:
                raise SoapFault("env:Sender", "ter:WellFormed", "Not a SOAP 1.2 envelope", 400)
            request_element = body[0]
            operation = etree.QName(request_element).localname
            self.requests[operation] = self.requests.get(operation, 0) + 1
            if operation not in operations:
                raise SoapFault("env:Receiver", "ter:ActionNotSupported", f"{operation} is not supported", 500)
            if operation not in PRE_AUTH_OPERATIONS:
                check_username_token(document, self.username, self.password)
            base_url = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
            return Response(envelope(operations[operation](request_element, base_url)), media_type=SOAP_CONTENT_TYPE)
        except SoapFault as fault:
            return Response(fault_envelope(fault), status_code=fault.http_status, media_type=SOAP_CONTENT_TYPE)

    def _profiles(self, _request: etree._Element, _base_url: str) -> str:
        sensor = max(self.profiles.values(), key=lambda profile: profile.width * profile.height)
        entries = "".join(profile_xml(profile, sensor.width, sensor.height) for profile in self.profiles.values())
        return f"<trt:GetProfilesResponse>{entries}</trt:GetProfilesResponse>"

    def _stream_uri(self, request: etree._Element, _base_url: str) -> str:
        token = request.findtext(f"{{{MEDIA_NS}}}ProfileToken") or ""
        if token not in self.profiles:
            raise SoapFault("env:Sender", "ter:InvalidArgVal", f"No profile with token {token!r}", 400)
        protocol = request.findtext(".//{http://www.onvif.org/ver10/schema}Protocol") or "RTSP"
        if protocol not in ("RTSP", "TCP", "UDP"):
            raise SoapFault("env:Sender", "ter:InvalidArgVal", f"Transport {protocol} is not offered", 400)
        return stream_uri(self.profiles[token])


class SimulatedOnvifDevice:
    """An ONVIF device on 127.0.0.1 with a 1280x720 main and a 640x360 sub profile; a context manager."""

    def __init__(self, main_uri: str, sub_uri: str, username: str, password: str, port: int = 0,
                 host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port  # 0 asks for any free port; start() replaces it with the bound one
        self.device = OnvifDeviceApp([
            SimulatedProfile("profile_main", "MainStream", 1280, 720, 25, 2500, main_uri),
            SimulatedProfile("profile_sub", "SubStream", 640, 360, 15, 600, sub_uri),
        ], username, password)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The device service's address, as an admin would type it into a VMS."""
        return f"http://{self.host}:{self.port}/onvif/device_service"

    @property
    def requests(self) -> dict[str, int]:
        """How many times each SOAP operation was asked for."""
        return dict(self.device.requests)

    def start(self) -> Self:
        """Listen and serve from a background thread; returns once the port accepts connections."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(self.device.app, log_level="warning", lifespan="off", http="h11", loop="asyncio",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listener]},
                                        name=f"onvif-device-{self.port}", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the simulated ONVIF device could not serve on {self.host}:{self.port}")
            self._thread.join(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
