"""Incremental parser of a fragmented-MP4 byte stream: one init segment, then moof+mdat fragments."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# ISO/IEC 14496-12 sample flags: set on every sample a decoder cannot start from.
SAMPLE_IS_NON_SYNC = 0x10000
# Containers that hold further boxes on the way from moov to a sample entry.
CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf"}
MAX_BOX_BYTES = 64 * 1024 * 1024  # a larger box means a corrupt stream, not a camera
VISUAL_SAMPLE_ENTRY_HEADER = 78  # bytes between a visual sample entry's header and its child boxes


class Fmp4Error(ValueError):
    """The byte stream is not fragmented MP4 the relay can forward."""


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
class MediaFragment:
    """One moof+mdat pair; `keyframe` when its first sample is a sync sample (a decoder can start here)."""

    data: bytes
    keyframe: bool
    sequence: int
    sample_sizes: tuple[int, ...] = field(default=(), repr=False)
    data_offset: int = 0  # where the first sample starts, counted from the start of `data` (the moof)


def iter_boxes(data: bytes | memoryview, start: int = 0, end: int | None = None):
    """(type, payload start, box end) of each complete box between start and end."""
    end = len(data) if end is None else end
    position = start
    while position + 8 <= end:
        size, box_type = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            if position + 16 > end:
                return
            size = struct.unpack_from(">Q", data, position + 8)[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield bytes(box_type), position + header, position + size
        position += size


def find_box(data: bytes, path: list[bytes], start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """(payload start, end) of the first box along a path such as [moov, trak, mdia]."""
    for box_type, payload, box_end in iter_boxes(data, start, end):
        if box_type == path[0]:
            if len(path) == 1:
                return payload, box_end
            found = find_box(data, path[1:], payload, box_end)
            if found:
                return found
    return None


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


def read_fragment_samples(moof: bytes, trex_flags: int | None) -> tuple[bool, tuple[int, ...], int]:
    """(first sample is a sync sample, sample sizes, data offset) from a moof's first traf."""
    traf = find_box(moof, [b"traf"])
    if traf is None:
        raise Fmp4Error("moof without traf")
    tfhd = find_box(moof, [b"tfhd"], *traf)
    trun = find_box(moof, [b"trun"], *traf)
    if tfhd is None or trun is None:
        raise Fmp4Error("traf without tfhd or trun")
    tfhd_flags = struct.unpack_from(">I", moof, tfhd[0])[0] & 0xFFFFFF
    position = tfhd[0] + 8  # version/flags, track_ID
    default_size = default_flags = None
    if tfhd_flags & 0x1:
        position += 8  # base_data_offset
    if tfhd_flags & 0x2:
        position += 4  # sample_description_index
    if tfhd_flags & 0x8:
        position += 4  # default_sample_duration
    if tfhd_flags & 0x10:
        default_size = struct.unpack_from(">I", moof, position)[0]
        position += 4
    if tfhd_flags & 0x20:
        default_flags = struct.unpack_from(">I", moof, position)[0]

    trun_flags = struct.unpack_from(">I", moof, trun[0])[0] & 0xFFFFFF
    sample_count = struct.unpack_from(">I", moof, trun[0] + 4)[0]
    position = trun[0] + 8
    data_offset = 0
    first_sample_flags = None
    if trun_flags & 0x1:
        data_offset = struct.unpack_from(">i", moof, position)[0]
        position += 4
    if trun_flags & 0x4:
        first_sample_flags = struct.unpack_from(">I", moof, position)[0]
        position += 4
    sizes: list[int] = []
    first_listed_flags = None
    for index in range(sample_count):
        if trun_flags & 0x100:
            position += 4  # duration
        if trun_flags & 0x200:
            sizes.append(struct.unpack_from(">I", moof, position)[0])
            position += 4
        elif default_size is not None:
            sizes.append(default_size)
        if trun_flags & 0x400:
            if index == 0:
                first_listed_flags = struct.unpack_from(">I", moof, position)[0]
            position += 4
        if trun_flags & 0x800:
            position += 4  # composition time offset
    # The first sample's flags: first_sample_flags wins, then its own entry, then tfhd, then trex.
    for flags in (first_sample_flags, first_listed_flags, default_flags, trex_flags):
        if flags is not None:
            return not flags & SAMPLE_IS_NON_SYNC, tuple(sizes), data_offset
    return False, tuple(sizes), data_offset  # no flags anywhere: not safe to start a decoder here


class Fmp4Parser:
    """Feed bytes as they arrive; get back InitSegment and MediaFragment objects as they complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._init_parts: list[bytes] = []
        self._moof: bytes | None = None
        self.init: InitSegment | None = None
        self.fragments = 0

    def feed(self, data: bytes) -> list[InitSegment | MediaFragment]:
        """Consume bytes; return the segments they complete, in stream order."""
        self._buffer += data
        completed: list[InitSegment | MediaFragment] = []
        position = 0
        buffer = self._buffer
        while len(buffer) - position >= 8:
            size, box_type = struct.unpack_from(">I4s", buffer, position)
            if size == 1:
                if len(buffer) - position < 16:
                    break
                size = struct.unpack_from(">Q", buffer, position + 8)[0]
            elif size == 0:
                raise Fmp4Error("a box that runs to the end of the stream cannot be streamed")
            if size < 8 or size > MAX_BOX_BYTES:
                raise Fmp4Error(f"implausible {box_type!r} box of {size} bytes")
            if len(buffer) - position < size:
                break
            segment = self._take_box(bytes(box_type), bytes(buffer[position:position + size]))
            if segment is not None:
                completed.append(segment)
            position += size
        del buffer[:position]
        return completed

    def _take_box(self, box_type: bytes, box: bytes) -> InitSegment | MediaFragment | None:
        if box_type == b"moof":
            if self.init is None:
                raise Fmp4Error("a fragment arrived before the init segment")
            self._moof = box
            return None
        if box_type == b"mdat":
            if self._moof is None:
                return None  # progressive mdat before moov: not fragmented output; ignore
            moof, self._moof = self._moof, None
            keyframe, sizes, data_offset = read_fragment_samples(moof[_header_size(moof):], self.init.track_default_flags)
            self.fragments += 1
            return MediaFragment(moof + box, keyframe, self.fragments, sizes, data_offset)
        if box_type in (b"ftyp", b"moov") or (self.init is None and box_type not in (b"styp", b"sidx", b"prft")):
            if box_type == b"ftyp":
                self._init_parts = []
            self._init_parts.append(box)
            if box_type == b"moov":
                payload = box[_header_size(box):]
                self.init = InitSegment(b"".join(self._init_parts), codec_string(payload), trex_default_flags(payload))
                self._init_parts = []
                return self.init
        return None  # styp, sidx, prft, free: nothing a viewer needs


def _header_size(box: bytes) -> int:
    """8, or 16 for a box whose size needs 64 bits."""
    return 16 if struct.unpack_from(">I", box)[0] == 1 else 8


# --- live view from recorded segments: video only, one continuous timeline across segments ---
def _box(box_type: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), box_type) + payload


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    """(type, whole box) of each child box between start and end."""
    children = []
    position = start
    for box_type, _, box_end in iter_boxes(data, start, end):
        children.append((box_type, bytes(data[position:box_end])))
        position = box_end
    return children


def _track_id_of_trak(moov: bytes, trak_start: int, trak_end: int) -> int | None:
    tkhd = find_box(moov, [b"tkhd"], trak_start, trak_end)
    if tkhd is None:
        return None
    return struct.unpack_from(">I", moov, tkhd[0] + (20 if moov[tkhd[0]] == 1 else 12))[0]


@dataclass(frozen=True)
class VideoTrack:
    """The video track of an init segment: its id, and the trex default duration fragments may rely on."""

    track_id: int
    default_duration: int | None


def video_only_init(init: InitSegment) -> tuple[InitSegment, VideoTrack]:
    """The init segment with only its first video track (recordings may carry audio; live view is video only)."""
    ftyp_and_moov = _children(init.data, 0, len(init.data))
    moov = next(box for box_type, box in ftyp_and_moov if box_type == b"moov")
    header = _header_size(moov)
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
    for box_type, box in _children(moov, header, len(moov)):
        if box_type == b"trak":
            if _track_id_of_trak(box, 8, len(box)) != video_id:
                continue
        elif box_type == b"mvex":
            kept = []
            for child_type, child in _children(box, 8, len(box)):
                if child_type == b"trex":
                    if struct.unpack_from(">I", child, 12)[0] != video_id:
                        continue
                    default_duration = struct.unpack_from(">I", child, 20)[0]
                kept.append(child)
            box = _box(b"mvex", b"".join(kept))
        rebuilt_children.append(box)
    track = VideoTrack(video_id, default_duration)
    if len(traks) == 1:
        return init, track
    rebuilt_moov = _box(b"moov", b"".join(rebuilt_children))
    data = b"".join(rebuilt_moov if box_type == b"moov" else box for box_type, box in ftyp_and_moov)
    return InitSegment(data, init.codec, init.track_default_flags), track


def fragment_decode_span(fragment: MediaFragment, track: VideoTrack) -> tuple[int, int] | None:
    """(baseMediaDecodeTime, decode time just after its last sample) of the video track; None: no video in it."""
    moof_end = struct.unpack_from(">I", fragment.data)[0]
    for box_type, payload, box_end in iter_boxes(fragment.data, 8, moof_end):
        if box_type != b"traf":
            continue
        tfhd = find_box(fragment.data, [b"tfhd"], payload, box_end)
        if tfhd is None or struct.unpack_from(">I", fragment.data, tfhd[0] + 4)[0] != track.track_id:
            continue
        tfdt = find_box(fragment.data, [b"tfdt"], payload, box_end)
        if tfdt is None:
            raise Fmp4Error("video traf without tfdt")
        version = fragment.data[tfdt[0]]
        start = struct.unpack_from(">Q" if version == 1 else ">I", fragment.data, tfdt[0] + 4)[0]
        return start, start + _traf_duration(fragment.data, payload, box_end, track.default_duration)
    return None


def _traf_duration(data: bytes, start: int, end: int, trex_duration: int | None) -> int:
    tfhd = find_box(data, [b"tfhd"], start, end)
    tfhd_flags = struct.unpack_from(">I", data, tfhd[0])[0] & 0xFFFFFF
    position = tfhd[0] + 8 + (8 if tfhd_flags & 0x1 else 0) + (4 if tfhd_flags & 0x2 else 0)
    default_duration = struct.unpack_from(">I", data, position)[0] if tfhd_flags & 0x8 else trex_duration
    total = 0
    for box_type, payload, _ in iter_boxes(data, start, end):
        if box_type != b"trun":
            continue
        flags = struct.unpack_from(">I", data, payload)[0] & 0xFFFFFF
        count = struct.unpack_from(">I", data, payload + 4)[0]
        position = payload + 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
        entry_bytes = 4 * (flags & 0xF00).bit_count()
        if flags & 0x100:
            total += sum(struct.unpack_from(">I", data, position + index * entry_bytes)[0] for index in range(count))
        else:
            total += count * (default_duration or 0)
    return total


def live_fragment(fragment: MediaFragment, track: VideoTrack, decode_time_offset: int,
                  trex_flags: int | None) -> MediaFragment | None:
    """The fragment with only the video track's traf, its decode time moved on by decode_time_offset.

    None for a fragment that holds only other tracks' samples (audio between two video fragments).

    The moof changes size, so the video trun's data offset (counted from the moof, default-base-is-moof)
    moves by as much; other tracks' samples stay in the mdat, unreferenced.
    """
    data = fragment.data
    moof_end = struct.unpack_from(">I", data)[0]
    children = []
    video_traf = None
    for box_type, box in _children(data, 8, moof_end):
        if box_type == b"traf":
            tfhd = find_box(box, [b"tfhd"], 8, len(box))
            if tfhd is None or struct.unpack_from(">I", box, tfhd[0] + 4)[0] != track.track_id:
                continue
            video_traf = len(children)
        children.append(box)
    if video_traf is None:
        return None
    traf_children = _children(children[video_traf], 8, len(children[video_traf]))
    rebuilt: list[tuple[bytes, bytes]] = []
    for box_type, box in traf_children:
        if box_type == b"tfdt":
            version = box[8]
            start = struct.unpack_from(">Q" if version == 1 else ">I", box, 12)[0]
            box = _box(b"tfdt", struct.pack(">I Q", 1 << 24, start + decode_time_offset))  # version 1: 64 bits
        rebuilt.append((box_type, box))
    # The size change, known once every box is rebuilt; trun offsets then move by it.
    draft = _box(b"moof", b"".join(children[:video_traf])
                 + _box(b"traf", b"".join(box for _, box in rebuilt)) + b"".join(children[video_traf + 1:]))
    shift = len(draft) - moof_end
    if shift:
        fixed = []
        for box_type, box in rebuilt:
            if box_type == b"trun" and struct.unpack_from(">I", box, 8)[0] & 0x1:
                offset = struct.unpack_from(">i", box, 16)[0]
                box = box[:16] + struct.pack(">i", offset + shift) + box[20:]
            fixed.append(box)
        draft = _box(b"moof", b"".join(children[:video_traf]) + _box(b"traf", b"".join(fixed))
                     + b"".join(children[video_traf + 1:]))
    new_data = draft + data[moof_end:]
    keyframe, sizes, data_offset = read_fragment_samples(draft[8:], trex_flags)
    return MediaFragment(new_data, keyframe, fragment.sequence, sizes, data_offset)
