"""Data at rest: a running `rtcc serve` leaves nothing in its data dir that another account can read."""

from __future__ import annotations

import grp
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from support import TEST_AGENCY, free_port, make_test_clip, wait_until

from rtcc.auth import service as accounts
from rtcc.auth.models import Agency
from rtcc.cameras.service import new_camera
from rtcc.settings import Settings
from rtcc.core.runtime import PROTECTED_MARKER, build_runtime, protect_data_dir

POLICY = {"allow_file_streams": True, "camera_network_allowlist": ["127.0.0.0/8"]}  # a file camera, where a policy asks


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_test_clip(tmp_path_factory.mktemp("clips") / "lobby.mp4", gop=10)


def a_group_to_share_with() -> grp.struct_group:
    """A group this account may give its files to, other than its own primary group where one exists."""
    candidates = [entry for entry in grp.getgrall() if entry.gr_gid != os.getgid()]
    if os.geteuid() != 0:  # only root may chgrp to a group it is not in
        candidates = [entry for entry in candidates if entry.gr_gid in os.getgroups()]
    return candidates[0] if candidates else grp.getgrgid(os.getgid())


def an_old_install(data_dir: Path, clip: Path) -> None:
    """A data dir as an earlier version left it: a recording camera, and everything world-readable."""
    runtime = build_runtime(Settings(data_dir=data_dir, **{k: v for k, v in POLICY.items() if k in Settings.model_fields}))
    try:
        runtime.database.upgrade()
        with runtime.database.session() as db:
            accounts.ensure_agency(db, runtime=runtime, ori=TEST_AGENCY, name="Test Sheriff")
        with runtime.database.session() as db:
            agency_id = db.execute(select(Agency.id).where(Agency.ori == TEST_AGENCY)).scalar_one()
            db.add(new_camera(runtime=runtime, agency_id=agency_id, values={
                "name": "Lobby", "kind": "city_fixed", "latitude": 34.0, "longitude": -118.0,
                "main_stream_url": f"file://{clip}"}))
    finally:
        runtime.close()
    for relative, content in (("media/cam7/2026-01-01/120000.000_old_000001.mp4", b"\0" * 64),
                              ("plates/cam7/2026-01-01/120000_7ABC123.jpg", b"\xff\xd8\xff"),
                              ("exports/case-1/manifest.txt", b"evidence")):
        (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / relative).write_bytes(content)
    (data_dir / PROTECTED_MARKER).unlink()  # earlier versions never walked the tree
    for folder, folders, files in os.walk(data_dir):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(Path(folder) / name, 0o644)


def modes(data_dir: Path) -> dict[str, tuple[int, int, bool]]:
    """(permission bits, group id, is a folder) of everything in the data dir, the dir itself included."""
    found = {".": (stat.S_IMODE(data_dir.stat().st_mode), data_dir.stat().st_gid, True)}
    for path in data_dir.rglob("*"):
        if not path.is_symlink():
            info = path.stat()
            found[str(path.relative_to(data_dir))] = (stat.S_IMODE(info.st_mode), info.st_gid, path.is_dir())
    return found


@pytest.mark.parametrize("shared_with_group", [False, True], ids=["owner-only", "data-group"])
def test_the_server_leaves_no_file_of_the_data_dir_readable_by_other_accounts(tmp_path, clip, shared_with_group):
    data_dir, port = tmp_path / "data", free_port()
    an_old_install(data_dir, clip)
    group = a_group_to_share_with() if shared_with_group else None
    environment = {**os.environ, "RTCC_DATA_DIR": str(data_dir), "RTCC_PORT": str(port), "RTCC_DATABASE_URL": "",
                   "RTCC_SEGMENT_SECONDS": "1", "RTCC_RECORDER_RECONCILE_SECONDS": "0.5", "RTCC_VIDEO_READS_ENABLED": "false",
                   **{f"RTCC_{name.upper()}": str(value).lower() if isinstance(value, bool) else f'["{value[0]}"]'
                      for name, value in POLICY.items() if name in Settings.model_fields}}
    if group:
        environment["RTCC_DATA_GROUP"] = group.gr_name
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "serve"], stdout=output, stderr=subprocess.STDOUT,
                                  env=environment)
    try:
        def recorded() -> bool:
            assert server.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.HTTPError:
                return False
            with sqlite3.connect(f"file:{data_dir / 'rtcc.sqlite3'}?mode=ro", uri=True) as connection:
                return connection.execute("SELECT count(*) FROM recording_segments").fetchone()[0] >= 2

        # Segments (written by ffmpeg), the SQLite file with its -wal and -shm, keys: all there while it runs.
        wait_until(recorded, timeout=60, what="two recorded segments")
        running = modes(data_dir)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    stopped = modes(data_dir)

    assert any(name.endswith("-wal") for name in running) and any(name.startswith("media/cam1/") for name in running)
    for moment, found in (("while running", running), ("after stopping", stopped)):
        readable = {name: oct(mode) for name, (mode, _, _) in found.items() if mode & 0o007}
        assert not readable, f"{moment}, other accounts can read or enter: {readable}"
        for name, (mode, gid, is_folder) in found.items():
            if name == "keys" or group is None:
                assert mode & 0o070 == 0, f"{moment}, {name} is open to its group: {oct(mode)}"
            elif name.startswith("keys/"):
                continue  # behind the owner-only keys/ folder, which the group cannot enter
            else:
                wanted = 0o050 if is_folder else 0o040
                assert gid == group.gr_gid and mode & wanted == wanted, \
                    f"{moment}, the data group cannot read {name}: {oct(mode)}, group {gid}"


def test_the_tree_is_walked_once_and_again_when_someone_loosens_it(tmp_path):
    """A start after the first touches only the top folder (a city's millions of segments are not walked by every
    command), unless the data group changed or the modes were loosened by hand."""
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    protect_data_dir(settings)
    segment = data_dir / "media" / "cam1" / "segment.mp4"
    segment.parent.mkdir(parents=True)
    segment.write_bytes(b"\0")
    os.chmod(segment, 0o644)  # not the server's doing: its umask would have made it 0600
    protect_data_dir(settings)
    assert stat.S_IMODE(segment.stat().st_mode) == 0o644  # not walked again
    os.chmod(data_dir / PROTECTED_MARKER, 0o644)  # someone ran chmod -R a+r over the data dir
    protect_data_dir(settings)
    assert stat.S_IMODE(segment.stat().st_mode) == 0o600
