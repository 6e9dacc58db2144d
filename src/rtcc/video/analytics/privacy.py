"""Privacy masks: polygons painted opaque black over a camera's picture before any pixel leaves ingest."""

from __future__ import annotations

import hashlib
import json

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

# A polygon is a list of [x, y] points in normalised image coordinates (0..1, origin top-left).
Polygon = Sequence[Sequence[float]]

# What the recorder uses when a camera has no mask: stream copy, never a decode.
STREAM_COPY_ARGUMENTS = ("-map", "0:v:0", "-map", "0:a:0?", "-c", "copy")

# How far before the camera's first frame the mask frame is stamped; no camera timestamp gets near it.
MASK_TIMESTAMP_LEAD_S = 1_000_000_000


class InvalidPrivacyMask(ValueError):
    """A mask polygon that cannot be drawn (too few points, not numbers)."""


def polygons_in_pixels(polygons: Sequence[Polygon], width: int, height: int) -> list[np.ndarray]:
    """Normalised polygons as int32 pixel outlines for cv2; points outside 0..1 are clamped to the edge."""
    outlines = []
    for polygon in polygons:
        try:
            points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        except (TypeError, ValueError) as error:
            raise InvalidPrivacyMask(f"a mask polygon must be a list of [x, y] numbers: {error}") from error
        if len(points) < 3:
            raise InvalidPrivacyMask("a mask polygon needs at least 3 points")
        points = np.clip(points, 0.0, 1.0)
        # x = 1.0 means the right edge, which is pixel width - 1, not width (one past it).
        scaled = np.rint(points * [width - 1, height - 1]).astype(np.int32)
        outlines.append(scaled.reshape(-1, 1, 2))
    return outlines


def mask_for_size(polygons: Sequence[Polygon], width: int, height: int) -> np.ndarray:
    """A uint8 height x width array: 255 inside any polygon, 0 elsewhere."""
    mask = np.zeros((height, width), dtype=np.uint8)
    outlines = polygons_in_pixels(polygons, width, height)
    if outlines:
        cv2.fillPoly(mask, outlines, 255, lineType=cv2.LINE_8)
    return mask


def render_mask_png(polygons: Sequence[Polygon], path: Path, width: int = 1920, height: int = 1080) -> Path:
    """Write an RGBA PNG that is opaque black inside the polygons and transparent elsewhere, atomically."""
    inside = mask_for_size(polygons, width, height)
    # BGRA: colour stays black everywhere; only alpha says where the mask is.
    image = np.zeros((height, width, 4), dtype=np.uint8)
    image[:, :, 3] = inside
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise InvalidPrivacyMask("OpenCV could not encode the mask as PNG")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A recorder restarting mid-write must never read a half-written mask (that could unmask a window).
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(encoded.tobytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _escaped_for_filtergraph(path: Path) -> str:
    """A file name escaped for an option value inside -filter_complex (ffmpeg's two escaping levels)."""
    option_level = "".join("\\" + char if char in "\\':" else char for char in str(path))
    return "".join("\\" + char if char in "\\'[],;" else char for char in option_level)


def masking_arguments(mask_png: Path, *, fps_hint: int = 15, with_audio: bool = True) -> tuple[list[str], list[str]]:
    """(extra ffmpeg input arguments, output arguments replacing STREAM_COPY_ARGUMENTS) that burn the mask in."""
    keyframe_cap = str(max(1, fps_hint))
    # The mask is read by a movie source inside the graph, not as a second -i input: ffmpeg rebuilds the
    # graph when the camera changes resolution, and a second input at EOF would then feed no mask frame and
    # overlay would pass the camera through unmasked. A graph-owned source is re-read on every rebuild.
    # Its one frame is stamped far in the past and held by eof_action=repeat, so every camera frame,
    # even one with a negative or jumping timestamp, gets it; it is decoded and scaled once per graph.
    video_filter = (
        f"movie=filename={_escaped_for_filtergraph(Path(mask_png))},setpts=PTS-{MASK_TIMESTAMP_LEAD_S}/TB[mask_image];"
        "[mask_image][0:v]scale2ref=flags=neighbor[mask][camera];"
        "[camera][mask]overlay=eof_action=repeat:shortest=0:format=yuv420,format=yuv420p[masked]"
    )
    outputs = [
        "-filter_complex", video_filter,
        "-map", "[masked]", *(["-map", "0:a:0?"] if with_audio else []),
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        # A keyframe every second of stream time whatever the camera's real rate, so segments cut and seeks
        # land on time; -g caps the gap in frames for a camera faster than the hint.
        "-force_key_frames", "expr:if(isnan(prev_forced_t),1,gte(t,prev_forced_t+1))", "-g", keyframe_cap,
        *(["-c:a", "copy"] if with_audio else []),
    ]
    return [], outputs


def apply_mask_to_frame(frame_bgr: np.ndarray, polygons: Sequence[Polygon]) -> np.ndarray:
    """A copy of the frame with the polygons painted black, for analytics that decode in Python."""
    masked = frame_bgr.copy()
    if not polygons:
        return masked
    height, width = masked.shape[:2]
    cv2.fillPoly(masked, polygons_in_pixels(polygons, width, height), (0,) * (masked.shape[2] if masked.ndim == 3 else 1))
    return masked


def mask_file_for(camera_id: int, polygons: Sequence[Polygon] | None, masks_dir: Path) -> Path | None:
    """The camera's mask PNG, named by its content (so a changed mask is a new file), rendered once."""
    if not polygons:
        return None
    digest = hashlib.sha256(json.dumps(polygons, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(masks_dir) / f"cam{camera_id}-{digest}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        render_mask_png(polygons, path)
    return path
