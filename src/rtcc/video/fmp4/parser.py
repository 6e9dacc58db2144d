"""The incremental parser of a fragmented-MP4 byte stream: one init segment, then moof+mdat fragments."""

from __future__ import annotations

import struct

from rtcc.video.fmp4.boxes import MAX_BOX_BYTES, Fmp4Error, header_size
from rtcc.video.fmp4.fragments import MediaFragment, read_fragment_samples
from rtcc.video.fmp4.tracks import InitSegment, codec_string, trex_default_flags


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
            keyframe, sizes, data_offset = read_fragment_samples(moof[header_size(moof):], self.init.track_default_flags)
            self.fragments += 1
            return MediaFragment(moof + box, keyframe, self.fragments, sizes, data_offset)
        if box_type in (b"ftyp", b"moov") or (self.init is None and box_type not in (b"styp", b"sidx", b"prft")):
            if box_type == b"ftyp":
                self._init_parts = []
            self._init_parts.append(box)
            if box_type == b"moov":
                payload = box[header_size(box):]
                self.init = InitSegment(b"".join(self._init_parts), codec_string(payload), trex_default_flags(payload))
                self._init_parts = []
                return self.init
        return None  # styp, sidx, prft, free: nothing a viewer needs
