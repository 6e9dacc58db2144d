"""The project's own install scripts, as a fresh machine meets them."""

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import free_port

REPO = Path(__file__).resolve().parents[2]
DPKG_FRONTEND_LOCK = Path("/var/lib/dpkg/lock-frontend")


def _apt_get_is_waiting(process: subprocess.Popen) -> bool:
    # The script runs apt-get in a command substitution: look through the script's whole session.
    children = subprocess.run(["pgrep", "-s", str(process.pid), "-x", "apt-get"], capture_output=True, text=True)
    return bool(children.stdout.strip())


# Outside CI a developer without root has no package lock to hold; CI runs as root on Debian, where it must run.
@pytest.mark.skipif(not os.environ.get("CI") and (os.geteuid() != 0 or not DPKG_FRONTEND_LOCK.exists()),
                    reason="needs root on Debian")
def test_a_package_install_waits_for_a_busy_package_lock_instead_of_failing():
    # Another apt (unattended-upgrades, a second terminal) holds dpkg's lock while we install.
    with DPKG_FRONTEND_LOCK.open("r+") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        install = subprocess.Popen(
            ["bash", "-c", "source scripts/packages.sh && apt_get_waiting install -y -qq --no-install-recommends ffmpeg"],
            cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "RTCC_APT_LOCK_TIMEOUT": "120"})
        deadline = time.monotonic() + 30
        while not _apt_get_is_waiting(install):
            assert install.poll() is None, f"the install gave up on a held lock: {install.stdout.read()}"
            assert time.monotonic() < deadline, "apt-get never started"
            time.sleep(0.1)
        held_until = time.monotonic() + 3  # an apt-get that does not wait fails at once with exit 100
        while time.monotonic() < held_until:
            assert install.poll() is None, f"the install gave up on a held lock: {install.stdout.read()}"
            time.sleep(0.2)
    # The lock is released: the install goes through.
    output, _ = install.communicate(timeout=120)
    assert install.returncode == 0, output


@pytest.mark.parametrize("jetstream", [False, True], ids=["debian-service", "with-jetstream"])
def test_a_nats_server_without_jetstream_is_not_taken_for_ready(tmp_path, jetstream):
    # Debian's nats-server package starts a service like the first: listening, but with no JetStream.
    port = free_port()
    command = ["nats-server", "-a", "127.0.0.1", "-p", str(port)] + (["-js", "-sd", str(tmp_path)] if jetstream else [])
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check = f"source scripts/ports.sh && wait_port {port} && nats_has_jetstream {port}"
        result = subprocess.run(["bash", "-c", check], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert (result.returncode == 0) is jetstream, result.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_setup_rebuilds_a_half_made_venv_instead_of_trusting_it(tmp_path):
    """Debian's python3 without python3-venv leaves a .venv with a python and no pip; the next run must not trust it."""
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(REPO), str(checkout)], check=True)
    for changed in ("pyproject.toml", "constraints.txt", "scripts/setup.sh", "scripts/packages.sh"):  # uncommitted edits
        (checkout / changed).write_bytes((REPO / changed).read_bytes())
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(checkout / ".venv")], check=True)
    assert subprocess.run([checkout / ".venv/bin/python", "-m", "pip", "--version"], capture_output=True).returncode != 0
    # pip's byte-compiling of every installed module took a third of the run; Python compiles on first import,
    # and pip only ever warns when compiling fails, so nothing this test checks is lost.
    environment = {**os.environ, "PIP_COMPILE": "false"}
    result = subprocess.run(["bash", "scripts/setup.sh"], cwd=checkout, capture_output=True, text=True, timeout=900,
                            env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rebuilding .venv" in result.stdout
    installed = subprocess.run([checkout / ".venv/bin/python", "-c", "import rtcc, pytest; print(rtcc.__file__)"],
                               capture_output=True, text=True)
    assert installed.returncode == 0 and str(checkout / "src") in installed.stdout, installed.stderr
