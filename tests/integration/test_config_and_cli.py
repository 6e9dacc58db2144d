"""Settings and the command line as an operator uses them."""

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rtcc.cli import app as cli
from rtcc.core.config import use_config_file
from rtcc.settings import Settings

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def test_every_setting_is_described_bounded_where_numeric_and_documented():
    documentation = (REPO / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 15, f"{name} has no description"
        assert f"RTCC_{name.upper()}" in documentation, f"RTCC_{name.upper()} missing from docs/configuration.md"
        if field.annotation in (int, float):
            bounds = [m for m in field.metadata if hasattr(m, "ge") or hasattr(m, "le")]
            assert bounds, f"{name} has no bounds"


def test_environment_overrides_the_toml_file_which_overrides_defaults(tmp_path, monkeypatch):
    config = tmp_path / "rtcc.toml"
    config.write_text('port = 9090\nsession_idle_minutes = 20\ndatabase_url = "postgresql+psycopg://u:s3cret@db/rtcc"\n')
    monkeypatch.setenv("RTCC_SESSION_IDLE_MINUTES", "15")
    result = runner.invoke(cli, ["--config", str(config), "config", "show", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["port"] == 9090 and shown["session_idle_minutes"] == 15
    assert "s3cret" not in result.output and "***" in shown["database_url"]
    use_config_file(None)


def test_out_of_bounds_settings_are_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("RTCC_SESSION_IDLE_MINUTES", "90")  # CJIS allows at most 30
    result = runner.invoke(cli, ["config", "show", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "session_idle_minutes" in result.output


def test_user_create_prints_credentials_that_sign_in(runtime, client):
    from support import Person, sign_in

    env = {"RTCC_DATABASE_URL": runtime.settings.effective_database_url}
    data_dir = str(runtime.settings.data_dir)
    result = runner.invoke(cli, ["user", "create", "Pat", "--role", "supervisor", "--agency", "CA0199900", "--data-dir", data_dir], env=env)
    assert result.exit_code == 0, result.output
    password = re.search(r"One-time password:\s+(\S+)", result.output).group(1)
    secret = re.search(r"TOTP secret:\s+(\S+)", result.output).group(1)
    sign_in(client, Person("pat", password, secret, "supervisor"))
    assert client.get("/api/v1/auth/me").json()["role"] == "supervisor"

    duplicate = runner.invoke(cli, ["user", "create", "pat", "--role", "analyst", "--agency", "CA0199900", "--data-dir", data_dir], env=env)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    bad_role = runner.invoke(cli, ["user", "create", "sam", "--role", "sheriff", "--agency", "CA0199900", "--data-dir", data_dir], env=env)
    assert bad_role.exit_code == 1 and "Unknown role" in bad_role.output
    disabled = runner.invoke(cli, ["user", "disable", "pat", "--data-dir", data_dir], env=env)
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert client.get("/api/v1/auth/me").status_code == 401  # the disabled account's session ended


def test_wrong_passwords_lock_until_rtcc_user_unlock(runtime, client):
    """The fixed point: after 5 wrong passwords the right one is refused until `rtcc user unlock`."""
    from support import create_person

    person = create_person(runtime, "quinn", "analyst")
    attempt = lambda password: client.post("/api/v1/auth/sign-in", json={  # noqa: E731
        "username": "quinn", "password": password, "banner_acknowledged": True})
    statuses = [attempt("not-the-password").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 401]  # a locked account answers as an unknown name does
    assert attempt(person.password).status_code == 401
    env = {"RTCC_DATABASE_URL": runtime.settings.effective_database_url}
    result = runner.invoke(cli, ["user", "unlock", "quinn", "--data-dir", str(runtime.settings.data_dir)], env=env)
    assert result.exit_code == 0 and "active" in result.output
    assert attempt(person.password).status_code == 200


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_account(output: str, username: str):
    from support import Person

    found = re.search(rf"username:\s+{username}\none-time password:\s+(\S+).*\nauthenticator key:\s+(\S+)", output)
    assert found, f"no credentials for {username} in the demo's output"
    return Person(username, found.group(1), found.group(2), "")


def test_rtcc_demo_serves_health_and_prints_how_to_sign_in(tmp_path):
    """A real `rtcc demo` process on a fresh data dir (start-up time is measured in bench/): the analyst it
    creates signs in and sees the simulated city's calls open incidents with cameras docked."""
    from support import sign_in, wait_until

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rtcc.cli", "demo", "--data-dir", str(tmp_path / "demo"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "RTCC_DEMO_CALL_INTERVAL_SECONDS": "2"},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        def health():
            if process.poll() is not None:
                pytest.fail(f"demo did not come up: {''.join(lines)}")
            try:
                return [httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)]
            except httpx.HTTPError:
                return None

        [response] = wait_until(health, timeout=60, poll=0.2, what=lambda: f"the demo to answer: {''.join(lines)}")
        assert response.status_code == 200 and response.json()["status"] == "ok"
        cameras = httpx.get(f"http://127.0.0.1:{port}/api/v1/cameras")
        assert cameras.status_code == 401

        # The watch floor: the analyst signs in, and within seconds a simulated call has opened an incident.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as analyst:
            person = sign_in(analyst, _demo_account("".join(lines), "analyst"))
            analyst.headers["x-csrf-token"] = person.csrf_token
            assert analyst.get("/api/v1/auth/me").json()["role"] == "analyst"
            incidents = wait_until(lambda: analyst.get("/api/v1/incidents").json(), timeout=30, poll=0.5,
                                   what="a simulated call to open an incident")
            first = analyst.get(f"/api/v1/incidents/{incidents[-1]['id']}").json()
            assert first["call_id"].startswith("SIM-") and first["cameras"], first
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=10)
    output = "".join(lines)
    assert "one-time password:" in output and "authenticator key:" in output
    assert f"http://127.0.0.1:{port}" in output and "as 'analyst' for the watch floor" in output
    credentials = (tmp_path / "demo" / "demo-credentials.txt")
    assert credentials.stat().st_mode & 0o077 == 0  # readable by its owner only
    saved = credentials.read_text()
    for username in ("officer", "admin"):
        assert _demo_account(saved, username).password == _demo_account(output, username).password
    assert "analyst" not in saved  # it enrolled above: its first-start credentials are gone

    again = subprocess.run(
        [sys.executable, "-m", "rtcc.cli", "audit", "verify", "--data-dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=60,
    )
    assert again.returncode == 0, again.stdout + again.stderr
