"""Verify an evidence bag: BagIt 1.0 structure, every checksum (streamed), Payload-Oxum, the custody chain."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from rtcc.core.errors import RTCCError
from rtcc.video.evidence.bag_format import (
    BAG_INFO_TXT,
    BAGIT_TXT,
    BAGIT_VERSION,
    CUSTODY_FIELDS,
    CUSTODY_LOG,
    GENESIS_SHA256,
    PAYLOAD_DIR,
    TAG_MANIFEST,
    hash_file,
    parse_manifest,
    parse_tag_file,
    payload_oxum,
    sha256_hex,
)


class NotABag(RTCCError):
    """The path is not a BagIt bag at all (no directory, or no bagit.txt)."""

    code = "not_a_bag"
    status_code = 422


@dataclass
class BagReport:
    """Outcome of verify_bag; `fingerprint` (SHA-256 of the tag manifest) pins the whole bag when kept elsewhere."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    bytes_checked: int = 0
    fingerprint: str | None = None


def verify_bag(bag: Path) -> BagReport:
    """Check everything a bag claims about itself; each problem names the file it concerns."""
    bag = Path(bag)
    if not bag.is_dir() or not (bag / BAGIT_TXT).is_file():
        raise NotABag(f"{bag} is not a BagIt bag (no directory with a {BAGIT_TXT})")
    problems = check_tag_files(bag)
    payload_problems, files_checked, bytes_checked, on_disk = _check_payload(bag)
    problems += payload_problems + _check_oxum(bag, on_disk)
    tag_manifest = bag / TAG_MANIFEST
    fingerprint = hash_file(tag_manifest)[0]["sha256"] if tag_manifest.is_file() else None
    return BagReport(ok=not problems, problems=problems, files_checked=files_checked,
                     bytes_checked=bytes_checked, fingerprint=fingerprint)


def check_tag_files(bag: Path) -> list[str]:
    """Problems with the tag files alone (bagit.txt, bag-info.txt, tag manifests, custody log): cheap."""
    problems = _check_bagit_txt(bag)
    problems += _check_tag_manifests(bag)
    problems += check_custody_log(bag / CUSTODY_LOG)
    try:
        _read_tags(bag / BAG_INFO_TXT)
    except FileNotFoundError:
        problems.append(f"{BAG_INFO_TXT}: missing")
    except ValueError as error:
        problems.append(f"{BAG_INFO_TXT}: {error}")
    return problems


def check_custody_log(path: Path) -> list[str]:
    """Problems with the custody log: unreadable lines, missing fields, or a broken hash chain."""
    name = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [f"{name}: missing (no chain of custody)"]
    if not raw:
        return [f"{name}: empty (no custody events)"]
    problems = [] if raw.endswith(b"\n") else [f"{name}: last line has no line end (truncated?)"]
    expected_previous = GENESIS_SHA256
    for number, line in enumerate(raw.removesuffix(b"\n").split(b"\n"), 1):
        problem = _custody_line_problem(line, expected_previous, number)
        if problem:
            problems.append(f"{name} line {number}: {problem}")
        expected_previous = sha256_hex(line)
    return problems


def verify_command(path: Path | str) -> int:
    """`rtcc export verify PATH`: print the outcome; 0 intact, 1 problems found, 2 not a bag."""
    try:
        report = verify_bag(Path(path))
    except NotABag as error:
        print(error.message, file=sys.stderr)
        return 2
    if report.ok:
        print(f"bag intact: {report.files_checked} files, {report.bytes_checked} bytes verified")
        print(f"fingerprint (SHA-256 of {TAG_MANIFEST}): {report.fingerprint}")
        return 0
    print(f"bag NOT intact: {len(report.problems)} problem(s) in {path}", file=sys.stderr)
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """`python -m rtcc.video.evidence.bag_verify PATH`, for machines without the rest of OpenRTCC set up."""
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m rtcc.video.evidence.bag_verify BAG_DIRECTORY", file=sys.stderr)
        return 2
    return verify_command(arguments[0])


# --- tag files --------------------------------------------------------------------------------

def _check_bagit_txt(bag: Path) -> list[str]:
    raw = (bag / BAGIT_TXT).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return [f"{BAGIT_TXT}: starts with a byte-order mark (RFC 8493 forbids one)"]
    try:
        tags = dict(parse_tag_file(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError) as error:
        return [f"{BAGIT_TXT}: unreadable ({error})"]
    problems = []
    if tags.get("BagIt-Version") != BAGIT_VERSION:
        problems.append(f"{BAGIT_TXT}: BagIt-Version is {tags.get('BagIt-Version')!r}, expected {BAGIT_VERSION}")
    if (tags.get("Tag-File-Character-Encoding") or "").upper() not in ("UTF-8", "UTF8"):
        problems.append(f"{BAGIT_TXT}: Tag-File-Character-Encoding is "
                        f"{tags.get('Tag-File-Character-Encoding')!r}, expected UTF-8")
    return problems


def _check_tag_manifests(bag: Path) -> list[str]:
    manifests = sorted(bag.glob("tagmanifest-*.txt"))
    if not (bag / TAG_MANIFEST).is_file():
        return [f"{TAG_MANIFEST}: missing (tag files cannot be checked)"]
    problems, listed = [], set()
    for manifest in manifests:
        algorithm = manifest.name[len("tagmanifest-"):-len(".txt")]
        entries, line_problems = _read_manifest(manifest, algorithm)
        problems += line_problems
        for path, expected in sorted(entries.items()):
            listed.add(path)
            if not _is_safe(path) or path.startswith(f"{PAYLOAD_DIR}/"):
                problems.append(f"{path}: listed in {manifest.name} but is not a tag file path")
            elif not (bag / path).is_file():
                problems.append(f"{path}: listed in {manifest.name} but missing")
            else:
                actual = hash_file(bag / path, (algorithm,))[0][algorithm]
                if actual != expected:
                    problems.append(f"{path}: {_label(algorithm)} mismatch "
                                    f"(tagmanifest {_short(expected)}, actual {_short(actual)})")
    for path in _tag_files_on_disk(bag):
        if path not in listed:
            problems.append(f"{path}: tag file not listed in {TAG_MANIFEST}")
    return problems


def _tag_files_on_disk(bag: Path) -> list[str]:
    """Every file outside data/ except the tag manifests themselves, as bag-relative '/' paths."""
    found = []
    for directory, folders, files in os.walk(bag):
        relative = Path(directory).relative_to(bag)
        if relative == Path("."):
            folders[:] = [folder for folder in folders if folder != PAYLOAD_DIR]
        for name in files:
            path = (relative / name).as_posix()
            if not re.fullmatch(r"tagmanifest-[^/]+\.txt", path):
                found.append(path)
    return sorted(found)


def _custody_line_problem(line: bytes, expected_previous: str, number: int) -> str | None:
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not a JSON object"
    if not isinstance(record, dict) or set(record) != set(CUSTODY_FIELDS):
        return f"expected exactly the fields {', '.join(CUSTODY_FIELDS)}"
    if record["prev_sha256"] != expected_previous:
        before = "the start of the log" if number == 1 else f"line {number - 1}"
        return f"hash chain broken: prev_sha256 does not match {before} (a line was edited, removed or reordered)"
    time = record["time"]
    if not isinstance(time, str) or not time.endswith("Z") or not _parses_as_time(time):
        return f"time {time!r} is not ISO 8601 UTC ending in Z"
    if not isinstance(record["actor"], str) or not isinstance(record["action"], str):
        return "actor and action must be text"
    return None


def _parses_as_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.removesuffix("Z") + "+00:00")
    except ValueError:
        return False
    return True


# --- payload ----------------------------------------------------------------------------------

def _check_payload(bag: Path) -> tuple[list[str], int, int, tuple[int, int]]:
    """Problems, files hashed, bytes hashed, and (octets, files) actually under data/."""
    problems: list[str] = []
    expected: dict[str, dict[str, str]] = {}  # NFC path -> {algorithm: hex}
    manifests = sorted(bag.glob("manifest-*.txt"))
    if not manifests:
        problems.append("manifest-sha256.txt: missing (a bag needs a payload manifest)")
    for manifest in manifests:
        algorithm = manifest.name[len("manifest-"):-len(".txt")]
        entries, line_problems = _read_manifest(manifest, algorithm)
        problems += line_problems
        for path, digest in entries.items():
            if not _is_safe(path) or not path.startswith(f"{PAYLOAD_DIR}/"):
                problems.append(f"{path}: listed in {manifest.name} but is not a path inside {PAYLOAD_DIR}/")
                continue
            expected.setdefault(unicodedata.normalize("NFC", path), {})[algorithm] = digest
    algorithms = {manifest.name[len("manifest-"):-len(".txt")] for manifest in manifests}
    algorithms &= hashlib.algorithms_available
    listed_in = ", ".join(manifest.name for manifest in manifests) or "a payload manifest"

    files_checked = bytes_checked = octets = count = 0
    for disk_path, path in _payload_on_disk(bag, problems):
        # A bag copied through macOS may store names NFD-normalised; match on NFC.
        key = unicodedata.normalize("NFC", path)
        count += 1
        octets += disk_path.stat().st_size
        wanted = expected.pop(key, None)
        if wanted is None:
            problems.append(f"{path}: in {PAYLOAD_DIR}/ but not listed in {listed_in}")
            continue
        for algorithm in sorted(algorithms - set(wanted)):
            problems.append(f"{path}: not listed in manifest-{algorithm}.txt")
        try:
            actual, size = hash_file(disk_path, sorted(set(wanted) & algorithms))
        except OSError as error:
            problems.append(f"{path}: unreadable ({error.strerror or error})")
            continue
        files_checked += 1
        bytes_checked += size
        for algorithm, digest in sorted(actual.items()):
            if digest != wanted[algorithm]:
                problems.append(f"{path}: {_label(algorithm)} mismatch "
                                f"(manifest {_short(wanted[algorithm])}, actual {_short(digest)})")
    for path in sorted(expected):
        problems.append(f"{path}: listed in {listed_in} but missing")
    return problems, files_checked, bytes_checked, (octets, count)


def _payload_on_disk(bag: Path, problems: list[str]) -> list[tuple[Path, str]]:
    """(path on disk, bag-relative '/' path) of each regular file under data/; links are problems."""
    root = bag / PAYLOAD_DIR
    if not root.is_dir():
        problems.append(f"{PAYLOAD_DIR}/: missing (no payload directory)")
        return []
    found = []
    for directory, folders, files in os.walk(root):
        for name in sorted(files) + [folder for folder in folders if Path(directory, folder).is_symlink()]:
            disk_path = Path(directory, name)
            path = disk_path.relative_to(bag).as_posix()
            if disk_path.is_symlink():
                problems.append(f"{path}: is a symbolic link, not evidence content")
            elif disk_path.is_file():
                found.append((disk_path, path))
            else:
                problems.append(f"{path}: not a regular file")
    return sorted(found, key=lambda item: item[1])


def _check_oxum(bag: Path, on_disk: tuple[int, int]) -> list[str]:
    try:
        tags = _read_tags(bag / BAG_INFO_TXT)
    except (FileNotFoundError, ValueError):
        return []  # already reported by check_tag_files
    oxum = next((value for label, value in tags if label.casefold() == "payload-oxum"), None)
    actual = payload_oxum(*on_disk)
    if oxum is not None and oxum != actual:
        return [f"{BAG_INFO_TXT}: Payload-Oxum is {oxum} but {PAYLOAD_DIR}/ holds {actual} (octets.files)"]
    return []


# --- helpers ----------------------------------------------------------------------------------

def _read_tags(path: Path) -> list[tuple[str, str]]:
    try:
        return parse_tag_file(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 ({error})") from error


def _read_manifest(manifest: Path, algorithm: str) -> tuple[dict[str, str], list[str]]:
    """Entries of a (tag) manifest and its problems, each naming the manifest."""
    if algorithm not in hashlib.algorithms_available:
        return {}, [f"{manifest.name}: unsupported checksum algorithm {algorithm!r}"]
    try:
        entries, line_problems = parse_manifest(manifest.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        return {}, [f"{manifest.name}: not UTF-8 ({error})"]
    return entries, [f"{manifest.name} {problem}" for problem in line_problems]


def _is_safe(path: str) -> bool:
    """A relative path that stays inside the bag."""
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts


def _label(algorithm: str) -> str:
    return re.sub(r"^SHA(\d)", r"SHA-\1", algorithm.upper())


def _short(digest: str) -> str:
    return f"{digest[:12]}…"


if __name__ == "__main__":
    sys.exit(main())
