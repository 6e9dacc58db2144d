"""Plate faces: background, main text, state or country marks, slogan, frame, stickers, bolts.

A face is drawn upright at a fixed scale (main glyphs ``CAP`` pixels tall) with a
transparent margin around the plate for a dealer frame; the scene warps it into
place.  Styles follow the region: US (state name on top, slogan below, graphic
backgrounds, registration stickers), EU (blue band with stars and country
letters, white or yellow), Brazil (Mercosur blue band with BRASIL, or the old
grey LLL-9999).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .synth_fonts import CAP, ROWS, GlyphSet, label_font_names, text_mask, truetype
from .synth_strings import plain

US_STATES = (
    "CALIFORNIA", "NEW YORK", "TEXAS", "FLORIDA", "ILLINOIS", "OHIO", "GEORGIA", "MICHIGAN", "ARIZONA",
    "PENNSYLVANIA", "VIRGINIA", "WASHINGTON", "COLORADO", "NEW JERSEY", "MISSOURI", "MARYLAND", "NEVADA",
    "MASSACHUSETTS", "OREGON", "MINNESOTA", "Tennessee", "Wisconsin", "Illinois", "Texas", "Florida",
)
SLOGANS = (
    "dmv.ca.gov", "Sunshine State", "LAND OF LINCOLN", "EMPIRE STATE", "THE LONE STAR STATE", "Grand Canyon State",
    "Peach State", "PURE MICHIGAN", "visitPA.com", "Garden State", "SHOW-ME STATE", "Live Free or Die",
    "Great Lakes", "10,000 lakes", "Evergreen State", "Virginia is for Lovers", "COLORFUL COLORADO",
)
DEALERS = ("TOYOTA OF BERKELEY", "HONDA WORLD", "FORD", "CARMAX", "SUBARU", "AutoNation", "CHEVROLET", "KIA MOTORS")
EU_COUNTRY_CODES = {"fr": "F", "it": "I", "es": "E", "de": "D", "nl": "NL", "pl": "PL", "be": "B", "pt": "P",
                    "at": "A", "cz": "CZ", "se": "S", "dk": "DK", "fi": "FIN", "ie": "IRL", "hu": "H", "ro": "RO",
                    "gr": "GR", "lu": "L", "sk": "SK", "si": "SLO", "hr": "HR", "bg": "BG", "lt": "LT", "lv": "LV",
                    "ee": "EST"}
# Ink colours (BGR): dark blue, black, maroon, dark green, dark red.
US_INKS = ((110, 30, 20), (20, 20, 20), (40, 20, 110), (40, 80, 20), (30, 30, 150), (90, 40, 30))
# Per style: the main glyphs' height as a fraction of the plate's, and the plate's width / height
# (US 12 x 6 in; EU 520 x 110 mm; Mercosur 400 x 130 mm).
PLATE_SHAPES = {"us": ((0.42, 0.5), 2.0), "eu": ((0.64, 0.7), 4.7), "br": ((0.46, 0.52), 3.08)}
EU_BLUE = (153, 51, 0)
BR_BLUE = (140, 60, 10)


@dataclass
class Face:
    """An upright plate drawing: BGRA pixels (alpha 0 outside plate and frame) and the plate's corners."""

    pixels: np.ndarray
    corners: np.ndarray  # (4, 2) float32 tl, tr, br, bl of the plate in ``pixels``
    text_height: float  # main glyph height, pixels
    stacked: str = ""  # small stacked characters that are part of the plate string


def _gradient(h: int, w: int, top, bottom) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    col = (np.float32(top) * (1 - t) + np.float32(bottom) * t).astype(np.uint8)
    return cv2.resize(col, (w, h), interpolation=cv2.INTER_NEAREST)


def _jitter(rng: np.random.Generator, colour, spread: int = 18) -> tuple[int, int, int]:
    d = rng.integers(-spread, spread + 1, 3)
    return tuple(min(255, max(0, int(c) + int(k))) for c, k in zip(colour, d))


def _us_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    draw = rng.random()
    if draw < 0.6:
        return _gradient(h, w, _jitter(rng, (245, 245, 245), 10), _jitter(rng, (235, 235, 235), 12))
    if draw < 0.66:
        return _gradient(h, w, _jitter(rng, (60, 210, 240)), _jitter(rng, (40, 200, 235)))  # yellow
    if draw < 0.78:
        return _gradient(h, w, _jitter(rng, (240, 215, 170)), _jitter(rng, (250, 245, 240)))  # sky blue fade
    bg = _gradient(h, w, _jitter(rng, (250, 250, 250), 5), _jitter(rng, (rng.integers(150, 250),) * 3, 40))
    # A graphic: a hill or mountain silhouette and a sun, in pale colours.
    xs = np.arange(w)
    ridge = (h * (0.55 + 0.2 * np.sin(xs / w * rng.uniform(2, 9) + rng.uniform(0, 6)))).astype(np.int32)
    pts = np.concatenate([np.stack([xs, ridge], 1), [[w - 1, h - 1], [0, h - 1]]]).astype(np.int32)
    bg = bg.copy()
    cv2.fillPoly(bg, [pts], _jitter(rng, (170, 200, 180), 60))
    if rng.random() < 0.5:
        cv2.circle(bg, (int(rng.integers(0, w)), int(h * 0.3)), int(h * 0.25), _jitter(rng, (120, 200, 250), 30), -1)
    return cv2.addWeighted(bg, 0.55, np.full_like(bg, 245), 0.45, 0)


@lru_cache(maxsize=8192)
def _text_bitmap(name: str, size: int, text: str) -> tuple[Image.Image, int, int]:
    """A rendered label (state names, slogans, sticker years repeat: render each once) and its offset to the centre."""
    font = truetype(name, size)
    x0, y0, x1, y1 = font.getbbox(text, anchor="mm")
    bitmap = Image.new("L", (max(1, x1 - x0), max(1, y1 - y0)), 0)
    ImageDraw.Draw(bitmap).text((-x0, -y0), text, font=font, fill=255, anchor="mm")
    return bitmap, x0, y0


def _text_at(draw: ImageDraw.ImageDraw, name: str, size: int, text: str, cx: float, cy: float, fill,
             max_w: float = 1e9) -> None:
    """Draw ``text`` centred on (cx, cy), shrunk to ``max_w`` pixels wide if it is wider."""
    bitmap, dx, dy = _text_bitmap(name, max(6, size), text)
    if bitmap.width > max_w:
        bitmap, dx, dy = _text_bitmap(name, max(6, int(size * max_w / bitmap.width)), text)
    draw.bitmap((int(round(cx + dx)), int(round(cy + dy))), bitmap, fill=fill)


def _label(draw: ImageDraw.ImageDraw, rng, text: str, cx: float, cy: float, size: int, fill, max_w: float) -> None:
    names = label_font_names()
    _text_at(draw, names[int(rng.integers(len(names)))], size, text, cx, cy, fill, max_w)


def _sticker(draw: ImageDraw.ImageDraw, rng, x: float, y: float, s: float) -> None:
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    draw.rectangle((x, y, x + s * 1.3, y + s), fill=colour)
    year = f"{int(rng.integers(18, 30))}"
    _text_at(draw, label_font_names()[0], int(s * 0.6), year, x + s * 0.65, y + s * 0.5, (20, 20, 20))


def _emblem(draw: ImageDraw.ImageDraw, rng, cx: float, cy: float, cap_h: float, gap_w: float, seals: bool) -> None:
    r = min(gap_w * 0.4, cap_h * 0.3)
    if seals:  # German plates: the registration sticker over the district seal
        for dy, colour in ((-r * 1.1, _jitter(rng, (40, 120, 200), 60)), (r * 1.1, (150, 150, 150))):
            draw.ellipse((cx - r, cy + dy - r, cx + r, cy + dy + r), fill=colour, outline=(60, 60, 60))
        return
    colour = _jitter(rng, ((40, 40, 200), (150, 60, 20), (40, 120, 40), (30, 30, 30))[int(rng.integers(4))], 30)
    shape = int(rng.integers(3))
    if shape == 0:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == 1:
        draw.polygon([(cx, cy - r * 1.3), (cx + r, cy), (cx, cy + r * 1.3), (cx - r, cy)], fill=colour)
    else:  # a state outline, roughly: an irregular polygon
        k = 7
        pts = [(cx + r * rng.uniform(0.6, 1.1) * np.cos(2 * np.pi * i / k),
                cy + r * 1.2 * rng.uniform(0.6, 1.1) * np.sin(2 * np.pi * i / k)) for i in range(k)]
        draw.polygon(pts, fill=colour)


def _bolts(draw: ImageDraw.ImageDraw, rng, x0: float, y0: float, w: float, h: float) -> None:
    r = h * rng.uniform(0.04, 0.07)
    ys = [y0 + h * 0.12] + ([y0 + h * 0.88] if rng.random() < 0.4 else [])
    chrome = int(rng.integers(90, 230))
    for y in ys:
        for x in (x0 + w * 0.22, x0 + w * 0.78):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(chrome, chrome, chrome), outline=(40, 40, 40))


def render_face(
    rng: np.random.Generator, region: str, groups: list[str], glyphs: GlyphSet, jurisdiction: str, stacked: str = "",
    infrared: bool = False,
) -> Face:
    """Draw one plate for ``groups`` (the main text in printed groups) in the region's style.

    ``infrared``: the frame will be a night IR one, where coloured inks of state names and
    slogans often reflect like the background and vanish (the plate number's ink does not)."""
    style = region if region in ("eu", "br") else "us"
    (cap_lo, cap_hi), aspect = PLATE_SHAPES[style]
    ph = int(CAP / rng.uniform(cap_lo, cap_hi))
    pw = int(ph * aspect)
    frame = rng.random() < (0.5 if style == "us" else 0.15)
    dealer_frame = frame and rng.random() < 0.6  # else a plain plastic or chrome holder
    if dealer_frame:
        mt, mb, ms = int(ph * 0.14), int(ph * 0.2), int(ph * 0.06)
    elif frame:
        mt = mb = ms = max(3, int(ph * rng.uniform(0.03, 0.07)))
    else:
        mt = mb = ms = 2
    H, W = ph + mt + mb, pw + 2 * ms
    x0, y0 = ms, mt
    old_br = style == "br" and len(groups) == 2 and plain(groups[1]).isdigit()
    if style == "us":
        bg = _us_background(rng, ph, pw)
        ink = _jitter(rng, US_INKS[int(rng.integers(len(US_INKS)))], 10)
    elif style == "eu":
        yellow = jurisdiction == "nl" and rng.random() < 0.7
        bg = _gradient(ph, pw, _jitter(rng, (60, 200, 245) if yellow else (240, 240, 240), 8), _jitter(
            rng, (50, 190, 240) if yellow else (228, 228, 228), 8))
        ink = _jitter(rng, (20, 20, 20), 8)
    else:
        bg = _gradient(ph, pw, _jitter(rng, (170, 170, 170) if old_br else (240, 240, 240), 10),
                       _jitter(rng, (160, 160, 160) if old_br else (230, 230, 230), 10))
        ink = _jitter(rng, (20, 20, 20), 8)
    canvas = np.zeros((H, W, 4), np.uint8)
    if frame:
        canvas[..., :3] = _jitter(rng, (rng.choice([20, 35, 50, 190, 215]),) * 3, 15)
        canvas[..., 3] = 255
    canvas[y0:y0 + ph, x0:x0 + pw, :3] = bg
    canvas[y0:y0 + ph, x0:x0 + pw, 3] = 255
    img = Image.fromarray(canvas, "RGBA")  # channels stay BGR(A): Pillow only paints the numbers it is given
    draw = ImageDraw.Draw(img)
    draw.rectangle((x0, y0, x0 + pw - 1, y0 + ph - 1), outline=ink if rng.random() < 0.5 else (60, 60, 60), width=2)

    left, right, top, bottom = x0 + 0.05 * pw, x0 + 0.95 * pw, y0, y0 + ph
    if style == "eu":
        band = int(pw * 0.085)
        draw.rectangle((x0 + 2, y0 + 2, x0 + band, y0 + ph - 3), fill=EU_BLUE)
        cx, cy, rr = x0 + band / 2 + 1, y0 + ph * 0.32, band * 0.3
        for k in range(12):
            a = k * np.pi / 6
            sx, sy = cx + rr * np.cos(a), cy + rr * np.sin(a)
            draw.ellipse((sx - 1.2, sy - 1.2, sx + 1.2, sy + 1.2), fill=(0, 204, 255))
        code = EU_COUNTRY_CODES.get(jurisdiction, jurisdiction[:2].upper())
        _label(draw, rng, code, cx, y0 + ph * 0.75, int(ph * 0.28), (255, 255, 255), band * 0.9)
        left = x0 + band + 0.04 * pw
    elif style == "br" and not old_br:
        band = int(ph * 0.2)
        draw.rectangle((x0 + 2, y0 + 2, x0 + pw - 3, y0 + band), fill=BR_BLUE)
        _label(draw, rng, "BRASIL", x0 + pw / 2, y0 + band / 2 + 1, int(band * 0.8), (255, 255, 255), pw * 0.4)
        draw.rectangle((x0 + pw * 0.88, y0 + band * 0.2, x0 + pw * 0.95, y0 + band * 0.8), fill=(60, 150, 40))
        top = y0 + band
    elif style == "br":
        _label(draw, rng, rng.choice(["SP - SAO PAULO", "RJ - RIO DE JANEIRO", "MG - BELO HORIZONTE"]),
               x0 + pw / 2, y0 + ph * 0.11, int(ph * 0.14), ink, pw * 0.7)
        top = y0 + ph * 0.2
    else:
        state = US_STATES[int(rng.integers(len(US_STATES)))]
        state_ink = _jitter(rng, US_INKS[int(rng.integers(len(US_INKS)))], 20)
        if infrared and rng.random() < 0.6:
            state_ink = tuple(int(c) for c in np.clip(np.float32(bg[ph // 5, pw // 2]) * 0.85, 0, 255))
        _label(draw, rng, state, x0 + pw / 2, y0 + ph * 0.14, int(ph * rng.uniform(0.14, 0.2)), state_ink, pw * 0.7)
        if rng.random() < 0.7:
            slogan = SLOGANS[int(rng.integers(len(SLOGANS)))]
            _label(draw, rng, slogan, x0 + pw / 2, y0 + ph * 0.89, int(ph * rng.uniform(0.09, 0.13)), state_ink,
                   pw * 0.6)
        if rng.random() < 0.6:
            s = ph * rng.uniform(0.13, 0.18)
            _sticker(draw, rng, x0 + pw * (0.04 if rng.random() < 0.5 else 0.96) - (0 if rng.random() < 0.5 else s),
                     y0 + ph * 0.04, s)
        top, bottom = y0 + ph * 0.22, y0 + ph * 0.82

    if stacked:
        sh = int(CAP * 0.45)
        font = truetype(glyphs.name, int(sh * 1.3))
        for k, ch in enumerate(stacked[:2]):
            draw.text((left, top + 4 + k * (sh + 3)), ch, font=font, fill=ink, anchor="lt")
        left += sh * 1.1

    # Main text, condensed to fit the space left between the marks.
    # An emblem between groups (a state shape, a heart; Germany's seal stickers): the issue's
    # "emblem read as an extra character".
    emblem = len(groups) >= 2 and not groups[1].startswith("-") and (
        (style == "us" and rng.random() < 0.35) or (jurisdiction == "de" and rng.random() < 0.8))
    group_gap = rng.uniform(0.6, 0.8) if emblem else rng.uniform(0.25, 0.45)
    mask, gaps = text_mask(glyphs, groups, rng.uniform(0.06, 0.14), group_gap, rng.uniform(0.85, 1.05),
                           int(rng.choice([-2, 0, 0, 0, 2])))
    avail_w, avail_h = right - left, bottom - top
    scale_x = min(1.0, avail_w / mask.shape[1])
    scale_y = min(1.0, avail_h * 0.98 / CAP)
    tw, th = max(4, int(mask.shape[1] * min(scale_x, 1.0))), max(4, int(mask.shape[0] * scale_y))
    mask = cv2.resize(mask, (tw, th), interpolation=cv2.INTER_AREA)
    cap_h = th * CAP / ROWS  # the mask's last rows are the descent (the tail of Q)
    tx = int(left + (avail_w - tw) / 2 + rng.uniform(-0.03, 0.03) * avail_w * (scale_x < 1))
    ty = int(top + (avail_h - cap_h) / 2)
    img.paste(ink + (255,), (tx, ty), Image.fromarray(mask, "L"))
    if emblem and gaps:
        _emblem(draw, rng, tx + gaps[0] * scale_x, ty + cap_h / 2, cap_h, group_gap * CAP * scale_x,
                seals=jurisdiction == "de")
    if style == "us" and rng.random() < 0.55 or rng.random() < 0.2:
        _bolts(draw, rng, x0, y0, pw, ph)
    if dealer_frame:
        dealer = DEALERS[int(rng.integers(len(DEALERS)))]
        fink = (235, 235, 235) if canvas[0, 0, 0] < 120 else (25, 25, 25)
        _label(draw, rng, dealer, W / 2, H - mb / 2, int(mb * 0.7), fink, pw * 0.8)
        if rng.random() < 0.4:
            _label(draw, rng, "www.dealer.com", W / 2, mt / 2, int(mt * 0.7), fink, pw * 0.6)
    out = np.asarray(img).copy()
    _round_corners(out, int(ph * 0.06))
    corners = np.float32([[x0, y0], [x0 + pw, y0], [x0 + pw, y0 + ph], [x0, y0 + ph]])
    return Face(out, corners, float(cap_h), stacked)


def _round_corners(pixels: np.ndarray, r: int) -> None:
    if r < 2:
        return
    h, w = pixels.shape[:2]
    yy, xx = np.mgrid[0:r, 0:r]
    outside = (xx - r) ** 2 + (yy - r) ** 2 > r * r
    for sy, sx in ((slice(0, r), slice(0, r)), (slice(0, r), slice(w - r, w)),
                   (slice(h - r, h), slice(0, r)), (slice(h - r, h), slice(w - r, w))):
        m = outside
        if sx.start:
            m = m[:, ::-1]
        if sy.start:
            m = m[::-1]
        pixels[sy, sx, 3][m] = 0
