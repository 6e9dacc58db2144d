"""Simulated cameras: N real RTSP streams of a road scene with readable plates and a burned-in clock.

The streams come from GStreamer's gst-rtsp-server, run as a child process under Debian's
python3 (the venv cannot import Debian's `gi`). Two modes:

- live: each frame is composed and H.264-encoded in real time with the current UTC time
  burned in, so a client can measure glass-to-glass latency. About 20 % of one core per
  watched 720p camera; nothing is encoded while nobody watches.
- loop: a clip per camera, encoded once into the cache, streamed by copy in a loop with
  timestamps that keep rising; cheap enough for dozens of cameras on a small machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Self
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from rtcc.sim.scene import build_scene

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
# Debian's interpreter, which has python3-gi; override for other layouts.
GST_PYTHON = os.environ.get("RTCC_SIM_GST_PYTHON", "/usr/bin/python3")
LIVE_MODE_MAX_CAMERAS = 4  # mode="auto": live up to this many cameras, loop above (2 cores)
DEFAULT_LOOP_SECONDS = 10.0
EXIT_MISSING = 3  # rtsp_server.py's exit status when GStreamer elements are missing
FIX_HINT = "install them with: sudo scripts/media-deps.sh"


class MediaDependencyError(RuntimeError):
    """GStreamer, its RTSP server or Debian's python3-gi is not installed."""


def default_cache_dir() -> Path:
    """Where scene images and loop clips are kept between runs: the data dir's sim-clips."""
    return Path(os.environ.get("RTCC_DATA_DIR", "data")).expanduser() / "sim-clips"


def describe(url: str, timeout_s: float = 10.0, credentials: tuple[str, str] | None = None) -> str:
    """Send one RTSP DESCRIBE and return the SDP; raises ConnectionError unless the answer is 200.

    Credentials, given or in the URL (rtsp://user:pass@host/...), answer the server's Digest
    (or Basic) challenge, as ffmpeg would.
    """
    parts = urlsplit(url)
    if credentials is None and parts.username is not None:
        credentials = (unquote(parts.username), unquote(parts.password or ""))
    bare_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    with socket.create_connection((parts.hostname, parts.port or 554), timeout=timeout_s) as connection:
        status, headers, body = _rtsp_exchange(connection, bare_url, 1, "")
        challenges = [value for name, value in headers if name == "www-authenticate"]
        if " 401 " in status and credentials is not None and challenges:
            authorization = _authorization(challenges, credentials, "DESCRIBE", bare_url)
            status, _, body = _rtsp_exchange(connection, bare_url, 2, f"Authorization: {authorization}\r\n")
    if " 200 " not in status + " ":
        raise ConnectionError(f"{bare_url}: {status or 'no answer'}")  # never the credentials
    return body.decode(errors="replace")


def _rtsp_exchange(connection: socket.socket, url: str, sequence: int, extra_headers: str):
    """One DESCRIBE on an open connection: (status line, [(lower-case name, value)], body)."""
    connection.sendall((f"DESCRIBE {url} RTSP/1.0\r\nCSeq: {sequence}\r\nAccept: application/sdp\r\n"
                        f"{extra_headers}User-Agent: rtcc-sim-check\r\n\r\n").encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode(errors="replace").split("\r\n")
    headers = [(name.strip().lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    length = next((int(value) for name, value in headers if name == "content-length"), 0)
    while len(body) < length:
        chunk = connection.recv(4096)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _authorization(challenges: list[str], credentials: tuple[str, str], method: str, url: str) -> str:
    """The Authorization header value answering a Digest challenge (RFC 2069 style, as RTSP servers use), else Basic."""
    username, password = credentials
    digest = next((challenge for challenge in challenges if challenge.lower().startswith("digest")), None)
    if digest is None:
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', digest[len("digest"):]))
    realm, nonce = fields.get("realm", ""), fields.get("nonce", "")
    def md5(text: str) -> str:  # RTSP Digest is MD5 by definition
        return hashlib.md5(text.encode()).hexdigest()

    response = md5(f"{md5(f'{username}:{realm}:{password}')}:{nonce}:{md5(f'{method}:{url}')}")
    return (f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{url}", '
            f'response="{response}"')


class SimulatedCameras:
    """N simulated RTSP cameras served by a GStreamer child process; use as a context manager."""

    def __init__(self, count: int, port: int = 8554, mode: str = "auto", cache_dir: Path | None = None,
                 host: str = "127.0.0.1", *, loop_seconds: float = DEFAULT_LOOP_SECONDS,
                 startup_timeout_s: float = 60.0, credentials: tuple[str, str] | None = None) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        if mode not in ("auto", "live", "loop"):
            raise ValueError(f"mode must be auto, live or loop, not {mode!r}")
        self.count = count
        self.port = port  # 0 asks for any free port; start() replaces it with the bound one
        self.mode = mode if mode != "auto" else ("live" if count <= LIVE_MODE_MAX_CAMERAS else "loop")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.host = host
        self.loop_seconds = loop_seconds
        self.startup_timeout_s = startup_timeout_s
        self.credentials = credentials  # (username, password) every mount then asks for
        self.scenes: list[dict] = []
        self.process: subprocess.Popen | None = None
        self.log: deque[str] = deque(maxlen=200)  # the child's recent output, for error messages
        self._replies: queue.Queue[str] = queue.Queue()
        self._work_dir: Path | None = None

    # --- what callers read ---
    @property
    def urls(self) -> list[str]:
        """Main-stream URLs (1280x720), in camera order."""
        return [f"rtsp://{self.host}:{self.port}/cam{index}" for index in range(1, self.count + 1)]

    @property
    def sub_urls(self) -> list[str]:
        """Sub-stream URLs (640x360), in camera order."""
        return [f"{url}/sub" for url in self.urls]

    def with_credentials(self, url: str) -> str:
        """`url` with this server's credentials in it (rtsp://user:pass@host:port/...), as ffmpeg takes them."""
        if self.credentials is None:
            return url
        parts = urlsplit(url)
        userinfo = ":".join(quote(part, safe="") for part in self.credentials)
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))

    def plates(self, camera: int) -> list[str]:
        """The plates the vehicles of camera `camera` (1-based) carry; known after start()."""
        return list(self.scenes[camera - 1]["plates"])

    @property
    def pid(self) -> int | None:
        """The GStreamer server's process id (for CPU measurements)."""
        return self.process.pid if self.process else None

    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process is not None and self.process.poll() is None

    # --- lifecycle ---
    def start(self) -> Self:
        """Prepare scenes (and loop clips), start the server and wait until every stream answers."""
        self._check_dependencies()
        self._work_dir = Path(tempfile.mkdtemp(prefix="rtcc-sim-cameras-"))
        try:
            self.scenes = [build_scene(index, self.cache_dir / "scenes", self.loop_seconds)
                           for index in range(1, self.count + 1)]
            if self.mode == "loop":
                self._prepare_clips()
            self._spawn_server()
            for url in self.urls:
                describe(url, credentials=self.credentials)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (politely, then by force) and remove its temporary files."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                process.stdin.write("quit\n")
                process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process is not None and process.stdin:
            try:
                process.stdin.close()
            except OSError:
                pass
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop_camera(self, camera: int) -> None:
        """Take camera `camera` (1-based) offline: its mounts go away and its clients are dropped."""
        self._command(f"stop {camera}")

    def start_camera(self, camera: int) -> None:
        """Bring a stopped camera back."""
        self._command(f"start {camera}")

    # --- inside ---
    def _check_dependencies(self) -> None:
        if not Path(GST_PYTHON).exists():
            raise MediaDependencyError(f"{GST_PYTHON} is missing (Debian's python3 with python3-gi); {FIX_HINT}")
        check = subprocess.run([GST_PYTHON, str(SERVER_SCRIPT), "check"], capture_output=True, text=True,
                               timeout=60, check=False)
        if check.returncode != 0:
            detail = (check.stderr.strip().splitlines() or ["no output"])[-1]
            raise MediaDependencyError(f"GStreamer for the simulated cameras is not usable ({detail}); {FIX_HINT}")

    def _prepare_clips(self) -> None:
        """Encode the loop clips that are not cached yet, split over up to two workers."""
        clips_dir = self.cache_dir / "clips"
        clips_dir.mkdir(parents=True, exist_ok=True)
        missing = []
        for scene in self.scenes:
            for variant in ("main", "sub"):
                clip = clips_dir / f"cam{scene['index']}-{scene['key'][:16]}-{variant}.h264"
                scene[variant]["clip"] = str(clip)
                if not clip.exists():
                    missing.append({"variant": scene[variant], "seconds": self.loop_seconds,
                                    "output": f"{clip}.part"})
        workers = max(1, min(2, os.cpu_count() or 1, len(missing)))
        processes = []
        for worker in range(workers if missing else 0):
            spec = self._work_dir / f"render-{worker}.json"
            spec.write_text(json.dumps({"clips": missing[worker::workers]}))
            processes.append(subprocess.Popen([GST_PYTHON, str(SERVER_SCRIPT), "render", str(spec)],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        failures = []
        for process in processes:
            _, errors = process.communicate()
            if process.returncode != 0:
                failures.append(errors.strip() or f"exit status {process.returncode}")
        if failures:
            if any(f"exit status {EXIT_MISSING}" in failure or "MISSING" in failure for failure in failures):
                raise MediaDependencyError(" | ".join(failures) + f"; {FIX_HINT}")
            raise RuntimeError("rendering the loop clips failed: " + " | ".join(failures))
        for job in missing:
            os.replace(job["output"], job["output"][: -len(".part")])

    def _spawn_server(self) -> None:
        spec = self._work_dir / "serve.json"
        credentials = dict(zip(("username", "password"), self.credentials, strict=True)) if self.credentials else None
        # The work dir is private to this user (mkdtemp), so the password in the spec stays ours.
        spec.write_text(json.dumps({"host": self.host, "port": self.port, "mode": self.mode, "cameras": self.scenes,
                                    "credentials": credentials}))
        # Its own session: Ctrl-C reaches only us, and stop() shuts it down in order. If we die,
        # its stdin closes and it quits by itself.
        self.process = subprocess.Popen([GST_PYTHON, str(SERVER_SCRIPT), "serve", str(spec)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                                        start_new_session=True)
        threading.Thread(target=self._read_output, args=(self.process.stdout, True), daemon=True).start()
        threading.Thread(target=self._read_output, args=(self.process.stderr, False), daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            try:
                line = self._replies.get(timeout=0.2)
            except queue.Empty:
                line = ""
            if line.startswith("READY"):
                self.port = int(line.split()[1])
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._raise_start_failure()

    def _raise_start_failure(self) -> None:
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.2)  # let the reader threads catch the last lines
        detail = "\n".join(list(self.log)[-15:]) or "no output"
        if self.process.returncode == EXIT_MISSING:
            raise MediaDependencyError(f"{detail}\n{FIX_HINT}")
        state = "timed out" if self.process.returncode is None else f"exited with {self.process.returncode}"
        raise RuntimeError(f"the simulated camera server {state}:\n{detail}")

    def _read_output(self, stream, replies: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            self.log.append(line)
            if replies:
                self._replies.put(line)

    def _command(self, command: str, timeout_s: float = 10.0) -> None:
        if not self.running():
            raise RuntimeError("the simulated camera server is not running")
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._replies.get(timeout=0.2)
            except queue.Empty:
                continue
            if line == f"OK {command}":
                return
            if line.startswith("ERROR"):
                raise RuntimeError(line)
        raise TimeoutError(f"no answer to {command!r}")


def serve_cameras(count: int, port: int, mode: str = "auto", *, cache_dir: Path | None = None,
                  host: str = "127.0.0.1", loop_seconds: float = DEFAULT_LOOP_SECONDS,
                  credentials: tuple[str, str] | None = None) -> None:
    """For `rtcc sim cameras`: print the URLs, serve until Ctrl-C or SIGTERM, then clean up."""
    stopping = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stopping.set()) for signum in (signal.SIGTERM,)}
    started = time.monotonic()
    cameras = SimulatedCameras(count, port, mode, cache_dir, host, loop_seconds=loop_seconds, credentials=credentials)
    if cameras.mode == "loop":
        print(f"{count} simulated cameras in loop mode: clips not yet in {cameras.cache_dir / 'clips'} are encoded "
              "first (about 2 s of CPU per camera, once)", file=sys.stderr, flush=True)
    try:
        cameras.start()  # Ctrl-C here interrupts (clip rendering can take a minute)
        # Serving: Ctrl-C asks for an orderly stop, even where the shell started us ignoring it.
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, lambda *_: stopping.set())
        for url in cameras.urls:
            print(url)
        for url in cameras.sub_urls:
            print(f"sub {url}")
        print(f"{count} simulated cameras ({cameras.mode} mode) ready in {time.monotonic() - started:.1f} s; "
              "Ctrl-C stops them", file=sys.stderr, flush=True)
        sys.stdout.flush()
        while not stopping.is_set():
            if not cameras.running():
                raise RuntimeError("the simulated camera server stopped:\n" + "\n".join(list(cameras.log)[-10:]))
            stopping.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        cameras.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
