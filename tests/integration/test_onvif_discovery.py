"""ONVIF discovery against a simulated Profile S device over real HTTP: profiles, URIs, and each way it fails."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import gc
import http.server
import json
import socket
import subprocess
import threading
import time
import warnings
from pathlib import Path

import httpx
import onvif
import pytest
from lxml import etree

from rtcc.cameras.adapters.onvif import (
    DeviceAuthFailed,
    DeviceProtocolError,
    DeviceUnreachable,
    OnvifStream,
    discover_streams,
    pick_main_and_sub,
)
from rtcc.sim.onvif_device import (
    SOAP_ENV,
    WSSE,
    WSU,
    SimulatedOnvifDevice,
    password_digest,
)

MAIN, SUB = "rtsp://127.0.0.1:8554/cam1", "rtsp://127.0.0.1:8554/cam1/sub"
WSDL_DIR = Path(onvif.__file__).parent / "wsdl"


@pytest.fixture(scope="module")
def device():
    with SimulatedOnvifDevice(MAIN, SUB, "admin", "s3cret!") as simulated:
        yield simulated


def discover(port: int, username: str | None = "admin", password: str | None = "s3cret!", timeout_s: float = 10):
    return asyncio.run(discover_streams("127.0.0.1", port, username, password, timeout_s=timeout_s))


def test_discovery_returns_both_profiles_with_their_uris_and_resolutions(device):
    streams = discover(device.port)
    assert streams == [
        OnvifStream("profile_main", "MainStream", "H264", 1280, 720, MAIN),
        OnvifStream("profile_sub", "SubStream", "H264", 640, 360, SUB),
    ]
    assert pick_main_and_sub(streams) == (MAIN, SUB)
    assert pick_main_and_sub(list(reversed(streams))) == (MAIN, SUB)
    assert pick_main_and_sub(streams[1:]) == (SUB, SUB)
    assert pick_main_and_sub([]) == (None, None)


def test_the_discovered_uris_stream_what_the_profiles_say(tmp_path):
    """End to end: the simulated device points at simulated RTSP cameras, and they play at the advertised sizes."""
    from rtcc.sim.cameras import SimulatedCameras

    with SimulatedCameras(1, 0, mode="live", cache_dir=tmp_path) as cameras, \
            SimulatedOnvifDevice(cameras.urls[0], cameras.sub_urls[0], "admin", "pw") as simulated:
        streams = discover(simulated.port, "admin", "pw")
        for stream in streams:
            probe = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
                                    "-show_entries", "stream=codec_name,width,height", "-of", "json", stream.uri],
                                   capture_output=True, text=True, timeout=20, check=False)
            assert probe.returncode == 0, probe.stderr
            assert json.loads(probe.stdout)["streams"][0] == {"codec_name": "h264", "width": stream.width,
                                                               "height": stream.height}


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong"), ("root", "s3cret!"), (None, None)],
                         ids=["wrong-password", "wrong-user", "no-credentials"])
def test_refused_credentials_are_device_auth_failed(device, username, password):
    with pytest.raises(DeviceAuthFailed) as raised:
        discover(device.port, username, password)
    assert raised.value.code == "device_auth_failed" and raised.value.status_code == 502
    assert "wrong" not in str(raised.value) and f":{device.port}" in str(raised.value)


def free_port() -> int:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_nothing_listening_is_device_unreachable_at_once():
    port = free_port()
    started = time.monotonic()
    with pytest.raises(DeviceUnreachable) as raised:
        discover(port, timeout_s=10)
    assert time.monotonic() - started < 3, "a refused connection must not wait for the timeout"
    assert raised.value.code == "device_unreachable" and raised.value.status_code == 502
    assert str(raised.value) == f"No ONVIF device answered at 127.0.0.1:{port}. Check the address and the device's ONVIF port."


def test_a_device_that_hangs_times_out_within_the_limit_and_the_client_is_closed():
    # Listening but never answering: the kernel completes the handshake, then nothing comes back.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.monotonic()
            with pytest.raises(DeviceUnreachable) as raised:
                discover(hung.getsockname()[1], timeout_s=1.5)
            elapsed = time.monotonic() - started
            gc.collect()
    assert 1.4 < elapsed < 3.5
    # The same words as a closed port: discovery must not tell a filtered port from a closed one.
    assert raised.value.code == "device_unreachable" and str(raised.value).startswith("No ONVIF device answered at")
    unclosed = [str(warning.message) for warning in caught if "nclosed" in str(warning.message)]
    assert not unclosed, unclosed


def test_a_web_server_that_is_not_onvif_reads_like_a_closed_port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)  # 501 to all
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(DeviceUnreachable) as raised:
            discover(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert str(raised.value) == (f"No ONVIF device answered at 127.0.0.1:{server.server_address[1]}. "
                                 "Check the address and the device's ONVIF port.")


class BrokenDevice:
    """A real socket on loopback that answers every request with the same bytes (or closes), then hangs up."""

    def __init__(self, reply: bytes):
        self.reply = reply
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                with contextlib.suppress(OSError):
                    connection.recv(65536)
                    connection.sendall(self.reply)

    def close(self) -> None:
        self.listener.close()


def soap_answer(body: str) -> bytes:
    envelope = (f'<env:Envelope xmlns:env="{SOAP_ENV}" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
                f"<env:Body>{body}</env:Body></env:Envelope>").encode()
    return (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/soap+xml\r\n"
            b"Content-Length: %d\r\n\r\n" % len(envelope)) + envelope


BROKEN_ANSWERS = {
    "accepts and closes": b"",
    "garbage": b"\x00\xff\x13 not http at all\r\n\r\n",
    "an empty SOAP body": soap_answer(""),  # IndexError inside zeep
    "empty responses": soap_answer("<tds:GetSystemDateAndTimeResponse/>"),  # TypeError inside the client
    "an empty 200": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
}


def test_a_device_that_answers_nonsense_is_a_clear_502_never_a_500(runtime, signed_in_as):
    """Finding 8: a missing or broken answer crashed discovery with a 500; now it reads like any dead address."""
    admin, _ = signed_in_as("admin")
    answers = {}
    for what, reply in BROKEN_ANSWERS.items():
        device = BrokenDevice(reply)
        try:
            answers[what] = admin.post("/api/v1/cameras/discover", json={"host": "127.0.0.1", "port": device.port})
        finally:
            device.close()
        assert answers[what].status_code == 502, (what, answers[what].text)
        assert answers[what].json() == {"code": "device_unreachable", "message": (
            f"No ONVIF device answered at 127.0.0.1:{device.port}. Check the address and the device's ONVIF port.")}
    closed = admin.post("/api/v1/cameras/discover", json={"host": "127.0.0.1", "port": free_port()})
    assert closed.status_code == 502 and closed.json()["code"] == "device_unreachable"


def test_the_service_addresses_a_device_names_are_held_to_the_same_rule(device):
    """The device names its own service addresses (XAddrs), and they are checked before they are called."""
    from rtcc.cameras.stream_urls import StreamSourcePolicy
    from rtcc.settings import Settings

    strict = StreamSourcePolicy.of(Settings())  # the shipped defaults: loopback refused
    asked: list[tuple[str, int]] = []

    async def address_check(host: str, port: int) -> None:
        asked.append((host, port))
        strict.check_address(host, port, field="host")

    before = device.requests.get("GetProfiles", 0)
    with pytest.raises(DeviceProtocolError) as raised:
        asyncio.run(discover_streams("127.0.0.1", device.port, "admin", "s3cret!", address_check=address_check))
    assert ("127.0.0.1", device.port) in asked
    assert "names a service address the server does not open" in str(raised.value)
    assert "127.0.0.1 is a loopback address" in str(raised.value)
    assert device.requests.get("GetProfiles", 0) == before  # the media service was never called


# --- the simulated device's answers are what the ONVIF schemas allow ---

def onvif_schema(wsdl_name: str) -> etree.XMLSchema:
    """The XML schema inside one of the package's WSDLs, with its imports read from the package."""
    wsdl = etree.parse(str(WSDL_DIR / wsdl_name), etree.XMLParser(no_network=True))
    embedded = wsdl.find("{http://schemas.xmlsoap.org/wsdl/}types/{http://www.w3.org/2001/XMLSchema}schema")
    # QName attribute values (type="trt:...") need the WSDL root's prefixes in scope.
    schema = etree.Element(embedded.tag, attrib=dict(embedded.attrib), nsmap={**wsdl.getroot().nsmap, **embedded.nsmap})
    schema.extend(copy.deepcopy(child) for child in embedded)
    document = etree.ElementTree(schema)
    document.docinfo.URL = str(WSDL_DIR / wsdl_name)  # so ./onvif.xsd and the rest resolve next to it
    return etree.XMLSchema(document)


def soap_request(operation: str, body: str, username: str, password: str) -> str:
    """A SOAP 1.2 request with a WS-Security UsernameToken (PasswordDigest), as ONVIF clients send."""
    nonce, created = b"0123456789abcdef", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    security = (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
                f"<wsse:Username>{username}</wsse:Username><wsse:Password Type=\"{WSSE[:-len('secext-1.0.xsd')]}"
                f'token-profile-1.0#PasswordDigest">{password_digest(nonce, created, password)}</wsse:Password>'
                f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
                "</wsse:UsernameToken></wsse:Security>")
    return (f'<env:Envelope xmlns:env="{SOAP_ENV}" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
            'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">'
            f"<env:Header>{security}</env:Header><env:Body><{operation}>{body}</{operation}></env:Body></env:Envelope>")


def test_every_answer_is_valid_against_the_onvif_schemas(device):
    device_schema, media_schema = onvif_schema("devicemgmt.wsdl"), onvif_schema("media.wsdl")
    setup = "<trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol>" \
            "</tt:Transport></trt:StreamSetup><trt:ProfileToken>profile_sub</trt:ProfileToken>"
    calls = [("device_service", "tds:GetSystemDateAndTime", "", device_schema),
             ("device_service", "tds:GetServices", "<tds:IncludeCapability>false</tds:IncludeCapability>", device_schema),
             ("device_service", "tds:GetCapabilities", "<tds:Category>All</tds:Category>", device_schema),
             ("media_service", "trt:GetProfiles", "", media_schema),
             ("media_service", "trt:GetStreamUri", setup, media_schema)]
    with httpx.Client(base_url=f"http://127.0.0.1:{device.port}/onvif/", timeout=5) as client:
        for service, operation, body, schema in calls:
            answer = client.post(service, content=soap_request(operation, body, "admin", "s3cret!"),
                                 headers={"content-type": "application/soap+xml; charset=utf-8"})
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("application/soap+xml")
            response = etree.fromstring(answer.content).find(f"{{{SOAP_ENV}}}Body")[0]
            schema.assertValid(etree.ElementTree(copy.deepcopy(response)))
        refused = client.post("media_service", content=soap_request("trt:GetProfiles", "", "admin", "nope"),
                              headers={"content-type": "application/soap+xml; charset=utf-8"})
    assert refused.status_code == 400
    fault = etree.fromstring(refused.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    subcode = fault.findtext(f"{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Subcode/{{{SOAP_ENV}}}Value")
    assert subcode == "ter:NotAuthorized"
    assert device.requests["GetStreamUri"] >= 1


def test_an_admin_discovers_a_device_through_the_api_and_it_is_audited(device, runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    found = admin.post("/api/v1/cameras/discover", json={"host": "127.0.0.1", "port": device.port,
                                                           "username": "admin", "password": "s3cret!"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["main_stream_url"], body["sub_stream_url"]) == (MAIN, SUB)
    assert "s3cret!" not in found.text
    refused = admin.post("/api/v1/cameras/discover", json={"host": "127.0.0.1", "port": device.port,
                                                             "username": "admin", "password": "wrong-password"})
    assert refused.status_code == 502 and refused.json()["code"] == "device_auth_failed"
    from rtcc.audit import service as audit

    with runtime.database.session() as db:
        records = audit.search(db, query=audit.AuditQuery(action="camera.discover"))
    assert [r.outcome for r in records] == ["failure", "success"]
    assert all("s3cret!" not in (r.details or "") for r in records)
