"""Synthetic licence plates in vehicle-like scenes, for training the plate recogniser (issue 13).

    rng = numpy.random.default_rng(1)
    sample = render_scene(rng, region="us")      # sample.image, .text, .box, .format, .jurisdiction

A plate string is drawn from the region's formats (the reader's TOML files) or,
sometimes, a vanity string; the plate is drawn upright in the region's style
(``synth_face``), warped into a scene (car body, bumper, tail lights, badges,
road) with perspective and rotation, and degraded as a camera would
(``synth_camera``).  The same seed gives the same image.  Scenes go through the
reader's own row finder and rectifier downstream, so the training crops look
like the real ones.

Look at samples with ``python -m rtcc.alpr.training.synthetic --grid OUT.png``
(see ``synth_grid``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .synth_camera import degrade, infrared_draw
from .synth_face import render_face
from .synth_fonts import fonts_for
from .synth_strings import fill_pattern, group_text, sample_format, sample_text, vanity_text

SCENE_SIZES = ((640, 360), (800, 450), (960, 540), (1280, 720))
# Car paints, neutral ones (white, silver, grey, black) as common as they are on the road.
BODY_COLOURS = ((240, 240, 240), (190, 190, 195), (30, 30, 30), (70, 70, 75), (30, 30, 160), (120, 60, 20),
                (40, 80, 40), (200, 200, 210), (20, 20, 90), (150, 130, 110), (225, 225, 225), (160, 160, 165),
                (25, 25, 28), (110, 110, 115), (215, 215, 220))
BADGES = ("HYBRID", "CAMRY", "4MATIC", "AWD", "LIMITED", "ACCORD", "F-150", "XLE", "SPORT", "V6", "CIVIC", "TDI")


@dataclass
class SyntheticPlate:
    """One rendered scene and its ground truth."""

    image: np.ndarray  # H x W x 3 uint8 BGR
    text: str  # plate string, 0-9A-Z only
    box: tuple[int, int, int, int]  # x, y, w, h of the plate outline in the image
    format: str  # pattern (L letter, D digit, A either); "vanity" for free strings
    jurisdiction: str  # e.g. "us-ca", "fr", "br"
    glyph_height: float = 0.0  # main character height in the image, pixels
    night_ir: bool = False
    corners: np.ndarray | None = None  # (4, 2) float32 plate corners tl, tr, br, bl in the image


def _jitter(rng: np.random.Generator, colour, spread: int = 25) -> tuple[int, int, int]:
    d = rng.integers(-spread, spread + 1, 3)
    return tuple(min(255, max(0, int(c) + int(k))) for c, k in zip(colour, d))


def _plate_text(rng: np.random.Generator, region: str) -> tuple[str, str, str, str, str]:
    """(text, pattern, format label, jurisdiction, printed layout)."""
    spec, jurisdiction = sample_format(rng, region)
    if region.startswith("us") and rng.random() < 0.08:
        text = vanity_text(rng)
        return text, "A" * len(text), "vanity", jurisdiction, ""
    return sample_text(rng, spec), spec.pattern, spec.pattern, jurisdiction, spec.display


def _background(rng: np.random.Generator, w: int, h: int, plate_xy, plate_size) -> np.ndarray:
    """A car's rear around the plate: sky or wall, road, body, window, tail lights, bumper, badges."""
    top = np.float32(_jitter(rng, (rng.integers(80, 230),) * 3, 15))
    road = np.float32(_jitter(rng, (90, 90, 95), 12))
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = cv2.resize((top * (1 - t) + road * t).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    for _ in range(int(rng.integers(2, 7))):  # buildings, other cars, poles
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.rectangle(img, (x0, y0), (x0 + int(rng.integers(10, w // 3)), y0 + int(rng.integers(10, h // 3))),
                      _jitter(rng, (rng.integers(0, 256),) * 3, 25), -1)
    px, py = plate_xy
    pw, ph = plate_size
    body = _jitter(rng, BODY_COLOURS[int(rng.integers(len(BODY_COLOURS)))], 10)
    bw, bh = pw * rng.uniform(3.5, 7), ph * rng.uniform(4, 9)
    bx0, by0 = int(px - bw * rng.uniform(0.4, 0.6)), int(py - bh * rng.uniform(0.55, 0.8))
    bx1, by1 = int(bx0 + bw), int(by0 + bh)
    shade = np.float32(rng.uniform(0.55, 0.85))
    y_lo, y_hi, x_lo, x_hi = max(by0, 0), min(by1, h), max(bx0, 0), min(bx1, w)
    if x_hi > x_lo and y_hi > y_lo:  # the body, lit from above
        ys = np.linspace(1.0, shade, y_hi - y_lo, dtype=np.float32)[:, None, None]
        column = (np.float32(body) * ys).astype(np.uint8)
        img[y_lo:y_hi, x_lo:x_hi] = cv2.resize(column, (x_hi - x_lo, y_hi - y_lo), interpolation=cv2.INTER_NEAREST)
    win_y = int(py - ph * rng.uniform(2.2, 4))
    cv2.rectangle(img, (bx0 + int(bw * 0.15), by0), (bx1 - int(bw * 0.15), win_y), _jitter(rng, (40, 40, 45), 20), -1)
    cv2.line(img, (bx0, win_y + 2), (bx1, win_y + 2), _jitter(rng, (230, 230, 230), 20), 1)
    light_y, lh = int(py - ph * rng.uniform(0.5, 2)), int(ph * rng.uniform(0.6, 1.5))
    for lx in (bx0 + int(bw * 0.03), bx1 - int(bw * 0.18)):
        cv2.rectangle(img, (lx, light_y), (lx + int(bw * 0.15), light_y + lh), _jitter(rng, (40, 40, 190), 30), -1)
    bumper = _jitter(rng, body if rng.random() < 0.6 else (35, 35, 38), 15)
    bump_y = int(py + ph * rng.uniform(0.2, 0.8))
    cv2.rectangle(img, (bx0, bump_y), (bx1, bump_y + int(ph * rng.uniform(1, 2))), bumper, -1)
    cv2.line(img, (bx0, bump_y), (bx1, bump_y), _jitter(rng, (20, 20, 20), 20), 2)
    if rng.random() < 0.5:  # the plate's recess in the trunk lid or bumper
        recess = _jitter(rng, tuple(int(c * rng.uniform(0.6, 0.9)) for c in body), 10)
        rw, rh = pw * rng.uniform(1.15, 1.45), ph * rng.uniform(1.2, 1.6)
        cv2.rectangle(img, (int(px - rw / 2), int(py - rh / 2)), (int(px + rw / 2), int(py + rh / 2)), recess, -1)
    chrome = _jitter(rng, (rng.integers(150, 225),) * 3, 10)
    if rng.random() < 0.25:  # a chrome trunk strip above the plate
        sw, sh, sy = pw * rng.uniform(1.0, 1.6), max(2.0, ph * rng.uniform(0.06, 0.14)), py - ph * rng.uniform(0.75, 1.1)
        cv2.rectangle(img, (int(px - sw / 2), int(sy)), (int(px + sw / 2), int(sy + sh)), chrome, -1)
        cv2.line(img, (int(px - sw / 2), int(sy + sh)), (int(px + sw / 2), int(sy + sh)), (30, 30, 30), 1)
    if rng.random() < 0.4:  # the maker's emblem
        centre = (int(px + rng.normal(0, 0.1) * pw), int(py - ph * rng.uniform(1.2, 2.0)))
        axes = (max(2, int(ph * rng.uniform(0.3, 0.6))), max(2, int(ph * rng.uniform(0.2, 0.4))))
        cv2.ellipse(img, centre, axes, 0, 0, 360, chrome, max(1, int(ph * 0.06)), cv2.LINE_AA)
    if rng.random() < 0.3:  # parking sensors in the bumper
        for k in range(4):
            cx = int(bx0 + bw * (0.2 + 0.2 * k))
            cv2.circle(img, (cx, int(bump_y + ph * 0.5)), max(1, int(ph * 0.08)), _jitter(rng, bumper, 20), -1)
    for _ in range(int(rng.integers(0, 3))):  # badges: text rows that are not plates
        scale = ph / 40 * rng.uniform(0.4, 1.0)
        org = (int(px + rng.uniform(-2.5, 1.5) * pw), int(py - rng.uniform(0.9, 2.5) * ph))
        cv2.putText(img, BADGES[int(rng.integers(len(BADGES)))], org, cv2.FONT_HERSHEY_SIMPLEX, scale,
                    _jitter(rng, (210, 210, 215), 30), max(1, int(scale * 2)), cv2.LINE_AA)
    return img


def _placement(rng: np.random.Generator, face_hw, corners, scale: float, centre, strength: float) -> np.ndarray:
    """Homography from face pixels to the scene: scale, yaw and pitch foreshortening, roll, position."""
    fh, fw = face_hw
    src = np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]])
    c = corners.mean(axis=0)
    pts = (src - c) * scale
    yaw = rng.normal(0, 0.07 * (0.3 + strength))
    pitch = rng.normal(0, 0.035 * (0.3 + strength))
    pts[:, 1] *= np.where(pts[:, 0] < 0, 1 + yaw, 1 - yaw)
    pts[:, 0] *= np.where(pts[:, 1] < 0, 1 + pitch, 1 - pitch) * (1 - min(0.5, abs(yaw)))
    roll = np.deg2rad(rng.normal(0, 2.5 * (0.3 + strength)))
    rot = np.float32([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    dst = pts @ rot.T + np.float32(centre)
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


def render_scene(
    rng: np.random.Generator,
    region: str = "us",
    size: tuple[int, int] | None = None,
    crop: float | None = None,
    strength: float = 1.0,
    glyph_px: tuple[float, float] = (10.0, 40.0),
    stacked: float = 0.05,
) -> SyntheticPlate:
    """One synthetic scene with a plate of ``region`` ("us", "eu", "br"; or one jurisdiction, "eu-fr").

    ``size``: scene width and height (default drawn from 640x360 .. 1280x720).  ``crop``:
    when set, the scene is cut down to about ``crop`` plate widths around the plate.
    ``strength``: how hard the camera degrades it (0 clean, 1 typical, more for harder).
    ``glyph_px``: the range of main character heights in the scene, pixels.  ``stacked``: the
    chance that a short US series gets two small stacked letters in front (part of ``text``;
    0 for none: the reader's row finder does not see them as part of the row)."""
    jurisdiction_wanted = region.lower()
    region = jurisdiction_wanted.split("-")[0]  # "eu-fr": French plates in the EU style
    text, pattern, fmt, jurisdiction, display = _plate_text(rng, jurisdiction_wanted)
    small = ""
    groups = group_text(rng, text, pattern, region, display)
    if region == "us" and fmt != "vanity" and len(text) <= 6 and rng.random() < stacked:
        small = fill_pattern(rng, "LL")
        text, fmt = small + text, "LL" + fmt  # stacked small letters are part of the plate string
    fonts = fonts_for(region)
    ir = infrared_draw(rng, strength)
    face = render_face(rng, region, groups, fonts[int(rng.integers(len(fonts)))], jurisdiction, small, ir)
    w, h = size or SCENE_SIZES[int(rng.integers(len(SCENE_SIZES)))]
    lo, hi = glyph_px
    # Uniform, not log-uniform: the dev set's plates have few glyphs under 14 px (its boxes' median
    # is 44 px tall, glyphs about 20), and a third of scenes at 10-14 px made the grids mostly mush.
    glyph = float(rng.uniform(lo, hi))
    scale = glyph / face.text_height
    plate_w = float(np.linalg.norm(face.corners[1] - face.corners[0])) * scale
    plate_h = float(np.linalg.norm(face.corners[3] - face.corners[0])) * scale
    margin_x, margin_y = min(plate_w * 0.7, w * 0.45), min(plate_h * 0.8, h * 0.45)
    centre = (rng.uniform(margin_x, w - margin_x), rng.uniform(max(margin_y, h * 0.3), h - margin_y))
    m = _placement(rng, face.pixels.shape[:2], face.corners, scale, centre, strength)
    img = _background(rng, w, h, centre, (plate_w, plate_h))
    _composite(img, face.pixels, m)
    quad = cv2.perspectiveTransform(face.corners[None], m)[0]
    x0, y0 = np.clip(quad.min(axis=0), 0, [w - 1, h - 1])
    x1, y1 = np.clip(quad.max(axis=0), 0, [w - 1, h - 1])
    box = (int(x0), int(y0), max(1, int(round(x1 - x0))), max(1, int(round(y1 - y0))))
    if crop:
        before = box
        img, box = _crop_around(rng, img, box, crop)
        quad = quad - np.float32([before[0] - box[0], before[1] - box[1]])  # into the crop's pixels
    img = degrade(rng, img, box, strength, ir)
    return SyntheticPlate(img, text, box, fmt, jurisdiction, glyph, ir, quad.astype(np.float32))


def _composite(img: np.ndarray, face: np.ndarray, m: np.ndarray) -> None:
    """Alpha-blend the warped face into the scene, touching only its bounding box."""
    fh, fw = face.shape[:2]
    outline = cv2.perspectiveTransform(np.float32([[[0, 0], [fw, 0], [fw, fh], [0, fh]]]), m)[0]
    h, w = img.shape[:2]
    x0, y0 = np.floor(np.clip(outline.min(axis=0), 0, [w, h])).astype(int)
    x1, y1 = np.ceil(np.clip(outline.max(axis=0), 0, [w, h])).astype(int)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    # Shrink the face first (area-averaged) so the warp does not alias fine strokes.
    k = float(np.sqrt(abs(np.linalg.det(m[:2, :2] / m[2, 2]))))
    if k < 0.9:
        face = cv2.resize(face, (max(2, int(fw * k)), max(2, int(fh * k))), interpolation=cv2.INTER_AREA)
        pre = np.float64([[face.shape[1] / fw, 0, 0], [0, face.shape[0] / fh, 0], [0, 0, 1]])
        m = m @ np.linalg.inv(pre)
    shift = np.float64([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]])
    warped = cv2.warpPerspective(face, shift @ m, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_LINEAR,
                                 borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4].astype(np.float32) * np.float32(1 / 255)
    part = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (part + (warped[..., :3].astype(np.float32) - part) * alpha).astype(np.uint8)


def _crop_around(rng: np.random.Generator, img: np.ndarray, box, crop: float):
    x, y, bw, bh = box
    cw = int(bw * crop)
    ch = int(max(bh * 2.5, cw * rng.uniform(0.45, 0.65)))
    h, w = img.shape[:2]
    cx0 = int(np.clip(x + bw / 2 - cw * rng.uniform(0.35, 0.65), 0, max(0, w - cw)))
    cy0 = int(np.clip(y + bh / 2 - ch * rng.uniform(0.35, 0.65), 0, max(0, h - ch)))
    out = np.ascontiguousarray(img[cy0:cy0 + ch, cx0:cx0 + cw])
    return out, (x - cx0, y - cy0, bw, bh)


if __name__ == "__main__":
    from .synth_grid import main

    main()
