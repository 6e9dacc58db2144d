"""Synthetic training plates: reproducible, true to the region's formats, and readable by the reader."""

import re

import numpy as np
import pytest

from rtcc.alpr.reader import RegionFormats
from rtcc.alpr.training import synth_strings
from rtcc.alpr.training.synthetic import render_scene


def _fits(text: str, pattern: str) -> bool:
    classes = {"L": "[A-Z]", "D": "[0-9]", "A": "[0-9A-Z]"}
    return re.fullmatch("".join(classes[c] for c in pattern), text) is not None


def test_same_seed_gives_the_same_scene_and_another_seed_a_different_one():
    a = render_scene(np.random.default_rng(5), "us")
    b = render_scene(np.random.default_rng(5), "us")
    c = render_scene(np.random.default_rng(6), "us")
    assert (a.text, a.box, a.format, a.jurisdiction) == (b.text, b.box, b.format, b.jurisdiction)
    assert np.array_equal(a.image, b.image)
    assert a.text != c.text or not np.array_equal(a.image, c.image)


@pytest.mark.parametrize("region", ["us", "eu", "br"])
def test_plate_text_fits_a_format_of_its_region(region):
    patterns = {s.pattern for s in synth_strings.region_formats(region)}
    rng = np.random.default_rng(11)
    for _ in range(40):
        s = render_scene(rng, region, size=(640, 360))
        assert re.fullmatch("[0-9A-Z]+", s.text), s.text
        if s.format == "vanity":
            assert 2 <= len(s.text) <= 7
            continue
        assert _fits(s.text, s.format), (s.text, s.format)
        # A US plate may carry two small stacked letters before its series (format "LL" + pattern).
        assert s.format in patterns or (region == "us" and s.format[2:] in patterns), s.format
    if region == "br":
        assert patterns >= {"LLLDDDD", "LLLDLDD"}  # old and Mercosur series


def test_us_format_strings_are_formats_the_reader_knows():
    us = RegionFormats.load("us")
    rng = np.random.default_rng(3)
    known = [render_scene(rng, "us", size=(640, 360)) for _ in range(30)]
    fitting = [s for s in known if s.format in {f.pattern for f in us.formats}]
    assert len(fitting) >= 20
    assert all(us.matches(s.text) for s in fitting)


def test_letters_a_format_leaves_out_are_never_drawn(tmp_path, monkeypatch):
    (tmp_path / "xx_plate_formats.toml").write_text(
        '[region]\ncode = "xx"\n\n'
        '[[format]]\npattern = "LLLLDD"\nregions = ["xx"]\nletters = "BCDFGHJKLMNPRSTVWXYZ"\n\n'
        '[[format]]\npattern = "LLDDLL"\nregions = ["yy"]\nexclude = "AEIOUQ"\n'
    )
    monkeypatch.setattr(synth_strings, "FORMATS_DIR", tmp_path)
    synth_strings.region_formats.cache_clear()
    try:
        rng = np.random.default_rng(2)
        drawn = [synth_strings.sample_format(rng, "xx") for _ in range(200)]
        texts = [(synth_strings.sample_text(rng, spec), spec.pattern) for spec, _ in drawn]
    finally:
        synth_strings.region_formats.cache_clear()
    assert {j for _, j in drawn} == {"xx", "yy"}
    assert not set("".join(t for t, _ in texts)) & set("AEIOUQ")
    assert all(_fits(t, p) for t, p in texts)


@pytest.mark.parametrize("crop", [None, 4.0])
def test_plate_box_lies_in_the_image(crop):
    rng = np.random.default_rng(9)
    for _ in range(25):
        s = render_scene(rng, "us", crop=crop)
        h, w = s.image.shape[:2]
        x, y, bw, bh = s.box
        assert s.image.dtype == np.uint8 and s.image.shape[2] == 3
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
        assert bw > bh > 0  # plates are wider than tall
        corners_box = np.concatenate([s.corners.min(axis=0), s.corners.max(axis=0)])
        assert np.allclose(corners_box, [x, y, x + bw, y + bh], atol=1.5) or not (
            (s.corners >= 0).all() and (s.corners <= [w - 1, h - 1]).all())  # the box bounds the corners
        if crop:
            assert w <= bw * crop + 2  # a tight crop around the plate


def test_plates_rendered_with_mild_degradation_are_read_by_the_plate_reader(reader):
    """The renderer draws plates a reader can read: most clean scenes are read exactly."""
    us = RegionFormats.load("us")
    rng = np.random.default_rng(7)
    exact = 0
    for _ in range(20):
        s = render_scene(rng, "us", size=(640, 360), strength=0.3, glyph_px=(16, 36))
        reads = reader.read_image(s.image)
        exact += bool(reads) and us.canonical(reads[0].plate) == us.canonical(s.text)
    assert exact > 10, f"{exact} of 20 read exactly"


def test_grid_command_writes_samples_beside_real_crops(tmp_path):
    import cv2

    from rtcc.alpr.training.synth_grid import CELL_H, CELL_W, main

    dev = tmp_path / "dev"
    dev.mkdir()
    scene = render_scene(np.random.default_rng(1), "us", size=(640, 360))
    cv2.imwrite(str(dev / "car.jpg"), scene.image)
    (dev / "groundtruth.tsv").write_text("car.jpg\t" + "\t".join(map(str, scene.box)) + f"\t{scene.text}\n")
    out = tmp_path / "grid.png"
    main(["--grid", str(out), "--count", "8", "--seed", "2", "--real", str(dev)])
    grid = cv2.imread(str(out))
    assert grid.shape[:2] == (2 * CELL_H, 8 * CELL_W)  # a row of real crops over a row of synthetic ones
    assert grid[:CELL_H, CELL_W:].max() == 0  # one real crop, the rest of its row empty
    assert grid[CELL_H:].std() > 10  # synthetic samples drawn


def test_one_jurisdiction_gets_its_own_series_without_the_letters_it_never_issues():
    assert (synth_strings.FORMATS_DIR / "eu_plate_formats.toml").exists()  # the region's formats, not the fallback
    rng = np.random.default_rng(4)
    french = [render_scene(rng, "eu-fr", size=(640, 360)) for _ in range(25)]
    spanish = [synth_strings.sample_format(rng, "eu-es") for _ in range(50)]
    assert {s.jurisdiction for s in french} == {"fr"}
    current = [s.text for s in french if s.format == "LLDDDLL"]  # the SIV series "AB-123-CD"
    assert current and not set("".join(current)) & set("IOU")
    assert {j for _, j in spanish} == {"es"}
    letters = "".join(ch for spec, _ in spanish if spec.pattern == "DDDDLLL"
                      for ch in synth_strings.sample_text(rng, spec)[4:])
    assert letters and not set(letters) & set("AEIOU")
