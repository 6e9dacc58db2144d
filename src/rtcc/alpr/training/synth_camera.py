"""Camera degradations for synthetic scenes: exposure, shadow, glare, night IR, blur, low resolution, noise, JPEG.

Every draw comes from the caller's numpy Generator, so a seed fixes the image.
``strength`` scales how often (and how hard) each degradation is applied: 0 leaves
a clean image apart from the exposure and white balance a camera always has.
"""

from __future__ import annotations

from statistics import NormalDist

import cv2
import numpy as np

# 256 quantiles of the standard normal: Gaussian noise from random bytes (much cheaper per pixel).
_NORMAL_QUANTILES = np.array([NormalDist().inv_cdf((k + 0.5) / 256) for k in range(256)], np.float32)


def _roi(box: tuple[int, int, int, int], grow: float, shape) -> tuple[slice, slice]:
    x, y, w, h = box
    gx, gy = w * grow, h * grow
    x0, y0 = max(0, int(x - gx)), max(0, int(y - gy))
    x1, y1 = min(shape[1], int(x + w + gx)), min(shape[0], int(y + h + gy))
    return slice(y0, max(y0 + 1, y1)), slice(x0, max(x0 + 1, x1))


def exposure(rng: np.random.Generator, img: np.ndarray, strength: float) -> np.ndarray:
    """Gamma, gain, white balance, and often a washed-out saturation and contrast (the dev crops are
    greyer and flatter than clean renders): one lookup table, then one 3x4 colour transform."""
    gain = rng.uniform(1 - 0.35 * strength, 1 + 0.25 * strength)
    gamma = rng.uniform(1 - 0.3 * strength, 1 + 0.4 * strength)
    balance = 1 + rng.uniform(-0.08, 0.08, 3) * (0.5 + strength)
    desaturate, contrast = 0.0, 1.0
    if rng.random() < 0.6:
        desaturate, contrast = rng.uniform(0.0, 0.5), rng.uniform(1 - 0.3 * min(strength, 1.0), 1.0)
    curve = np.clip(255.0 * (np.arange(256, dtype=np.float32) / 255.0) ** gamma, 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    out = cv2.LUT(img.reshape(h, w * 3), curve).reshape(h, w, 3)
    luma = np.float32([0.114, 0.587, 0.299])  # BGR
    mix = (1 - desaturate) * np.eye(3, dtype=np.float32) + desaturate * np.outer(np.ones(3, np.float32), luma)
    m = np.zeros((3, 4), np.float32)
    m[:, :3] = contrast * mix @ np.diag((gain * balance).astype(np.float32))
    m[:, 3] = 128.0 * (1 - contrast)
    return cv2.transform(out, m)


def shadow(rng: np.random.Generator, img: np.ndarray, box) -> None:
    """A hard shadow edge across the plate (a trunk lid, a pole)."""
    sy, sx = _roi(box, 1.0, img.shape)
    part = img[sy, sx]
    h, w = part.shape[:2]
    a = rng.uniform(0, 2 * np.pi)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    along, normal = np.array([-np.sin(a), np.cos(a)]), np.array([np.cos(a), np.sin(a)])
    far = 4.0 * (w + h)
    centre = np.array([cx, cy])
    half_plane = np.array([centre + along * far, centre + along * far + normal * far,
                           centre - along * far + normal * far, centre - along * far], np.int32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, half_plane, 255)
    cv2.copyTo(cv2.convertScaleAbs(part, alpha=rng.uniform(0.35, 0.7)), mask, part)


def glare(rng: np.random.Generator, img: np.ndarray, box) -> None:
    """A bright specular spot on the plate (sun, headlights)."""
    sy, sx = _roi(box, 0.3, img.shape)
    part = img[sy, sx].astype(np.float32)
    h, w = part.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, r = rng.uniform(0.1, 0.9) * w, rng.uniform(0.2, 0.8) * h, rng.uniform(0.15, 0.5) * w
    spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(80, 220)
    img[sy, sx] = np.clip(part + spot[..., None], 0, 255).astype(np.uint8)


def night_ir(rng: np.random.Generator, img: np.ndarray, box) -> np.ndarray:
    """Infrared at night: grey, the retroreflective plate bright and contrasty, the rest dark, bloom."""
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    out = cv2.convertScaleAbs(grey, alpha=rng.uniform(0.15, 0.45))
    sy, sx = _roi(box, 0.02, img.shape)
    plate = grey[sy, sx].astype(np.float32)
    contrast = rng.uniform(1.3, 2.2)
    out[sy, sx] = np.clip((plate - plate.mean()) * contrast + rng.uniform(150, 210), 0, 255).astype(np.uint8)
    _, bright = cv2.threshold(out, 200, 255, cv2.THRESH_TOZERO)
    bloom = cv2.GaussianBlur(bright, (0, 0), rng.uniform(2, 6))
    out = cv2.addWeighted(out, 1.0, bloom, rng.uniform(0.2, 0.6), 0)  # saturating
    return cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)


def motion_blur(rng: np.random.Generator, img: np.ndarray, strength: float) -> np.ndarray:
    length = int(rng.integers(2, 3 + int(4 * strength)))
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    angle = rng.normal(0, 20) if rng.random() < 0.7 else rng.uniform(0, 180)
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    return cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))


def low_resolution(rng: np.random.Generator, img: np.ndarray, strength: float) -> np.ndarray:
    f = rng.uniform(1.2, 1.3 + 0.9 * strength)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(8, int(w / f)), max(8, int(h / f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def noise(rng: np.random.Generator, img: np.ndarray, sigma: float) -> np.ndarray:
    """Sensor noise, mostly in brightness (one draw per pixel shared by the channels, as after demosaicing)."""
    lut = np.round(_NORMAL_QUANTILES * sigma).astype(np.int16)
    draw = rng.integers(0, 256, img.shape[:2], dtype=np.uint8)
    # Saturating uint8 add of the positive part and subtract of the negative part: a pixel has
    # only one of them, so this is exactly a clipped add, at a fraction of the int16 round trip.
    up = cv2.cvtColor(cv2.LUT(draw, np.clip(lut, 0, 255).astype(np.uint8)), cv2.COLOR_GRAY2BGR)
    down = cv2.cvtColor(cv2.LUT(draw, np.clip(-lut, 0, 255).astype(np.uint8)), cv2.COLOR_GRAY2BGR)
    return cv2.subtract(cv2.add(img, up), down)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else img


def infrared_draw(rng: np.random.Generator, strength: float = 1.0) -> bool:
    """Whether a scene is a night IR frame (drawn before the plate, whose inks depend on it)."""
    return bool(rng.random() < 0.12 * max(0.0, strength))


def degrade(rng: np.random.Generator, img: np.ndarray, box, strength: float = 1.0, ir: bool = False) -> np.ndarray:
    """Apply a random camera's defects (``ir``: as a night infrared frame)."""
    s = max(0.0, strength)
    img = exposure(rng, img, s)
    if rng.random() < 0.2 * s:
        shadow(rng, img, box)
    if rng.random() < 0.12 * s:
        glare(rng, img, box)
    if ir:
        img = night_ir(rng, img, box)
    if rng.random() < 0.12 * s:
        img = motion_blur(rng, img, s)
    if rng.random() < 0.15 * s:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 0.5 + 0.6 * s))
    if rng.random() < 0.15 * s:
        img = low_resolution(rng, img, s)
    if rng.random() < 0.5 * s:
        img = noise(rng, img, rng.uniform(2, 3 + 8 * s))
    if rng.random() < 0.6 * s:
        img = jpeg(img, int(rng.integers(max(15, int(90 - 65 * s)), 92)))
    return img
