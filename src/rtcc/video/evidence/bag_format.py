"""The text formats of an evidence bag (BagIt 1.0, RFC 8493, plus the custody log), shared by writer and verifier."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rtcc.core.clock import iso

BAGIT_VERSION = "1.0"
BAGIT_TXT = "bagit.txt"
BAG_INFO_TXT = "bag-info.txt"
PAYLOAD_DIR = "data"
PAYLOAD_MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
CUSTODY_LOG = "custody-log.jsonl"
BAGIT_TXT_CONTENT = f"BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n"

# 1 MiB reads keep memory flat on multi-gigabyte clips while amortising syscalls.
CHUNK_SIZE = 1024 * 1024
# What the first custody line names as its predecessor, so every line has the same shape.
GENESIS_SHA256 = "0" * 64
# RFC 8493 §2.2.2 recommends tag lines of at most 79 characters.
FOLD_WIDTH = 79
CUSTODY_FIELDS = ("time", "actor", "action", "details", "prev_sha256")
# Labels the writer computes itself; a caller supplying them would make the bag lie about its own payload.
COMPUTED_LABELS = frozenset({"bagging-date", "payload-oxum", "bag-size", "bag-software-agent"})

# RFC 8493 §2.1.3: in manifest paths CR, LF and % (and only those) are percent-encoded.
_PATH_ESCAPES = {"%": "%25", "\n": "%0A", "\r": "%0D"}
_PATH_UNESCAPE = re.compile("%(25|0A|0D)", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MANIFEST_LINE = re.compile(r"([0-9A-Fa-f]+)[ \t]+(.+)")
_LABEL = re.compile(r"[^\s:]+")


def encode_manifest_path(path: str) -> str:
    """Percent-encode CR, LF and % in a bag-relative path, as RFC 8493 requires in manifests."""
    return "".join(_PATH_ESCAPES.get(char, char) for char in path)


def decode_manifest_path(text: str) -> str:
    """Undo encode_manifest_path (any other %XX is a literal part of the name)."""
    return _PATH_UNESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def split_lines(text: str) -> list[str]:
    """Lines of a tag file, accepting LF, CR or CRLF endings (RFC 8493 §2.1.1), without a final empty one."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def format_manifest(entries: dict[str, str]) -> str:
    """Manifest text: one '<hex>  <encoded path>' line per file, sorted by path."""
    return "".join(f"{digest}  {encode_manifest_path(path)}\n" for path, digest in sorted(entries.items()))


def parse_manifest(text: str) -> tuple[dict[str, str], list[str]]:
    """Map of decoded path -> lower-case hex digest, and the line-level problems (numbered from 1)."""
    entries: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(split_lines(text), 1):
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None:
            problems.append(f"line {number}: not '<checksum> <path>'")
            continue
        path = decode_manifest_path(match.group(2))
        if path in entries:
            problems.append(f"line {number}: {path} listed twice")
        entries[path] = match.group(1).lower()
    return entries, problems


def check_label(label: str) -> None:
    """Raise ValueError unless label is a valid bag-info label (no whitespace, no colon)."""
    if not _LABEL.fullmatch(label):
        raise ValueError(f"bag-info label {label!r} must be non-empty, without whitespace or ':'")


def format_tag_line(label: str, value: str) -> str:
    """One 'Label: value' entry, folded at spaces to FOLD_WIDTH; unfolding removes only the line breaks."""
    check_label(label)
    value = value.strip()
    if "\n" in value or "\r" in value:
        raise ValueError(f"bag-info value for {label} contains a line break; tag values are single lines")
    line, pieces = f"{label}: {value}", []
    while len(line) > FOLD_WIDTH:
        # The break goes before a space, which becomes the continuation's leading whitespace, so no
        # character is lost; at least one non-space character stays before it so no line is blank.
        start = len(label) + 2 if not pieces else len(line) - len(line.lstrip()) + 1
        cut = line.rfind(" ", start, FOLD_WIDTH + 1)
        if cut == -1:
            cut = line.find(" ", max(start, FOLD_WIDTH))  # one long word: break right after it
        if cut == -1:
            break
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return "\n".join(pieces) + "\n"


def format_tag_file(fields: Iterable[tuple[str, str]]) -> str:
    """bag-info.txt text for (label, value) pairs, in the order given (labels may repeat)."""
    return "".join(format_tag_line(label, value) for label, value in fields)


def parse_tag_file(text: str) -> list[tuple[str, str]]:
    """(label, value) pairs of a tag file, continuation lines unfolded; ValueError names a bad line."""
    fields: list[tuple[str, str]] = []
    for number, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        if line[0] in " \t":
            if not fields:
                raise ValueError(f"line {number}: continuation line before any label")
            label, value = fields[-1]
            fields[-1] = (label, value + line)
            continue
        label, colon, value = line.partition(":")
        if not colon or not label.strip():
            raise ValueError(f"line {number}: not 'Label: value'")
        fields.append((label.strip(), value))
    return [(label, value.strip()) for label, value in fields]


def payload_oxum(octets: int, streams: int) -> str:
    """RFC 8493 Payload-Oxum: '<octet count>.<file count>'."""
    return f"{octets}.{streams}"


def human_size(octets: int) -> str:
    """Bag-Size text such as '52.4 MB' (decimal units, as the RFC's examples use)."""
    size = float(octets)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{octets} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def hash_file(path: Path, algorithms: Iterable[str] = ("sha256",)) -> tuple[dict[str, str], int]:
    """Hex digests of a file for each algorithm and its size, read in chunks (never whole)."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    size = 0
    with open(path, "rb") as handle:
        while count := handle.readinto(buffer):
            for hasher in hashers.values():
                hasher.update(view[:count])
            size += count
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}, size


def _json_value(value: Any) -> Any:
    """JSON form of the few non-JSON types custody details commonly carry."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (date, Path)):
        return str(value)
    raise TypeError(f"custody details value of type {type(value).__name__} is not JSON-serialisable")


def custody_line(*, at: datetime, actor: str, action: str, details: dict, prev_sha256: str) -> bytes:
    """One custody-log line (UTF-8 JSON, no newline) chained to the SHA-256 of the previous line."""
    record = {"time": iso(at), "actor": actor, "action": action, "details": details, "prev_sha256": prev_sha256}
    # JSON escapes CR/LF inside strings, so a raw b"\n" always ends a line.
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_json_value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of bytes, as lower-case hex."""
    return hashlib.sha256(data).hexdigest()
