"""Jurisdiction presets: every shipped file parses and cites its source; bad files are refused with the reason."""

from datetime import timedelta

import pytest

from rtcc.governance.retention import presets
from rtcc.governance.retention.data_classes import CLASSES

GOOD_HEAD = '[preset]\ntitle = "Test"\nsource = "Test Code § 1"\n'


def write(tmp_path, text: str):
    path = tmp_path / "test.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_preset_parses_and_cites_its_source():
    shipped = presets.available()
    assert {"new-hampshire", "maine", "minnesota", "vermont", "california", "video-30-day"} <= set(shipped)
    expected = {"new-hampshire": timedelta(minutes=3), "maine": timedelta(days=21), "minnesota": timedelta(days=60),
                "vermont": timedelta(days=540)}
    for name in shipped:
        preset = presets.parse_preset(presets.preset_path(name), agency_values={"plate_reads": "1y", "plate_hits": "2y"})
        assert preset.source and "§" in preset.source or name == "video-30-day", name
        assert all(policy.data_class in CLASSES for policy in preset.policies)
        if name in expected:
            reads = {p.data_class: p for p in preset.policies}["plate_reads"]
            assert reads.keep_for_delta == expected[name], name
    california = presets.parse_preset(presets.preset_path("california"), agency_values={"plate_reads": "1y", "plate_hits": "2y"})
    assert {"authorized_purposes", "custodian", "retention", "sharing"} <= set(california.fields)


@pytest.mark.parametrize("text, code, words", [
    ("[preset\ntitle = 1", "preset_invalid", "not valid TOML"),
    ('[[policy]]\nclass = "plate_reads"\nkeep_for = "1d"\n', "preset_invalid", "source"),
    (GOOD_HEAD, "preset_invalid", "at least one [[policy]]"),
    (GOOD_HEAD + '[[policy]]\nclass = "selfies"\nkeep_for = "1d"\n', "unknown_data_class", "selfies"),
    (GOOD_HEAD + '[[policy]]\nclass = "audit_records"\nkeep_for = "90d"\n', "below_legal_floor", "CJIS"),
    (GOOD_HEAD + '[[policy]]\nclass = "plate_reads"\nkeep_for = "1d"\n[[policy]]\nclass = "plate_reads"\nkeep_for = "2d"\n',
     "preset_contradictory", "set twice"),
    (GOOD_HEAD + '[[policy]]\nclass = "plate_reads"\nkeep_for = "forever"\n', "bad_duration", "forever"),
    (GOOD_HEAD + '[[policy]]\nclass = "plate_reads"\nkeep_for = 21\n', "preset_invalid", "as text"),
    (GOOD_HEAD + '[[policy]]\nclass = "plate_reads"\nkeep_for = "1d"\nclock = "case_closed"\n', "bad_clock", "clock"),
    (GOOD_HEAD + '[[policy]]\nclass = "plate_reads"\nkeep_for = "30d"\nat_most = "21d"\n', "above_legal_maximum", "21d"),
    (GOOD_HEAD + '[[policy]]\nclass = "plate_reads"\nagency_set = true\n', "agency_value_required", "agency"),
])
def test_a_bad_preset_file_is_refused_with_its_reason(tmp_path, text, code, words):
    with pytest.raises(presets.InvalidInput) as refused:
        presets.parse_preset(write(tmp_path, text))
    assert refused.value.code == code and words in refused.value.message and "test.toml" in refused.value.message


def test_a_file_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "test.toml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(presets.PresetError, match="cannot be read|not valid TOML"):
        presets.parse_preset(path)


def test_presets_that_set_one_class_differently_overlap_and_equal_ones_do_not():
    maine, minnesota = (presets.parse_preset(presets.preset_path(n)) for n in ("maine", "minnesota"))
    with pytest.raises(presets.PresetError) as overlap:
        presets.combine([maine, minnesota])
    assert overlap.value.code == "presets_overlap" and "plate_reads" in overlap.value.message
    assert len(presets.combine([maine, maine])) == 1
    video = presets.parse_preset(presets.preset_path("video-30-day"))
    assert {p.data_class for _, p in presets.combine([maine, video])} == {"plate_reads", "continuous_video", "event_clips"}


def test_durations_read_as_written_and_months_err_short():
    assert presets.parse_duration("3min") == timedelta(minutes=3)
    assert presets.parse_duration(" 18mo ") == timedelta(days=540)
    assert presets.parse_duration("1y") == timedelta(days=365)
    for bad in ("", "3", "3 minutes", "-1d", "1.5d"):
        with pytest.raises(presets.InvalidInput):
            presets.parse_duration(bad)
