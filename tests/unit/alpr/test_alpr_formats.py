"""Format-aware resolution of confusable characters (no models needed)."""

import numpy as np
import pytest

from rtcc.alpr.reader.formats import RegionFormats
from rtcc.alpr.reader.recognise import ALPHABET, CharRead


def read_of(text: str, second: dict[int, tuple[str, float]] | None = None, p: float = 0.95) -> list[CharRead]:
    """A recogniser-like read: each char confident, optionally with a runner-up."""
    chars = []
    for i, ch in enumerate(text):
        d = np.full(len(ALPHABET), 1e-4, np.float32)
        d[ALPHABET.index(ch)] = 0.9
        if second and i in second:
            alt, q = second[i]
            d[ALPHABET.index(alt)] = q
        chars.append(CharRead(ch, p, d / d.sum()))
    return chars


@pytest.fixture(scope="module")
def us():
    return RegionFormats.load("us")


def test_formats_are_data_with_valid_patterns(us):
    assert len(us.formats) >= 10
    assert all(set(f.pattern) <= set("LDA") for f in us.formats)
    assert any(f.region == "us-ca" for f in us.formats)


def test_canonical_drops_separators_and_merges_o_and_zero(us):
    assert us.canonical("abc-12 O4") == "ABC1204"


def test_confusable_letter_in_digit_position_is_fixed(us):
    # California 1ABC234 pattern; the recogniser saw "I" where a digit must be.
    best = us.resolve(read_of("IABC234"))[0]
    assert best.text == "1ABC234"
    assert best.region == "us-ca"


def test_confusable_digits_in_letter_positions_are_fixed(us):
    # Missouri AB1 C2D pattern read with an S->5 confusion; the recogniser
    # gave the right letter a close second place.
    best = us.resolve(read_of("5B1C2G", second={0: ("S", 0.8)}))[0]
    assert best.text == "SB1C2G"
    assert best.region == "us-mo"


def test_runner_up_probability_guides_the_fix(us):
    # "B" in a digit slot with "8" as a strong runner-up becomes 8.
    best = us.resolve(read_of("BABC234", second={0: ("8", 0.5)}))[0]
    assert best.text == "8ABC234"


def test_two_unsupported_swaps_do_not_override_a_confident_read(us):
    # Formats fix confusions; they do not force every string into a format.
    assert us.resolve(read_of("5B1C26"))[0].text == "5B1C26"


def test_vanity_plate_without_format_is_kept(us):
    interps = us.resolve(read_of("NEILDMND"))
    assert interps[0].text == "NEILDMND"
    assert interps[0].pattern is None


def test_all_interpretations_are_kept_as_candidates(us):
    texts = [it.text for it in us.resolve(read_of("IABC234"))]
    assert "1ABC234" in texts and "IABC234" in texts
    assert texts[0] == "1ABC234"


def test_spurious_emblem_glyph_can_be_dropped(us):
    # Missouri plate with the emblem between the halves read as an extra "I".
    texts = [it.text for it in us.resolve(read_of("AB1IC2D"))]
    assert "AB1C2D" in texts


def test_confident_read_fitting_a_format_is_not_changed(us):
    assert us.resolve(read_of("ABC1234"))[0].text == "ABC1234"
