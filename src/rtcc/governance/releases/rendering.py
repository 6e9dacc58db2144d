"""A release's copy on disk and its render: where copies live, the render itself (outside any transaction, seconds
to minutes), and finding renders cut off by a restart or a crash.

While a render runs, its process holds an advisory lock on a file beside the copy it writes; the operating system
lets go of that lock when the process ends, however it ends, so a render whose lock can be taken was cut off and
`recover_interrupted_renders` marks it interrupted, to be rendered again.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.core.actor import SYSTEM, Actor
from rtcc.core.runtime import Runtime
from rtcc.governance.releases import redaction
from rtcc.governance.releases.events import ReleaseRendered, ReleaseRenderInterrupted
from rtcc.governance.releases.models import ReleaseRequest
from rtcc.video.recording.storage import sha256_of

log = logging.getLogger(__name__)
INTERRUPTED_REASON = ("The render was cut off before it ended (the server stopped or crashed while it ran); "
                      "its partial copy was removed. Render it again.")



def releases_root(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / "releases"


def source_file(runtime: Runtime, release: ReleaseRequest) -> Path:
    return runtime.settings.data_dir / release.source_path


def release_event(cls, release: ReleaseRequest, **fields):
    return cls(agency_ori=release.agency_ori, release_id=release.id,
               records_request_number=release.records_request_number, status=release.status, **fields)


def _render_lock_file(runtime: Runtime, copy_name: str) -> Path:
    return releases_root(runtime) / Path(copy_name).with_suffix(".rendering")


def _take_render_lock(runtime: Runtime, copy_name: str) -> TextIO | None:
    """The open lock file of the render writing `copy_name`, now held by this process; None while another holds it."""
    path = _render_lock_file(runtime, copy_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _let_go_of_render_lock(runtime: Runtime, copy_name: str, handle: TextIO) -> None:
    # Whoever takes the lock reads the release again before acting, so removing the file while held is safe.
    _render_lock_file(runtime, copy_name).unlink(missing_ok=True)
    handle.close()


def _render_is_running(runtime: Runtime, release: ReleaseRequest) -> bool:
    """Whether a living process (this one or another) is rendering this release's current copy."""
    if release.status != "rendering" or not release.release_path:
        return False
    handle = _take_render_lock(runtime, release.release_path)
    if handle is None:
        return True
    _let_go_of_render_lock(runtime, release.release_path, handle)
    return False


def _drop_copy(runtime: Runtime, release: ReleaseRequest) -> None:
    """A copy no longer matching the request (a box was added, a render is redone) is not kept."""
    if release.release_path:
        (releases_root(runtime) / release.release_path).unlink(missing_ok=True)
    release.release_path = release.release_sha256 = release.release_bytes = None


def render(*, runtime: Runtime, actor: Actor, release_id: int, copy_name: str) -> None:
    """Make the release copy `copy_name` (the name start_render recorded) of a request marked rendering, and record
    how it went (a failure says why). The render's lock is held throughout: while it is, no one calls it cut off."""
    lock = _take_render_lock(runtime, copy_name)
    if lock is None:  # being rendered, or found interrupted, this very moment
        return
    try:
        _render_holding_lock(runtime=runtime, actor=actor, release_id=release_id, name=copy_name)
    finally:
        _let_go_of_render_lock(runtime, copy_name, lock)


def _render_holding_lock(*, runtime: Runtime, actor: Actor, release_id: int, name: str) -> None:
    with runtime.database.read_session() as session:
        release = session.get(ReleaseRequest, release_id)
        if release is None or release.status != "rendering" or release.release_path != name:
            return  # changed, rendered again or found interrupted before this render began
        source, expected = source_file(runtime, release), release.original_sha256
        boxes = [redaction.ManualBox(frame=b["frame"], box=tuple(b["box"]), last_frame=b.get("last_frame"))
                 for b in release.manual_boxes or []]
    output = releases_root(runtime) / name
    output.parent.mkdir(parents=True, exist_ok=True)
    started = clock.utcnow()
    outcome, error, result = "failure", None, None
    try:
        if not source.is_file() or sha256_of(source) != expected:
            raise redaction.RedactionError("The source clip is missing or no longer matches the SHA-256 recorded "
                                           "when the release was requested.", code="source_changed")
        result = redaction.redact_clip(source, output, manual_boxes=boxes, ffmpeg=runtime.settings.ffmpeg_path)
        outcome = "success"
    except redaction.RedactionError as failure:
        error = failure.message
    except Exception as failure:  # the request must leave "rendering" whatever went wrong
        log.exception("release %s: render failed", release_id)
        error = f"The render failed: {failure}"
    with runtime.database.session() as session:
        release = session.get(ReleaseRequest, release_id)
        if release is None or release.status != "rendering" or release.release_path != name:
            output.unlink(missing_ok=True)  # changed, or rendered again, meanwhile: this copy is not wanted
            return
        release.render_seconds = (clock.utcnow() - started).total_seconds()
        if result is not None:
            release.status, release.rendered_at = "rendered", clock.utcnow()
            release.release_sha256, release.release_bytes = sha256_of(output), output.stat().st_size
            release.redactions = {**result.summary(), "original_sha256": release.original_sha256}
        else:
            output.unlink(missing_ok=True)
            release.status, release.render_error, release.release_path = "failed", error, None
        audit.record(session, keys=runtime.keys, actor=actor,
                     event=release_event(ReleaseRendered, release, release_sha256=release.release_sha256),
                     outcome=outcome, object_type="release", object_id=release.id, purpose=release.purpose,
                     details={"error": error, "release_sha256": release.release_sha256,
                              "original_sha256": release.original_sha256,
                              "redactions": {k: v for k, v in (release.redactions or {}).items() if k != "manual"}
                              if result else None})


def recover_interrupted_renders(runtime: Runtime) -> list[int]:
    """Releases left "rendering" by a process that is gone become "interrupted", to be rendered again: the partial
    copy is removed (the source clip is never touched) and the system's finding is audited. Returns their ids.

    Not re-queued on its own: a render that takes a server down (out of memory) would do it again at every start."""
    with runtime.database.read_session() as session:
        found = session.execute(select(ReleaseRequest.id, ReleaseRequest.release_path)
                                .where(ReleaseRequest.status == "rendering")).all()
    recovered = []
    for release_id, name in found:
        lock = _take_render_lock(runtime, name) if name else None
        if name and lock is None:
            continue  # a living process is rendering it
        try:
            if _mark_interrupted(runtime, release_id, name):
                recovered.append(release_id)
        finally:
            if lock is not None:
                _let_go_of_render_lock(runtime, name, lock)
    return recovered


def _mark_interrupted(runtime: Runtime, release_id: int, name: str | None) -> bool:
    with runtime.database.session() as session:
        release = session.get(ReleaseRequest, release_id)
        if release is None or release.status != "rendering" or release.release_path != name:
            return False  # it ended, or was started again, since it was listed
        partial = releases_root(runtime) / name if name else None
        partial_bytes = partial.stat().st_size if partial is not None and partial.is_file() else 0
        _drop_copy(runtime, release)
        release.status, release.render_error = "interrupted", INTERRUPTED_REASON
        log.warning("release %s: a render cut off before it ended is marked interrupted", release_id)
        audit.record(session, keys=runtime.keys, actor=SYSTEM, event=release_event(ReleaseRenderInterrupted, release),
                     outcome="failure", object_type="release", object_id=release.id, purpose=release.purpose,
                     details={"reason": INTERRUPTED_REASON, "partial_copy": name,
                              "partial_bytes_removed": partial_bytes, "original_sha256": release.original_sha256})
    return True
