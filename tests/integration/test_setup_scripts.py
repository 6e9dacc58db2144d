"""The project's own install scripts, as a fresh machine meets them."""

import fcntl
import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DPKG_FRONTEND_LOCK = Path("/var/lib/dpkg/lock-frontend")


def _apt_get_is_waiting(process: subprocess.Popen) -> bool:
    # The script runs apt-get in a command substitution: look through the script's whole session.
    children = subprocess.run(["pgrep", "-s", str(process.pid), "-x", "apt-get"], capture_output=True, text=True)
    return bool(children.stdout.strip())


@pytest.mark.skipif(os.geteuid() != 0 or not DPKG_FRONTEND_LOCK.exists(), reason="needs root on Debian")
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
