"""The wired-up process: settings, database, keys and bus, built once and handed to services."""

from __future__ import annotations

import grp
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event as sqlalchemy_event

from rtcc.core.bus import EventBus, create_bus
from rtcc.core.config import CoreSettings
from rtcc.core.database import Database
from rtcc.core.events import take_pending
from rtcc.core.keys import KeyRing

log = logging.getLogger(__name__)
OWNER_ONLY = ("keys",)  # signing keys stay the server's own, even for the data group (they could forge audit heads)


def data_dir_umask(settings: CoreSettings) -> int:
    """The umask the server runs under: nothing for other accounts; read for the data group if one is named."""
    return 0o027 if settings.data_group else 0o077


def apply_data_dir_umask(settings: CoreSettings) -> None:
    """Set the process umask (rtcc serve and demo): files made later, by us or our ffmpeg children, inherit it."""
    os.umask(data_dir_umask(settings))


def protect_data_dir(settings: CoreSettings) -> None:
    """Create the data dir, then take from every file and folder in it what other accounts could read or enter.

    With data_group, the tree belongs to that group, readable by it (folders setgid, so new files join it).
    """
    gid = _data_group_id(settings.data_group)
    root = settings.data_dir
    root.mkdir(parents=True, exist_ok=True)
    # The whole tree is walked once per data group: after that the server's umask keeps new files
    # tight, and every command that builds a runtime need not stat millions of segments again.
    marker, wanted = root / PROTECTED_MARKER, f"data_group={settings.data_group or ''}\n"
    if _read_marker(marker) == wanted and not os.stat(marker).st_mode & 0o007:  # a loosened marker: walk again
        _tighten(root, directory=True, gid=gid)
        return
    not_ours = []
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        owner_only = gid is None or any(part in OWNER_ONLY for part in here.relative_to(root).parts)
        for path, directory in ((here, True), *((here / name, False) for name in files)):
            if not path.is_symlink() and not _tighten(path, directory=directory, gid=None if owner_only else gid):
                not_ours.append(path)
    if not_ours:  # once, not once a file: a tree of another account's files would flood the log
        log.warning("cannot restrict %d files in the data dir (not owned by this account), e.g. %s",
                    len(not_ours), not_ours[0])
        return  # walked again at the next start, when someone may have fixed the owners
    try:
        marker.write_text(wanted)
        _tighten(marker, directory=False, gid=gid)
    except OSError as error:  # a read-only data dir: walked again next time, no harm done
        log.warning("cannot write %s: %s", marker, error)


PROTECTED_MARKER = ".modes-protected"


def _read_marker(marker: Path) -> str | None:
    try:
        return marker.read_text()
    except OSError:
        return None


def _data_group_id(name: str | None) -> int | None:
    if not name:
        return None
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ValueError(f"RTCC_DATA_GROUP names a group that does not exist: {name!r}") from None


def _tighten(path: Path, *, directory: bool, gid: int | None) -> bool:
    """Take from one file or folder what it grants beyond its owner (and the data group); False if not ours."""
    try:
        info = os.lstat(path)
        if gid is None:
            mode = stat.S_IMODE(info.st_mode) & ~0o077
        else:
            if info.st_gid != gid:
                os.chown(path, -1, gid)
            readable = 0o050 if directory else 0o040
            mode = (stat.S_IMODE(info.st_mode) & ~0o027) | readable | (stat.S_ISGID if directory else 0)
        if mode != stat.S_IMODE(info.st_mode):
            os.chmod(path, mode)
    except FileNotFoundError:  # removed while we walked (a segment purged, a temp file renamed)
        pass
    except PermissionError:  # not ours: said once by the caller rather than stopping the server
        return False
    return True


@dataclass
class Runtime:
    """Everything a service may need from the outside world."""

    settings: CoreSettings
    database: Database
    keys: KeyRing
    bus: EventBus

    def close(self) -> None:
        self.database.dispose()


def build_runtime(settings: CoreSettings, *, bus: EventBus | None = None) -> Runtime:
    """Wire the adapters named by the settings; events leave only after their transaction commits."""
    protect_data_dir(settings)
    database = Database(settings)
    runtime = Runtime(settings=settings, database=database, keys=KeyRing(settings.keys_dir), bus=bus or create_bus(settings))

    @sqlalchemy_event.listens_for(database.session_factory, "after_commit")
    def _publish_committed(session):
        for pending in take_pending(session):
            runtime.bus.publish(pending)

    @sqlalchemy_event.listens_for(database.session_factory, "after_rollback")
    def _discard_rolled_back(session):
        take_pending(session)

    return runtime
