"""Training crops cut the way the reader cuts them, from photos whose plate box and text are known.

The recogniser only ever sees crops of rows the row finder found, padded and stretched as the reading
passes do, so training crops come from the same code: find the rows in the photo, keep the row of the
plate (the tallest glyphs inside the labelled box: the state name and slogan are smaller), and cut it
with each reading pass's padding. Real photos are first degraded at random (perspective, rotation, scale,
blur, noise, light, JPEG), so 112 dev photos give thousands of different crops.
"""

from __future__ import annotations

import cv2
import numpy as np

from rtcc.alpr.reader.localise import Band, find_char_rows
from rtcc.alpr.reader.reader import FIRST_PASS, REREAD_PASSES
from rtcc.alpr.reader.recognise import STRETCH, Recogniser

Box = tuple[int, int, int, int]
READING_PASSES = (FIRST_PASS, *REREAD_PASSES)


def plate_row(img: np.ndarray, box: Box) -> Band | None:
    """The row finder's row of the plate in `box`: its centre inside the box, the tallest glyphs there."""
    x, y, w, h = box
    inside = []
    for band in find_char_rows(img):
        bx, by, bw, bh = band.box()
        cx, cy = bx + bw / 2, by + bh / 2
        if x - 0.05 * w <= cx <= x + 1.05 * w and y - 0.1 * h <= cy <= y + 1.1 * h and bw <= 1.6 * w:
            inside.append(band)
    return max(inside, key=lambda band: band.char_h) if inside else None


def reader_inputs(img: np.ndarray, box: Box, rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Recogniser inputs (3, 48, W) of the plate in `box`, one per reading pass; [] when the row finder misses it.

    With `rng`, each pass's padding and stretch are jittered a little (the row finder's edges vary too)."""
    band = plate_row(img, box)
    if band is None:
        return []
    height, width = img.shape[:2]
    inputs = []
    for pad_x, pad_y, *stretch in READING_PASSES:
        factor = stretch[0] if stretch else STRETCH
        if rng is not None:
            pad_x, pad_y = pad_x * rng.uniform(0.7, 1.3), pad_y * rng.uniform(0.7, 1.3)
            factor *= rng.uniform(0.9, 1.1)
        crop = Recogniser.crop(img, band.quad(pad_x, pad_y, width, height))
        if crop.shape[0] >= 4 and crop.shape[1] >= 4:
            inputs.append(Recogniser.input_tensor(crop, factor))
    return inputs


def degrade_photo(rng: np.random.Generator, img: np.ndarray, box: Box) -> tuple[np.ndarray, Box]:
    """A randomly degraded copy of a photo and where its plate box went."""
    height, width = img.shape[:2]
    # Geometry: scale, small rotation and perspective, as another camera at another distance would see it.
    scale = rng.uniform(0.45, 1.15)
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    jitter = rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * np.float32([width, height])
    target = (corners + jitter) * scale
    angle = np.deg2rad(rng.uniform(-6, 6))
    centre = target.mean(axis=0)
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = (target - centre) @ rotation.T + centre
    target -= target.min(axis=0)
    size = np.ceil(target.max(axis=0)).astype(int)
    matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    out = cv2.warpPerspective(img, matrix, (int(size[0]), int(size[1])), flags=cv2.INTER_AREA if scale < 1 else
                              cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    x, y, w, h = box
    plate = cv2.perspectiveTransform(np.float32([[[x, y], [x + w, y], [x + w, y + h], [x, y + h]]]), matrix)[0]
    x0, y0 = plate.min(axis=0)
    x1, y1 = plate.max(axis=0)
    new_box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
    # Optics and sensor.
    if rng.random() < 0.4:
        sigma = rng.uniform(0.4, 1.6)
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    if rng.random() < 0.3:
        length = int(rng.integers(3, 9))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1 / length
        rotate = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1)
        out = cv2.filter2D(out, -1, cv2.warpAffine(kernel, rotate, (length, length)))
    pixels = out.astype(np.float32)
    pixels = (pixels - 128) * rng.uniform(0.6, 1.3) + 128 + rng.uniform(-40, 40)
    if rng.random() < 0.5:
        pixels += rng.normal(0, rng.uniform(2, 10), pixels.shape)
    out = np.clip(pixels, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < 0.6:
        ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        if ok:
            out = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return out, new_box
