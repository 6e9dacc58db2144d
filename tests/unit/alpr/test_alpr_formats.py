"""Format-aware resolution of confusable characters (no models needed)."""

import numpy as np
import pytest

from rtcc.alpr.reader.formats import RegionFormats, available_regions, common_jurisdiction
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


# -- regions: us (default), eu, br -------------------------------------------------------------


@pytest.fixture(scope="module")
def eu():
    return RegionFormats.load("eu")


@pytest.fixture(scope="module")
def br():
    return RegionFormats.load("br")


def test_each_region_is_a_formats_file_and_an_unknown_one_is_a_clear_error():
    assert {"us", "eu", "br"} <= set(available_regions())
    with pytest.raises(ValueError, match="unknown plate region 'xx'.*br, eu, us"):
        RegionFormats.load("xx")


def test_eu_formats_name_their_country_and_cover_the_member_states(eu):
    countries = {r for f in eu.formats for r in f.regions}
    assert {"de", "fr", "it", "es", "nl", "be", "pl", "pt", "at", "cz", "se", "dk", "fi", "ie", "hu", "ro", "gr"} <= countries
    for f in eu.formats:
        assert f.regions and all(len(r) == 2 for r in f.regions), f
        assert 0 < f.prior <= 1 and set(f.pattern) <= set("LD")
        assert f.display is None or "".join(ch for ch in f.display if ch.isalnum()) == f.pattern


def test_eu_and_br_keep_o_and_zero_apart(eu, br, us):
    assert eu.same_glyph == {} and br.same_glyph == {}
    assert eu.canonical("ab-o0") == "ABO0" and br.canonical("abo-0") == "ABO0"
    assert us.canonical("abo-0") == "AB00"  # unchanged: US plates print O and 0 alike


def test_french_read_resolves_with_the_french_format(eu):
    best = eu.resolve(read_of("AB123CD"))[0]
    assert (best.text, best.pattern) == ("AB123CD", "LLDDDLL")
    assert "fr" in best.jurisdictions
    # Italy (and Austria, Slovakia) issue the same shape: the string alone cannot say which country.
    assert "it" in best.jurisdictions and best.jurisdiction is None


def test_a_country_is_named_where_only_its_format_fits(eu):
    assert eu.resolve(read_of("1234BCD"))[0].jurisdiction == "es"
    assert eu.resolve(read_of("1ABC234"))[0].jurisdiction == "be"
    assert eu.resolve(read_of("CJ12ABC"))[0].jurisdiction == "ro"


def test_letters_a_country_never_issues_are_positional_information(eu):
    # Spanish plates use no vowels: a round glyph in the letter block is not O.
    best = eu.resolve(read_of("1234BC0"))[0]
    assert best.text == "1234BCD" and best.jurisdiction == "es"


def test_mercosur_and_old_brazilian_plates(br):
    mercosur = br.resolve(read_of("ABC1D23"))[0]
    assert (mercosur.text, mercosur.pattern, mercosur.jurisdiction) == ("ABC1D23", "LLLDLDD", "br")
    old = br.resolve(read_of("ABC1234"))[0]
    assert (old.text, old.pattern, old.jurisdiction) == ("ABC1234", "LLLDDDD", "br")


def test_position_decides_o_or_zero_under_br_and_us_keeps_merging(br, us):
    assert br.resolve(read_of("0BC1D23"))[0].text == "OBC1D23"  # a letter goes first
    assert br.resolve(read_of("ABCOD23"))[0].text == "ABC0D23"  # a digit goes fourth
    assert us.resolve(read_of("0BC1234"))[0].text == "0BC1234"  # US: O and 0 are one character


def test_a_plate_fitting_no_format_is_kept_at_lower_confidence(eu, br):
    for region, text in ((eu, "NEILDMND"), (br, "VANITY")):
        interps = region.resolve(read_of(text))
        assert interps[0].text == text and interps[0].pattern is None and interps[0].jurisdiction is None
        assert interps[0].factor < 0.5  # a format fit scores 1.0


def test_a_us_series_several_states_issue_reports_the_country(us):
    best = us.resolve(read_of("ABC1234"))[0]
    assert best.jurisdiction == "us" and best.pattern == "LLLDDDD"
    assert common_jurisdiction({"us-ca", "us-ny"}) == "us" and common_jurisdiction({"fr", "it"}) is None


def test_the_server_reads_plates_with_the_rtcc_alpr_region_setting(monkeypatch):
    from pydantic import ValidationError

    from rtcc.alpr.video.frame_reading import VideoFramePlateReader
    from rtcc.settings import Settings

    made = []
    monkeypatch.setattr("rtcc.alpr.video.frame_reading.PlateReader", lambda **kwargs: made.append(kwargs))
    VideoFramePlateReader.from_settings(Settings())
    monkeypatch.setenv("RTCC_ALPR_REGION", "BR")
    VideoFramePlateReader.from_settings(Settings())
    assert [kwargs["region"] for kwargs in made] == ["us", "br"]
    monkeypatch.setenv("RTCC_ALPR_REGION", "mars")
    with pytest.raises(ValidationError, match="unknown plate region 'mars'"):
        Settings()


def test_the_hotlist_matcher_still_forgives_one_confusion_on_top_of_a_region_s_read(br):
    from datetime import datetime, timezone

    from rtcc.alpr.matcher import ActiveEntry, HotlistIndex

    # The Brazilian formats read a letter O first; a hotlist entry keyed in with a zero still matches (fuzzily).
    plate = br.resolve(read_of("0BC1D23"))[0].text
    index = HotlistIndex([ActiveEntry(1, 1, "0BC1D23", 1, None), ActiveEntry(2, 1, "OBC1D23", 1, None)])
    now = datetime.now(timezone.utc)
    assert [(m.entry.entry_id, m.method) for m in index.match(plate, now)] == [(2, "exact")]
    assert [(m.entry.entry_id, m.method) for m in HotlistIndex([ActiveEntry(1, 1, "0BC1D23", 1, None)]).match(plate, now)] == [(1, "fuzzy")]


def test_a_vehicle_pass_keeps_the_state_not_the_formats_region():
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from rtcc.alpr.reader import PlateRead
    from rtcc.alpr.video.passes import PlateTracker

    # The plate_reads region column has always held the state ("us-ca"); the formats' region ("us") is not it.
    tracker = PlateTracker(gap_seconds=1)
    start, frame = datetime(2026, 1, 1, tzinfo=UTC), np.zeros((360, 640, 3), np.uint8)
    seen = PlateRead("7ABC123", 0.95, (100, 200, 100, 30), "us", [], jurisdiction="us-ca", format="DLLLDDD")
    tracker.feed(start, [seen], frame)
    passes = tracker.feed(start + timedelta(seconds=5), [], frame)
    assert [(p.plate, p.region) for p in passes] == [("7ABC123", "us-ca")]


def test_the_emblem_between_missouri_groups_read_as_a_glyph_is_dropped(us):
    # Missouri prints "SH0 (emblem) R7X"; the recogniser reads the emblem as a confident L.
    best = us.resolve(read_of("SH0LR7X"))[0]
    assert best.text == "SH0R7X" and best.pattern == "LLDLDL"
    # The same extra letter elsewhere is still only a guess: the string as read stays first.
    assert us.resolve(read_of("SHL0R7X"))[0].text == "SHL0R7X"


def test_emblem_positions_must_lie_between_characters(tmp_path):
    bad = tmp_path / "xx_plate_formats.toml"
    bad.write_text('[region]\ncode = "xx"\n[[format]]\npattern = "LLDLDL"\nemblem_at = [6]\n')
    with pytest.raises(ValueError, match="emblem_at"):
        RegionFormats.from_toml(bad)
