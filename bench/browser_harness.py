"""What the console benchmarks share: a seeded `rtcc serve` in a temp dir and a signed-in Chromium page."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyotp

from rtcc.auth import service as accounts
from rtcc.core.actor import SYSTEM
from rtcc.settings import Settings
from rtcc.core.runtime import Runtime, build_runtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
AGENCY = "CA0199900"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def seeded_server(seed, **env):
    """`seed(runtime)` fills a fresh data dir; then `rtcc serve` (recording off unless asked) runs on it."""
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory) / "data"
        runtime = build_runtime(Settings(data_dir=data_dir))
        runtime.database.upgrade()
        seed(runtime)
        port = free_port()
        environment = {**os.environ, "RTCC_RECORDING_ENABLED": "false", "RTCC_VIDEO_READS_ENABLED": "false", **env}
        process = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "serve", "--data-dir", str(data_dir), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.1)
            yield base, runtime
        finally:
            process.terminate()
            process.wait(timeout=30)
            runtime.close()


def person(runtime: Runtime, username: str, role: str):
    with runtime.database.session() as db:
        accounts.ensure_agency(db, runtime=runtime, ori=AGENCY, name="Benchmark agency")
        new = accounts.create_user(db, runtime=runtime, actor=SYSTEM, username=username, role=role, agency_ori=AGENCY)
    return {"username": username, "password": new.one_time_password, "totp": new.totp_secret}


def sign_in(request_context, base: str, who: dict) -> dict:
    """Sign in through the API with a browser context's cookie jar; returns headers with the CSRF token."""
    step = request_context.post(f"{base}/api/v1/auth/sign-in", data={
        "username": who["username"], "password": who["password"], "banner_acknowledged": True}).json()
    headers = {"x-csrf-token": step["csrf_token"]}
    verified = request_context.post(f"{base}/api/v1/auth/mfa", data={"code": pyotp.TOTP(who["totp"]).now()},
                                    headers=headers).json()
    headers = {"x-csrf-token": verified["csrf_token"]}  # each step up issues a new session and CSRF token
    done = request_context.post(f"{base}/api/v1/auth/password", headers=headers,
                                data={"current_password": who["password"], "new_password": "Bench-Harbor-4471"}).json()
    return {"x-csrf-token": done["csrf_token"]}


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
