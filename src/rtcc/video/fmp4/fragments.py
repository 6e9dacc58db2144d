"""Media fragments (moof+mdat): their samples, their decode span, and the video-only, re-based copy live view sends."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from rtcc.video.fmp4.boxes import Fmp4Error, child_boxes, find_box, iter_boxes, make_box
from rtcc.video.fmp4.tracks import VideoTrack

# ISO/IEC 14496-12 sample flags: set on every sample a decoder cannot start from.
SAMPLE_IS_NON_SYNC = 0x10000


@dataclass(frozen=True)
class MediaFragment:
    """One moof+mdat pair; `keyframe` when its first sample is a sync sample (a decoder can start here)."""

    data: bytes
    keyframe: bool
    sequence: int
    sample_sizes: tuple[int, ...] = field(default=(), repr=False)
    data_offset: int = 0  # where the first sample starts, counted from the start of `data` (the moof)


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
    for box_type, box in child_boxes(data, 8, moof_end):
        if box_type == b"traf":
            tfhd = find_box(box, [b"tfhd"], 8, len(box))
            if tfhd is None or struct.unpack_from(">I", box, tfhd[0] + 4)[0] != track.track_id:
                continue
            video_traf = len(children)
        children.append(box)
    if video_traf is None:
        return None
    traf_children = child_boxes(children[video_traf], 8, len(children[video_traf]))
    rebuilt: list[tuple[bytes, bytes]] = []
    for box_type, box in traf_children:
        if box_type == b"tfdt":
            version = box[8]
            start = struct.unpack_from(">Q" if version == 1 else ">I", box, 12)[0]
            box = make_box(b"tfdt", struct.pack(">I Q", 1 << 24, start + decode_time_offset))  # version 1: 64 bits
        rebuilt.append((box_type, box))
    # The size change, known once every box is rebuilt; trun offsets then move by it.
    draft = make_box(b"moof", b"".join(children[:video_traf])
                 + make_box(b"traf", b"".join(box for _, box in rebuilt)) + b"".join(children[video_traf + 1:]))
    shift = len(draft) - moof_end
    if shift:
        fixed = []
        for box_type, box in rebuilt:
            if box_type == b"trun" and struct.unpack_from(">I", box, 8)[0] & 0x1:
                offset = struct.unpack_from(">i", box, 16)[0]
                box = box[:16] + struct.pack(">i", offset + shift) + box[20:]
            fixed.append(box)
        draft = make_box(b"moof", b"".join(children[:video_traf]) + make_box(b"traf", b"".join(fixed))
                     + b"".join(children[video_traf + 1:]))
    new_data = draft + data[moof_end:]
    keyframe, sizes, data_offset = read_fragment_samples(draft[8:], trex_flags)
    return MediaFragment(new_data, keyframe, fragment.sequence, sizes, data_offset)
