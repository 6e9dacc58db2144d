"""Evidence bags: BagIt 1.0 (RFC 8493) layout, tamper detection, custody chain, atomic writes."""

from __future__ import annotations

import errno
import hashlib
import json
import re
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcc.core.errors import Conflict, InvalidInput
from rtcc.video.evidence import bag as evidence_bag
from rtcc.video.evidence.bag_format import (
    decode_manifest_path,
    encode_manifest_path,
    format_tag_file,
    parse_tag_file,
)
from rtcc.video.evidence.bag_verify import main as verify_main
from rtcc.video.evidence.bag import (
    BagTampered,
    CustodyEvent,
    InsufficientStorage,
    PayloadFile,
    append_custody_event,
    verify_bag,
    verify_command,
    write_bag,
)

SEGMENT_HASHES = ["a" * 64, "b" * 64]
EXPORTED = CustodyEvent("analyst:jdoe", "export.created", {"cameras": ["cam-12"], "window": "10:00-10:05"},
                        at=datetime(2024, 5, 1, 10, 6, 7, 123000, tzinfo=UTC))
APPROVED = CustodyEvent("supervisor:rroe", "export.approved", {"ticket": "SUP-9"})
SEALED = CustodyEvent("system", "export.sealed", {})


def _source(directory: Path, name: str, content: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    return path


def _bag(tmp_path: Path, *, names: tuple[str, ...] = ("clip.mp4", "stills/frame 0001.jpg"),
         events: tuple[CustodyEvent, ...] = (EXPORTED, APPROVED, SEALED)) -> Path:
    sources = tmp_path / "sources"
    payload = [PayloadFile(_source(sources, f"src{index}", f"video bytes {index} ".encode() * (index + 5)), name)
               for index, name in enumerate(names)]
    info = {"Case-Number": "2024-000123", "Requester": "Det. A. Example",
            "Reason": "Hit-and-run at 5th and Main; footage requested by the investigating unit " * 2,
            "Export-Time": "2024-05-01T10:06:07.123Z", "Source-Segment-SHA256": SEGMENT_HASHES}
    return write_bag(tmp_path / "bag", payload=payload, bag_info=info, custody_events=list(events))


def _problems(bag: Path) -> list[str]:
    report = verify_bag(bag)
    assert report.ok is (not report.problems)
    return report.problems


# --- a good bag ---------------------------------------------------------------------------------

def test_written_bag_verifies_and_the_command_says_so(tmp_path, capsys):
    bag = _bag(tmp_path)
    report = verify_bag(bag)
    assert report.ok and report.problems == []
    assert report.files_checked == 2
    assert report.bytes_checked == sum(p.stat().st_size for p in (bag / "data").rglob("*") if p.is_file())
    assert verify_command(bag) == 0
    assert f"bag intact: 2 files, {report.bytes_checked} bytes verified" in capsys.readouterr().out


def test_layout_and_line_formats_follow_rfc_8493(tmp_path):
    bag = _bag(tmp_path)
    assert sorted(p.name for p in bag.iterdir()) == sorted(
        ["bagit.txt", "bag-info.txt", "data", "manifest-sha256.txt", "custody-log.jsonl", "tagmanifest-sha256.txt"])
    # §2.1.1: exactly these two lines, UTF-8, no byte-order mark.
    assert (bag / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

    # §2.1.3: '<checksum> <whitespace> <path>' per payload file, paths under data/, all files listed.
    manifest = (bag / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in manifest:
        match = re.fullmatch(r"([0-9a-f]{64})  (data/.+)", line)
        assert match, line
        listed[match.group(2)] = match.group(1)
    on_disk = {p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if p.is_file()}
    assert set(listed) == on_disk == {"data/clip.mp4", "data/stills/frame 0001.jpg"}
    for path, digest in listed.items():
        assert hashlib.sha256((bag / path).read_bytes()).hexdigest() == digest

    # §2.2.2: 'Label: value' lines, continuation lines start with whitespace, reserved fields well-formed.
    info_text = (bag / "bag-info.txt").read_text(encoding="utf-8")
    for line in info_text.splitlines():
        assert re.fullmatch(r"[^\s:]+: \S.*", line) or re.fullmatch(r"[ \t]+\S.*", line), line
        assert len(line) <= 79 or " " not in line.partition(": ")[2], line  # folded unless unbreakable
    info = parse_tag_file(info_text)
    labels = [label for label, _ in info]
    assert [value for label, value in info if label == "Source-Segment-SHA256"] == SEGMENT_HASHES
    values = dict(info)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["Bagging-Date"])
    octets = sum((bag / path).stat().st_size for path in listed)
    assert values["Payload-Oxum"] == f"{octets}.2"
    assert values["Bag-Size"] == f"{octets} B"
    assert values["Reason"].startswith("Hit-and-run") and len(values["Reason"]) > 79
    assert labels[:4] == ["Case-Number", "Requester", "Reason", "Export-Time"]

    # §2.2.1: tag manifest covers the tag files (not itself, not the payload).
    tags = dict(reversed(line.split("  ", 1)) for line in
                (bag / "tagmanifest-sha256.txt").read_text(encoding="utf-8").splitlines())
    assert set(tags) == {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "custody-log.jsonl"}
    for path, digest in tags.items():
        assert hashlib.sha256((bag / path).read_bytes()).hexdigest() == digest

    # Custody log: one JSON object per line, UTC times with ms and Z, each chained to the line before.
    lines = (bag / "custody-log.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4
    previous = "0" * 64
    for raw in lines[:-1]:
        record = json.loads(raw)
        assert list(record) == ["time", "actor", "action", "details", "prev_sha256"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", record["time"])
        assert record["prev_sha256"] == previous
        previous = hashlib.sha256(raw).hexdigest()
    assert json.loads(lines[0])["time"] == "2024-05-01T10:06:07.123Z"
    assert all(b"\r" not in p.read_bytes() for p in bag.iterdir() if p.is_file())


# --- tampering ----------------------------------------------------------------------------------

def test_one_changed_byte_in_a_payload_file_is_reported_by_name(tmp_path, capsys):
    bag = _bag(tmp_path)
    clip = bag / "data" / "clip.mp4"
    content = bytearray(clip.read_bytes())
    content[len(content) // 2] ^= 0x01
    clip.write_bytes(bytes(content))
    problems = _problems(bag)
    assert len(problems) == 1
    assert re.fullmatch(r"data/clip\.mp4: SHA-256 mismatch \(manifest [0-9a-f]{12}…, actual [0-9a-f]{12}…\)",
                        problems[0])
    assert verify_command(bag) == 1
    assert "data/clip.mp4: SHA-256 mismatch" in capsys.readouterr().err


def test_deleted_payload_file_is_reported(tmp_path):
    bag = _bag(tmp_path)
    (bag / "data" / "stills" / "frame 0001.jpg").unlink()
    problems = _problems(bag)
    assert "data/stills/frame 0001.jpg: listed in manifest-sha256.txt but missing" in problems
    assert any(p.startswith("bag-info.txt: Payload-Oxum is") for p in problems)


def test_added_unlisted_payload_file_is_reported(tmp_path):
    bag = _bag(tmp_path)
    (bag / "data" / "planted.mp4").write_bytes(b"not evidence")
    problems = _problems(bag)
    assert "data/planted.mp4: in data/ but not listed in manifest-sha256.txt" in problems


def test_edited_bag_info_fails_the_tag_manifest(tmp_path):
    bag = _bag(tmp_path)
    info = bag / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8").replace("2024-000123", "2024-000999"), encoding="utf-8")
    problems = _problems(bag)
    assert len(problems) == 1 and problems[0].startswith("bag-info.txt: SHA-256 mismatch (tagmanifest ")


def test_edited_custody_line_is_detected(tmp_path):
    bag = _bag(tmp_path)
    log = bag / "custody-log.jsonl"
    log.write_bytes(log.read_bytes().replace(b"supervisor:rroe", b"supervisor:evil"))
    problems = _problems(bag)
    assert any(p.startswith("custody-log.jsonl: SHA-256 mismatch") for p in problems)
    assert any(p.startswith("custody-log.jsonl line 3: hash chain broken") for p in problems)


@pytest.mark.parametrize("removed", [0, 1, 2])
def test_removed_custody_line_is_detected(tmp_path, removed):
    bag = _bag(tmp_path)
    log = bag / "custody-log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    del lines[removed]
    log.write_bytes(b"".join(lines))
    problems = _problems(bag)
    assert any(p.startswith("custody-log.jsonl: SHA-256 mismatch") for p in problems)
    if removed < 2:  # removing the last line leaves the chain whole; the tag manifest still catches it
        assert any(p.startswith(f"custody-log.jsonl line {removed + 1}: hash chain broken") for p in problems)


def test_unlisted_tag_file_and_missing_tag_manifest_are_reported(tmp_path):
    bag = _bag(tmp_path)
    (bag / "notes.txt").write_text("added later")
    assert "notes.txt: tag file not listed in tagmanifest-sha256.txt" in _problems(bag)
    (bag / "tagmanifest-sha256.txt").unlink()
    assert "tagmanifest-sha256.txt: missing (tag files cannot be checked)" in _problems(bag)


def test_not_a_bag_exits_2(tmp_path, capsys):
    assert verify_command(tmp_path / "nowhere") == 2
    (tmp_path / "plain").mkdir()
    assert verify_main([str(tmp_path / "plain")]) == 2
    assert "not a BagIt bag" in capsys.readouterr().err


# --- custody events -----------------------------------------------------------------------------

def test_appended_custody_event_is_chained_and_bag_still_verifies(tmp_path):
    bag = _bag(tmp_path, events=(EXPORTED,))
    append_custody_event(bag, CustodyEvent("supervisor:rroe", "handover", {"to": "County Prosecutor"}))
    assert _problems(bag) == []
    first, second = (bag / "custody-log.jsonl").read_bytes().splitlines()
    assert json.loads(second)["prev_sha256"] == hashlib.sha256(first).hexdigest()
    assert json.loads(second)["details"] == {"to": "County Prosecutor"}
    assert sorted(p.name for p in bag.iterdir() if p.name.startswith(".")) == []  # no temp files left


def test_append_refuses_to_launder_an_edited_tag_file(tmp_path):
    bag = _bag(tmp_path)
    info = bag / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8") + "Note: inserted\n", encoding="utf-8")
    before = (bag / "tagmanifest-sha256.txt").read_bytes()
    with pytest.raises(BagTampered, match="bag-info.txt"):
        append_custody_event(bag, CustodyEvent("someone", "handover", {}))
    assert (bag / "tagmanifest-sha256.txt").read_bytes() == before


# --- names --------------------------------------------------------------------------------------

def test_names_with_spaces_unicode_percent_and_newlines_round_trip(tmp_path):
    names = ("camera 12/clip one.mp4", "Überwachung/straße_夜.mp4", "100% zoom.mp4", "odd%0Aname.mp4",
             "line\nbreak.mp4")
    bag = _bag(tmp_path, names=names)
    assert _problems(bag) == []
    for name in names:
        assert (bag / "data" / name).is_file()
    manifest = (bag / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert "data/100%25 zoom.mp4" in manifest
    assert "data/odd%250Aname.mp4" in manifest
    assert "data/line%0Abreak.mp4" in manifest
    assert len(manifest.splitlines()) == len(names)


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_manifest_path_encoding_round_trips(name):
    encoded = encode_manifest_path(name)
    assert "\n" not in encoded and "\r" not in encoded
    assert decode_manifest_path(encoded) == name


_label = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,24}", fullmatch=True)
_value = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
                 max_size=300).map(str.strip)


@settings(max_examples=200)
@given(st.lists(st.tuples(_label, _value), max_size=6))
def test_bag_info_folding_round_trips(fields):
    text = format_tag_file(fields)
    assert parse_tag_file(text) == fields
    for line in text.splitlines():
        assert line.strip(), "no blank lines"


@pytest.mark.parametrize("name", ["../escape.mp4", "/abs.mp4", "a//b.mp4", "a/./b.mp4", "dir/", "win\\path.mp4", ""])
def test_unsafe_payload_names_are_refused(tmp_path, name):
    with pytest.raises(InvalidInput):
        write_bag(tmp_path / "bag", payload=[PayloadFile(_source(tmp_path, "s", b"x"), name)],
                  bag_info={}, custody_events=[EXPORTED])
    assert not (tmp_path / "bag").exists()


@pytest.mark.parametrize("payload_names, info, events", [
    (("Clip.mp4", "clip.MP4"), {}, [EXPORTED]),              # collide on case-insensitive disks
    (("a", "a/b"), {}, [EXPORTED]),                          # a file and a folder of the same name
    (("a",), {"Payload-Oxum": "1.1"}, [EXPORTED]),           # computed by the writer
    (("a",), {"Reason": "two\nlines"}, [EXPORTED]),          # tag values are single lines
    (("a",), {"Bad Label": "x"}, [EXPORTED]),
    (("a",), {}, []),                                        # no chain of custody
    (("a",), {}, [CustodyEvent("x", "y", {}, at=datetime(2024, 1, 1))]),  # naive time
    (("a",), {}, [CustodyEvent("x", "y", {"blob": object()})]),          # not JSON
])
def test_invalid_requests_are_refused_before_writing(tmp_path, payload_names, info, events):
    payload = [PayloadFile(_source(tmp_path, f"s{i}", b"x"), name) for i, name in enumerate(payload_names)]
    with pytest.raises(InvalidInput):
        write_bag(tmp_path / "bag", payload=payload, bag_info=info, custody_events=events)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"s{i}" for i in range(len(payload_names)))


# --- writing safely -----------------------------------------------------------------------------

def test_existing_destination_is_never_overwritten(tmp_path):
    (tmp_path / "bag").mkdir()
    (tmp_path / "bag" / "keep.txt").write_text("earlier export")
    with pytest.raises(Conflict, match="already exists"):
        write_bag(tmp_path / "bag", payload=[PayloadFile(_source(tmp_path, "s", b"x"), "a")],
                  bag_info={}, custody_events=[EXPORTED])
    assert (tmp_path / "bag" / "keep.txt").read_text() == "earlier export"


def test_full_disk_mid_copy_leaves_nothing_behind(tmp_path, monkeypatch):
    real_copy = evidence_bag._copy_with_sha256
    calls = []

    def copy_then_fill_disk(source, target):
        calls.append(target)
        if len(calls) == 2:  # the first file landed, the second half-written when the disk fills
            target.write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(source, target)

    monkeypatch.setattr(evidence_bag, "_copy_with_sha256", copy_then_fill_disk)
    with pytest.raises(InsufficientStorage, match="not enough disk space .* partial bag was removed") as caught:
        _bag(tmp_path)
    assert caught.value.status_code == 507
    assert isinstance(caught.value.__cause__, OSError) and caught.value.__cause__.errno == errno.ENOSPC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources"]  # no bag, no hidden staging directory


def test_too_little_free_space_fails_before_copying(tmp_path, monkeypatch):
    monkeypatch.setattr(evidence_bag.shutil, "disk_usage", lambda _: type("Usage", (), {"free": 10})())
    with pytest.raises(InsufficientStorage, match="bytes free"):
        _bag(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources"]


def test_large_payload_is_streamed_not_read_whole(tmp_path):
    size = 50 * 1024 * 1024
    video = tmp_path / "big.mp4"
    with open(video, "wb") as handle:  # sparse: costs no disk until copied
        handle.truncate(size)
    tracemalloc.start()
    try:
        bag = write_bag(tmp_path / "bag", payload=[PayloadFile(video, "big.mp4")], bag_info={},
                        custody_events=[EXPORTED])
        report = verify_bag(bag)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok and report.bytes_checked == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes: the payload was read whole"
    expected = hashlib.sha256(b"\0" * size).hexdigest()
    assert (bag / "manifest-sha256.txt").read_text() == f"{expected}  data/big.mp4\n"


def test_symbolic_link_in_payload_is_reported(tmp_path):
    bag = _bag(tmp_path)
    (bag / "data" / "clip.mp4").unlink()
    (bag / "data" / "clip.mp4").symlink_to(tmp_path / "sources" / "src0")  # same bytes, but not in the bag
    assert "data/clip.mp4: is a symbolic link, not evidence content" in _problems(bag)
