"""Write evidence packages as BagIt 1.0 bags (RFC 8493) with a hash-chained chain-of-custody log.

Layout: bagit.txt, bag-info.txt, data/<payload>, manifest-sha256.txt, custody-log.jsonl (a tag
file) and tagmanifest-sha256.txt. Verification lives in bag_verify; the formats in bag_format.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from rtcc import __version__
from rtcc.core.clock import utcnow
from rtcc.core.errors import Conflict, InvalidInput, RTCCError
from rtcc.video.evidence.bag_format import (
    BAG_INFO_TXT,
    BAGIT_TXT,
    BAGIT_TXT_CONTENT,
    CHUNK_SIZE,
    COMPUTED_LABELS,
    CUSTODY_LOG,
    GENESIS_SHA256,
    PAYLOAD_DIR,
    PAYLOAD_MANIFEST,
    TAG_MANIFEST,
    check_label,
    custody_line,
    format_manifest,
    format_tag_file,
    hash_file,
    human_size,
    parse_manifest,
    payload_oxum,
    sha256_hex,
)
from rtcc.video.evidence.bag_verify import BagReport, check_tag_files, verify_bag, verify_command

__all__ = [
    "BagReport",
    "BagTampered",
    "BagWriteError",
    "CustodyEvent",
    "InsufficientStorage",
    "PayloadFile",
    "append_custody_event",
    "verify_bag",
    "verify_command",
    "write_bag",
]

# The tag files a fresh bag's tag manifest covers, in the order listed.
TAG_FILES = (BAGIT_TXT, BAG_INFO_TXT, PAYLOAD_MANIFEST, CUSTODY_LOG)
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


class BagWriteError(RTCCError):
    """An evidence bag could not be written; nothing was left at the destination."""

    code = "bag_write_failed"
    status_code = 500


class InsufficientStorage(BagWriteError):
    """The disk (or quota) filled up while writing a bag; the partial bag was removed."""

    code = "insufficient_storage"
    status_code = 507


class BagTampered(RTCCError):
    """A custody event was refused because the bag's tag files no longer verify."""

    code = "bag_tampered"
    status_code = 409


@dataclass(frozen=True)
class PayloadFile:
    """A file to copy into the bag: `source` on disk, `name` its relative path under data/ ('/'-separated)."""

    source: Path
    name: str


@dataclass(frozen=True)
class CustodyEvent:
    """Who did what to the evidence, and when (UTC; None means now)."""

    actor: str
    action: str
    details: dict = field(default_factory=dict)
    at: datetime | None = None


def write_bag(destination: Path, *, payload: list[PayloadFile], bag_info: dict[str, str | list[str]],
              custody_events: list[CustodyEvent]) -> Path:
    """Create a complete bag at `destination` atomically (built in a sibling temp dir, then renamed)."""
    destination = Path(destination)
    if os.path.lexists(destination):
        raise Conflict(f"evidence bag destination {destination} already exists; refusing to overwrite it")
    names = _checked_payload_names(payload)
    info_fields = _checked_bag_info(bag_info)
    if not custody_events:
        raise InvalidInput("an evidence bag needs at least one custody event (who exported it, and why)")
    lines = _custody_lines(custody_events, previous_line=None)
    destination.parent.mkdir(parents=True, exist_ok=True)
    _check_free_space(destination.parent, payload)

    staging = destination.parent / f".{destination.name}.partial-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        digests: dict[str, str] = {}
        octets = 0
        for item, name in zip(payload, names):
            target = staging / PAYLOAD_DIR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest, size = _copy_with_sha256(Path(item.source), target)
            digests[f"{PAYLOAD_DIR}/{name}"] = digest
            octets += size
        (staging / PAYLOAD_DIR).mkdir(exist_ok=True)  # an empty payload is still a valid bag
        info_fields += [
            ("Bagging-Date", utcnow().date().isoformat()),
            ("Bag-Software-Agent", f"OpenRTCC {__version__}"),
            ("Payload-Oxum", payload_oxum(octets, len(payload))),
            ("Bag-Size", human_size(octets)),
        ]
        _write_durably(staging / BAGIT_TXT, BAGIT_TXT_CONTENT.encode("utf-8"))
        _write_durably(staging / BAG_INFO_TXT, format_tag_file(info_fields).encode("utf-8"))
        _write_durably(staging / PAYLOAD_MANIFEST, format_manifest(digests).encode("utf-8"))
        _write_durably(staging / CUSTODY_LOG, b"".join(line + b"\n" for line in lines))
        _write_durably(staging / TAG_MANIFEST, _tag_manifest(staging, TAG_FILES, "sha256").encode("utf-8"))
        _fsync_tree(staging)
        _rename_into_place(staging, destination)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError) and error.errno in _NO_SPACE:
            raise InsufficientStorage(
                f"not enough disk space to write evidence bag {destination} "
                f"({_payload_bytes(payload)} payload bytes); the partial bag was removed") from error
        raise
    _fsync_directory(destination.parent)
    return destination


def append_custody_event(bag: Path, event: CustodyEvent) -> None:
    """Add one chained line to the bag's custody log and rewrite its tag manifest(s) to match."""
    bag = Path(bag)
    with _bag_lock(bag):
        # Rewriting the tag manifest over edited tag files would launder the edit, so check first.
        problems = check_tag_files(bag)
        if problems:
            raise BagTampered(f"refusing to add a custody event to {bag}: " + "; ".join(problems))
        log_path = bag / CUSTODY_LOG
        log = log_path.read_bytes()
        previous_line = log[:-1].rsplit(b"\n", 1)[-1]
        (line,) = _custody_lines([event], previous_line=previous_line)
        _replace_durably(log_path, log + line + b"\n")
        for manifest in sorted(bag.glob("tagmanifest-*.txt")):
            algorithm = manifest.name[len("tagmanifest-"):-len(".txt")]
            listed, _ = parse_manifest(manifest.read_text(encoding="utf-8"))
            _replace_durably(manifest, _tag_manifest(bag, list(listed), algorithm).encode("utf-8"))


# --- checks on the caller's input -----------------------------------------------------------

def _checked_payload_names(payload: list[PayloadFile]) -> list[str]:
    """The payload names, refused when unsafe or colliding (also case-insensitively, for NTFS/APFS copies)."""
    names, seen = [], {}
    folders = {"/".join(PurePosixPath(item.name).parts[:end]).casefold()
               for item in payload for end in range(1, len(PurePosixPath(item.name).parts))}
    for item in payload:
        name = item.name
        parts = PurePosixPath(name).parts
        if (not name or name.startswith("/") or "\\" in name or "\0" in name or name != "/".join(parts)
                or any(part in (".", "..") for part in parts)):
            raise InvalidInput(f"payload name {name!r} must be a relative '/'-separated path without '.' or '..'")
        folded = name.casefold()
        if folded in seen or folded in folders:
            raise InvalidInput(f"payload name {name!r} collides with another payload name or folder")
        seen[folded] = name
        source = Path(item.source)
        if not source.is_file():
            raise InvalidInput(f"payload source {source} is not a readable regular file")
        names.append(name)
    return names


def _checked_bag_info(bag_info: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    """(label, value) pairs in the caller's order, a list value giving one line per element."""
    fields = []
    for label, value in bag_info.items():
        try:
            check_label(label)
        except ValueError as error:
            raise InvalidInput(str(error)) from error
        if label.casefold() in COMPUTED_LABELS:
            raise InvalidInput(f"bag-info label {label} is computed by the bag writer; do not supply it")
        for item in [value] if isinstance(value, str) else list(value):
            if not isinstance(item, str) or "\n" in item or "\r" in item:
                raise InvalidInput(f"bag-info value for {label} must be single-line text, got {item!r}")
            fields.append((label, item))
    return fields


def _check_free_space(directory: Path, payload: list[PayloadFile]) -> None:
    """Fail before copying gigabytes when the payload alone cannot fit."""
    needed = _payload_bytes(payload)
    free = shutil.disk_usage(directory).free
    if needed > free:
        raise InsufficientStorage(f"not enough disk space for evidence bag in {directory}: "
                                  f"payload is {needed} bytes, {free} bytes free")


def _payload_bytes(payload: list[PayloadFile]) -> int:
    return sum(Path(item.source).stat().st_size for item in payload)


def _custody_lines(events: list[CustodyEvent], *, previous_line: bytes | None) -> list[bytes]:
    """Serialised custody lines, each pointing at the SHA-256 of the one before."""
    lines = []
    previous = GENESIS_SHA256 if previous_line is None else sha256_hex(previous_line)
    for event in events:
        at = event.at or utcnow()
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput(f"custody event time {at!r} must be timezone-aware (UTC)")
        if not event.actor or not event.action:
            raise InvalidInput("a custody event needs an actor and an action")
        try:
            line = custody_line(at=at, actor=event.actor, action=event.action, details=dict(event.details),
                                prev_sha256=previous)
        except (TypeError, ValueError) as error:
            raise InvalidInput(f"custody event details for {event.action}: {error}") from error
        lines.append(line)
        previous = sha256_hex(line)
    return lines


# --- writing ----------------------------------------------------------------------------------

def _copy_with_sha256(source: Path, target: Path) -> tuple[str, int]:
    """Copy source to a new file at target in chunks, hashing as it goes; (hex digest, size)."""
    hasher = hashlib.sha256()
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    size = 0
    with open(source, "rb") as reader, open(target, "xb") as writer:
        while count := reader.readinto(buffer):
            hasher.update(view[:count])
            writer.write(view[:count])
            size += count
        writer.flush()
        os.fsync(writer.fileno())
    return hasher.hexdigest(), size


def _tag_manifest(bag: Path, paths: list[str] | tuple[str, ...], algorithm: str) -> str:
    """Tag-manifest text for the given bag-relative tag files."""
    return format_manifest({path: hash_file(bag / path, (algorithm,))[0][algorithm] for path in paths})


def _rename_into_place(staging: Path, destination: Path) -> None:
    """Rename the finished bag to its destination, never over something that appeared meanwhile."""
    # rename() fails on an existing file or non-empty directory (an empty one holds nothing to lose).
    try:
        os.rename(staging, destination)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            raise Conflict(f"evidence bag destination {destination} appeared while writing; not overwritten") \
                from error
        raise


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _replace_durably(path: Path, data: bytes) -> None:
    """Swap in new file content atomically (write a temp file beside it, fsync, rename)."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        _write_durably(temporary, data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_tree(root: Path) -> None:
    """fsync every directory under root so the renamed bag survives a power cut."""
    for directory, _, _ in os.walk(root):
        _fsync_directory(Path(directory))


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _bag_lock(bag: Path) -> Iterator[None]:
    """Serialise custody appends to one bag across processes (advisory flock on the bag directory)."""
    if not bag.is_dir():
        raise InvalidInput(f"{bag} is not an evidence bag directory")
    try:
        import fcntl
    except ImportError:  # Windows: no flock; appends there must not race
        yield
        return
    descriptor = os.open(bag, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
