"""Hotlist matching and plate text rules, without a database."""

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from rtcc.alpr.adapters.formats import MalformedRead, compass, parse_batch
from rtcc.alpr.matcher import ActiveEntry, HotlistIndex
from rtcc.alpr.plates import normalise_plate, one_substitution_variants
from rtcc.alpr.search import point_in_polygon

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def entry(entry_id, plate, expires=None, priority=1):
    return ActiveEntry(entry_id, 1, plate, priority, expires)


def test_exact_beats_fuzzy_and_fuzzy_allows_one_confusable_substitution():
    index = HotlistIndex([entry(1, "8XYZ777"), entry(2, "BXYZ777")])
    assert [(m.entry.entry_id, m.method) for m in index.match("8XYZ777", NOW)] == [(1, "exact")]
    index = HotlistIndex([entry(1, "8XYZ777")])
    assert [(m.entry.entry_id, m.method, m.matched_plate) for m in index.match("BXYZ777", NOW)] == [(1, "fuzzy", "8XYZ777")]
    assert index.match("BXYZ7T7", NOW) == []  # two changes, and T is not a 7
    assert index.match("8XYZ776", NOW) == []  # 6 and 7 are not confusable


def test_expired_entries_stop_matching_at_their_expiry_time():
    index = HotlistIndex([entry(1, "7ABC123", expires=NOW)])
    assert index.match("7ABC123", NOW - timedelta(seconds=1))
    assert index.match("7ABC123", NOW) == []


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=8))
def test_variants_differ_by_exactly_one_character(plate):
    for variant, position in one_substitution_variants(plate):
        assert len(variant) == len(plate)
        assert [i for i, (a, b) in enumerate(zip(plate, variant)) if a != b] == [position]


def test_plate_text_is_normalised():
    assert normalise_plate(" 7abc-123 ") == "7ABC123"
    assert normalise_plate("‘; DROP TABLE") == "DROPTABLE"


def test_device_formats_map_and_reject_with_reasons():
    reads, rejected = parse_batch({"reads": [{"plate": "1AAA111", "read_at": "2026-11-21T10:00:00Z", "camera_id": 3},
                                             {"plate": 12345}, {"plate": "X", "read_at": "yesterday"}]}, "rtcc")
    assert [r.plate for r in reads] == ["1AAA111"] and [r["index"] for r in rejected] == [1, 2]
    assert "ISO 8601" in rejected[1]["message"]
    try:
        parse_batch({}, "carrier-pigeon")
    except MalformedRead as error:
        assert "unknown format" in str(error)
    else:
        raise AssertionError("an unknown format was accepted")
    assert (compass(0), compass(93), compass(181), compass(359)) == ("N", "E", "S", "N")


def test_point_in_polygon():
    square = [(0, 0), (2, 0), (2, 2), (0, 2)]
    assert point_in_polygon(1, 1, square) and not point_in_polygon(3, 1, square)
    concave = [(0, 0), (4, 0), (4, 4), (2, 1), (0, 4)]
    assert not point_in_polygon(2, 3, concave) and point_in_polygon(1, 1, concave)
