"""ISO base media boxes: walking the boxes of a byte string, finding one along a path, and writing new ones."""

from __future__ import annotations

import struct

MAX_BOX_BYTES = 64 * 1024 * 1024  # a larger box means a corrupt stream, not a camera


class Fmp4Error(ValueError):
    """The byte stream is not fragmented MP4 the relay can forward."""


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


def header_size(box: bytes) -> int:
    """8, or 16 for a box whose size needs 64 bits."""
    return 16 if struct.unpack_from(">I", box)[0] == 1 else 8


def make_box(box_type: bytes, payload: bytes) -> bytes:
    """A box with a 32-bit size around the payload."""
    return struct.pack(">I4s", 8 + len(payload), box_type) + payload


def child_boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    """(type, whole box) of each child box between start and end."""
    children = []
    position = start
    for box_type, _, box_end in iter_boxes(data, start, end):
        children.append((box_type, bytes(data[position:box_end])))
        position = box_end
    return children
