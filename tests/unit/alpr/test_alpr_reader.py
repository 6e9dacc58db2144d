"""End-to-end behaviour of PlateReader on synthetic and real images."""

import json

import cv2
import numpy as np
import pytest

from rtcc.alpr.reader import (
    ImageReadError,
    PlateRead,
    read_images_as_json,
    read_result_as_json,
)
from rtcc.alpr.reader.localise import find_char_rows, location_prior
from support import alpr_dev_set

DEV_SET = alpr_dev_set()


def synthetic_plate(text: str) -> np.ndarray:
    img = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(img, (200, 150), (440, 260), (255, 255, 255), -1)
    cv2.rectangle(img, (200, 150), (440, 260), (30, 30, 30), 3)
    cv2.putText(img, text, (215, 228), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 4, cv2.LINE_AA)
    return img


def test_synthetic_plate_is_read(reader):
    reads = reader.read_image(synthetic_plate("KRT4815"))
    assert reads, "no plate found"
    best = reads[0]
    assert isinstance(best, PlateRead)
    assert best.plate == "KRT4815"
    assert 0 < best.confidence <= 1
    x, y, w, h = best.box
    assert 180 <= x <= 260 and 140 <= y <= 220 and w > 100  # on the rendered plate


def test_glyphs_touching_the_plate_frame_are_still_found():
    # A thick frame line touching every glyph merges them all into one blob unless long
    # horizontal runs are removed before labelling.
    img = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(img, (200, 150), (440, 260), (255, 255, 255), -1)
    cv2.putText(img, "KRT4815", (215, 228), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 4, cv2.LINE_AA)
    cv2.rectangle(img, (205, 222), (435, 240), (20, 20, 20), -1)  # bar fused to the glyph feet
    rows = find_char_rows(img)
    assert rows and rows[0].n_chars >= 6
    assert 190 <= rows[0].x <= 240 and 150 <= rows[0].y <= 230


def test_overlay_band_at_frame_edge_is_unlikely_a_plate():
    assert location_prior((10, 2, 200, 14), 720) < 0.5  # timestamp burnt in at the top
    assert location_prior((10, 700, 200, 16), 720) < 0.5  # and at the bottom
    assert location_prior((600, 400, 90, 30), 720) == 1.0


def test_timestamp_overlay_does_not_beat_the_plate(reader):
    img = synthetic_plate("KRT4815")
    cv2.rectangle(img, (0, 0), (640, 16), (0, 0, 0), -1)
    cv2.putText(img, "2014-05-13 085856", (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    assert reader.read_image(img)[0].plate == "KRT4815"


def test_candidates_are_kept_best_first_and_include_the_plate(reader):
    best = reader.read_image(synthetic_plate("KRT4815"))[0]
    assert best.candidates[0].plate == best.plate
    assert best.candidates[0].confidence == pytest.approx(best.confidence)
    confs = [c.confidence for c in best.candidates]
    assert confs == sorted(confs, reverse=True)


def test_blank_image_has_no_plates(reader):
    assert reader.read_image(np.full((480, 640, 3), 127, np.uint8)) == []


def test_corrupt_file_raises(reader, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(ImageReadError):
        reader.read_image(bad)
    with pytest.raises(ImageReadError):
        reader.read_image(tmp_path / "missing.jpg")


def test_json_lines_keep_order_and_report_errors(reader, tmp_path):
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), synthetic_plate("KRT4815"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"garbage")
    out = list(read_images_as_json([bad, good], reader=reader))
    assert [o["image"] for o in out] == [str(bad), str(good)]
    assert "error" in out[0] and "plates" not in out[0]
    plate = out[1]["plates"][0]
    assert plate["plate"] == "KRT4815"
    assert set(plate) == {"plate", "confidence", "box", "region", "jurisdiction", "format", "candidates"}
    assert (plate["region"], plate["jurisdiction"], plate["format"]) == ("us", "us", "LLLDDDD")
    assert len(plate["box"]) == 4
    json.dumps(out)  # serialisable
    assert read_result_as_json("x.jpg", ImageReadError("boom")) == {"image": "x.jpg", "error": "boom"}


def test_dev_set_accuracy_floor(reader):
    # The dev set sits beside the checkout (../shared/...) on every machine of this project and in CI (support.py).
    assert (DEV_SET / "groundtruth.tsv").exists(), f"dev set missing at {DEV_SET}"
    rows = [l.split("\t") for l in (DEV_SET / "groundtruth.tsv").read_text().splitlines() if l.strip()]
    # Every 11th image: a fixed spread over the set, not a hand-picked easy subset.
    # The whole set reads ~80% exactly; this sample reads 7/10 (it has several hard images).
    sample = rows[::11][:10]
    exact = 0
    for r in sample:
        reads = reader.read_image(DEV_SET / r[0])
        exact += bool(reads) and reads[0].plate == r[5].strip().replace(" ", "").replace("-", "")
    assert exact >= 7, f"only {exact}/10 dev images read exactly"


def test_a_plate_ranked_below_the_rows_read_first_is_read_before_the_slow_detector(reader, monkeypatch):
    # Three clutter rows (bare paint) outrank the plate's row; before falling back to the
    # full-frame detector the reader tries the next rows, and finds the plate there.
    from rtcc.alpr.reader import reader as reader_module
    from rtcc.alpr.reader.localise import Band

    clutter = [Band(20 + 150 * i, 30, 100, 30, 30, 4, 3.0 - i) for i in range(3)]
    plate_row = Band(215, 193, 205, 36, 35, 7, 0.5)
    monkeypatch.setattr(reader_module, "find_char_rows", lambda img: clutter + [plate_row])
    detector_calls = []
    monkeypatch.setattr(reader, "_regions_from_detector", lambda img: detector_calls.append(1) or [])
    reads = reader.read_image(synthetic_plate("KRT4815"))
    assert reads and reads[0].plate == "KRT4815"
    assert not detector_calls
