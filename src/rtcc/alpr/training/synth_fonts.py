"""Fonts for synthetic plates: Debian font packages (scripts/setup.sh installs them), cached glyphs.

Plate glyphs are narrow and bold; each font is rendered once per character at a
fixed cap height (``CAP`` pixels) and kept as a mask, so a plate costs a few
array copies.  I versus 1: most sans fonts draw I as a plain bar, which would
teach a recogniser that a bar is an I while US plates' 1 is often a bar with a
small flag.  Every font's I is checked; where it is a plain bar the I is drawn
with slab bars at top and bottom (as the serif I of DejaVu Sans Mono), and a
font whose 1 has no flag is not used at all.  O and 0 stay as the font draws
them (US plates often share the glyph; the formats treat them as one).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CAP = 48  # cap height of cached glyph masks, pixels
DESCENT = CAP // 8  # rows kept below the baseline: the tail of Q (without it Q is an O)
ROWS = CAP + 1 + DESCENT
_FONT_DIRS = ("/usr/share/fonts",)

# (file name, regions it suits). Narrow and bold faces; DIN-like grotesques for EU and Brazil.
PLATE_FONTS: tuple[tuple[str, str], ...] = (
    ("LiberationSansNarrow-Bold.ttf", "us eu br"),
    ("NimbusSansNarrow-Bold.otf", "us eu br"),
    ("RobotoCondensed-Bold.ttf", "us eu br"),
    ("RobotoCondensed-Medium.ttf", "us eu br"),
    ("DejaVuSansCondensed-Bold.ttf", "us eu br"),
    ("DejaVuSansMono-Bold.ttf", "us"),
    ("LiberationMono-Bold.ttf", "us"),
    ("FreeSansBold.ttf", "us eu"),
    ("Cabin-Bold.otf", "us"),
    ("LiberationSans-Bold.ttf", "us eu br"),
)
# Small print on the plate: state names, slogans, dealer frames.
LABEL_FONTS: tuple[str, ...] = (
    "DejaVuSerif-Bold.ttf", "LiberationSerif-Bold.ttf", "C059-Bold.otf", "NimbusSans-Bold.otf",
    "Z003-MediumItalic.otf", "DejaVuSans-Bold.ttf", "URWBookman-Demi.otf", "LiberationSans-Bold.ttf",
)


@lru_cache(maxsize=None)
def _font_index() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in _FONT_DIRS:
        for p in sorted(Path(root).rglob("*")):
            if p.suffix.lower() in (".ttf", ".otf"):
                found.setdefault(p.name, p)
    return found


@lru_cache(maxsize=None)
def truetype(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached font object (Pillow's bundled font when the file is not installed)."""
    path = _font_index().get(name)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size)


@dataclass
class GlyphSet:
    """One font's characters as masks of cap height CAP plus DESCENT rows (uint8, 255 = ink)."""

    name: str
    glyphs: dict[str, np.ndarray]
    stroke: float  # typical vertical stroke width, pixels at CAP
    barred_i: bool  # True when this module drew I's bars (the font's I is a plain bar)


def _render(font: ImageFont.FreeTypeFont, ch: str, baseline: int) -> np.ndarray:
    size = font.size
    img = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(img).text((size // 2, baseline), ch, font=font, fill=255, anchor="ls")
    a = np.asarray(img)[baseline - CAP:baseline + 1 + DESCENT]
    cols = np.flatnonzero(a.max(axis=0) > 40)
    if cols.size == 0:
        return np.zeros((a.shape[0], 2), np.uint8)
    return np.ascontiguousarray(a[:, cols[0]:cols[-1] + 1])


def _ink_width(row: np.ndarray) -> int:
    on = np.flatnonzero(row > 127)
    return int(on[-1] - on[0] + 1) if on.size else 0


def is_plain_bar(mask: np.ndarray) -> bool:
    """An I with no serifs: its top and bottom rows are no wider than its middle."""
    h = min(mask.shape[0], CAP + 1)
    mid = _ink_width(mask[h // 2])
    ends = max(_ink_width(mask[min(2, h - 1)]), _ink_width(mask[max(h - 3, 0)]))
    return ends <= mid * 1.3 + 1


def has_flag(mask: np.ndarray) -> bool:
    """A 1 whose upper third reaches well left of its stem (a flag), so it differs from a bar."""
    h = min(mask.shape[0], CAP + 1)
    stem = np.flatnonzero(mask[int(h * 0.6)] > 127)
    if not stem.size:
        return False
    reach = 0
    for y in range(int(h * 0.05), int(h * 0.35)):
        on = np.flatnonzero(mask[y] > 127)
        if on.size:
            reach = max(reach, int(stem[0] - on[0]))
    return reach >= 0.12 * h


def _barred_i(stem: np.ndarray, stroke: float) -> np.ndarray:
    h = CAP + 1  # bars at the cap line and on the baseline, not in the descent rows
    bar_w = max(stem.shape[1] + 4, int(round(h * 0.5)))
    out = np.zeros(stem.shape[:1] + (bar_w,), np.uint8)
    x0 = (bar_w - stem.shape[1]) // 2
    out[:, x0:x0 + stem.shape[1]] = stem
    t = max(2, int(round(stroke * 0.8)))
    out[:t] = 255
    out[h - t:] = 255
    return out


@lru_cache(maxsize=None)
def glyph_set(name: str) -> GlyphSet | None:
    """The font's 0-9A-Z at cap height CAP; None when its 1 has no flag (it would teach 1/I mix-ups)."""
    probe = truetype(name, 100)
    box = probe.getbbox("H", anchor="ls")
    size = max(8, int(round(100 * CAP / max(1, box[3] - box[1]))))
    font = truetype(name, size)
    baseline = size + size // 2
    glyphs = {ch: _render(font, ch, baseline) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    if not has_flag(glyphs["1"]):
        return None
    stroke = float(_ink_width(glyphs["I"][CAP // 2]))
    barred = is_plain_bar(glyphs["I"])
    if barred:
        glyphs["I"] = _barred_i(glyphs["I"], stroke)
    return GlyphSet(name, glyphs, stroke, barred)


@lru_cache(maxsize=None)
def fonts_for(region: str) -> tuple[GlyphSet, ...]:
    """Usable plate fonts for a region: installed, with a flagged 1 (falls back to any usable one)."""
    names = [n for n, regions in PLATE_FONTS if region in regions.split() and n in _font_index()]
    if not names:
        names = [n for n, _ in PLATE_FONTS if n in _font_index()] or ["default"]
    sets = tuple(g for g in (glyph_set(n) for n in names) if g is not None)
    if not sets:
        raise RuntimeError("no usable plate font: run scripts/setup.sh (it installs the Debian font packages)")
    return sets


def label_font_names() -> tuple[str, ...]:
    return tuple(n for n in LABEL_FONTS if n in _font_index()) or ("default",)


def text_mask(
    glyphs: GlyphSet, groups: list[str], gap: float, group_gap: float, condense: float, weight: int
) -> tuple[np.ndarray, list[float]]:
    """The plate's main text as one mask at cap height CAP (groups separated by group_gap x CAP;
    a group starting with "-" is printed after a dash).

    ``condense`` scales glyph widths; ``weight`` > 0 thickens strokes, < 0 thins them.
    Returns the mask and the x centres of the gaps between groups (where an emblem may go)."""
    parts: list[np.ndarray] = []
    gaps: list[float] = []
    gap_px, group_px = max(1, int(round(gap * CAP))), int(round(group_gap * CAP))
    for gi, group in enumerate(groups):
        if gi:
            space = np.zeros((ROWS, group_px), np.uint8)
            if group.startswith("-"):  # a printed dash between the groups
                t = max(2, int(glyphs.stroke * 0.8))
                space[CAP // 2 - t // 2:CAP // 2 - t // 2 + t, group_px // 5:group_px - group_px // 5] = 255
            gaps.append(sum(p.shape[1] for p in parts) + group_px / 2)
            parts.append(space)
        for ci, ch in enumerate(group.lstrip("-")):
            g = glyphs.glyphs[ch]
            w = max(2, int(round(g.shape[1] * condense)))
            if ci:
                parts.append(np.zeros((ROWS, gap_px), np.uint8))
            parts.append(cv2.resize(g, (w, ROWS), interpolation=cv2.INTER_AREA) if w != g.shape[1] else g)
    mask = np.concatenate(parts, axis=1)
    if weight:
        k = np.ones((1 + 2 * abs(weight) // 2, 1 + abs(weight)), np.uint8)
        mask = cv2.dilate(mask, k) if weight > 0 else cv2.erode(mask, k)
    return mask, gaps
