"""The init segment (ftyp+moov): its tracks, the video track's codec string and the defaults fragments rely on."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from rtcc.video.fmp4.boxes import Fmp4Error, child_boxes, find_box, header_size, iter_boxes, make_box

VISUAL_SAMPLE_ENTRY_HEADER = 78  # bytes between a visual sample entry's header and its child boxes


class UnsupportedCodec(Fmp4Error):
    """The video track uses a codec browsers cannot play through Media Source Extensions."""

    def __init__(self, sample_entry: str):
        super().__init__(f"video codec {sample_entry!r} cannot be played live in every browser; live view needs H.264")
        self.sample_entry = sample_entry


@dataclass(frozen=True)
class InitSegment:
    """ftyp+moov: what a decoder needs before any fragment; carries the RFC 6381 codec string."""

    data: bytes
    codec: str
    track_default_flags: int | None = None  # trex default_sample_flags, when moov sets them

    @property
    def mime(self) -> str:
        """The MIME type a browser's MediaSource.isTypeSupported() expects."""
        return f'video/mp4; codecs="{self.codec}"'

    @property
    def is_h264(self) -> bool:
        """Whether the track is H.264 (every browser with MSE plays it)."""
        return self.codec.startswith(("avc1.", "avc3."))


@dataclass(frozen=True)
class VideoTrack:
    """The video track of an init segment: its id, and the trex default duration fragments may rely on."""

    track_id: int
    default_duration: int | None


def codec_string(moov: bytes) -> str:
    """The RFC 6381 codec string of the first video track; UnsupportedCodec for anything but H.264/HEVC."""
    for trak_type, trak_start, trak_end in iter_boxes(moov):
        if trak_type != b"trak":
            continue
        handler = find_box(moov, [b"mdia", b"hdlr"], trak_start, trak_end)
        if handler is None or moov[handler[0] + 8:handler[0] + 12] != b"vide":
            continue
        stsd = find_box(moov, [b"mdia", b"minf", b"stbl", b"stsd"], trak_start, trak_end)
        if stsd is None:
            break
        # stsd: version/flags (4), entry count (4), then sample entries.
        for entry_type, entry_start, entry_end in iter_boxes(moov, stsd[0] + 8, stsd[1]):
            children = entry_start + VISUAL_SAMPLE_ENTRY_HEADER
            name = entry_type.decode("latin-1")
            if entry_type in (b"avc1", b"avc3"):
                config = find_box(moov, [b"avcC"], children, entry_end)
                if config is None:
                    raise Fmp4Error(f"{name} sample entry without avcC")
                profile, compatibility, level = moov[config[0] + 1:config[0] + 4]
                return f"{name}.{profile:02x}{compatibility:02x}{level:02x}"
            if entry_type in (b"hvc1", b"hev1"):
                config = find_box(moov, [b"hvcC"], children, entry_end)
                if config is None:
                    raise Fmp4Error(f"{name} sample entry without hvcC")
                return _hevc_codec_string(name, moov[config[0]:config[1]])
            raise UnsupportedCodec(name)
    raise Fmp4Error("no video track in the init segment")


def _hevc_codec_string(name: str, config: bytes) -> str:
    """ISO/IEC 14496-15 annex E: hvc1.<space><profile>.<compat, bit-reversed>.<tier><level>.<constraints>."""
    first = config[1]
    space = ("", "A", "B", "C")[first >> 6]
    tier = "H" if first & 0x20 else "L"
    profile = first & 0x1F
    compatibility = int(f"{struct.unpack_from('>I', config, 2)[0]:032b}"[::-1], 2)
    constraints = bytearray(config[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    level = config[12]
    parts = [name, f"{space}{profile}", f"{compatibility:X}", f"{tier}{level}"]
    parts += [f"{byte:X}" for byte in constraints]
    return ".".join(parts)


def trex_default_flags(moov: bytes) -> int | None:
    """default_sample_flags of the first track's trex box (the last fallback for fragment flags)."""
    trex = find_box(moov, [b"mvex", b"trex"])
    if trex is None or trex[1] - trex[0] < 24:
        return None
    return struct.unpack_from(">I", moov, trex[0] + 20)[0]


def _track_id_of_trak(moov: bytes, trak_start: int, trak_end: int) -> int | None:
    tkhd = find_box(moov, [b"tkhd"], trak_start, trak_end)
    if tkhd is None:
        return None
    return struct.unpack_from(">I", moov, tkhd[0] + (20 if moov[tkhd[0]] == 1 else 12))[0]


def video_only_init(init: InitSegment) -> tuple[InitSegment, VideoTrack]:
    """The init segment with only its first video track (recordings may carry audio; live view is video only)."""
    ftyp_and_moov = child_boxes(init.data, 0, len(init.data))
    moov = next(box for box_type, box in ftyp_and_moov if box_type == b"moov")
    header = header_size(moov)
    video_id = None
    traks = []
    for box_type, payload, box_end in iter_boxes(moov, header):
        if box_type == b"trak":
            handler = find_box(moov, [b"mdia", b"hdlr"], payload, box_end)
            is_video = handler is not None and moov[handler[0] + 8:handler[0] + 12] == b"vide"
            traks.append((_track_id_of_trak(moov, payload, box_end), is_video))
            if is_video and video_id is None:
                video_id = _track_id_of_trak(moov, payload, box_end)
    if video_id is None:
        raise Fmp4Error("no video track in the init segment")
    default_duration = None
    rebuilt_children = []
    for box_type, box in child_boxes(moov, header, len(moov)):
        if box_type == b"trak":
            if _track_id_of_trak(box, 8, len(box)) != video_id:
                continue
        elif box_type == b"mvex":
            kept = []
            for child_type, child in child_boxes(box, 8, len(box)):
                if child_type == b"trex":
                    if struct.unpack_from(">I", child, 12)[0] != video_id:
                        continue
                    default_duration = struct.unpack_from(">I", child, 20)[0]
                kept.append(child)
            box = make_box(b"mvex", b"".join(kept))
        rebuilt_children.append(box)
    track = VideoTrack(video_id, default_duration)
    if len(traks) == 1:
        return init, track
    rebuilt_moov = make_box(b"moov", b"".join(rebuilt_children))
    data = b"".join(rebuilt_moov if box_type == b"moov" else box for box_type, box in ftyp_and_moov)
    return InitSegment(data, init.codec, init.track_default_flags), track
