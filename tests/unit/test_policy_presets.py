"""Policy files: the shipped presets parse and cite their sources; malformed, overlapping and contradictory
files are refused with what is wrong."""

import tomllib

import pytest

from rtcc.core.errors import InvalidInput, NotFound
from rtcc.policy import presets
from rtcc.policy.purposes import STANDARD_FILE, standard_purposes

SHIPPED = ("ca-sb34", "illinois", "no-federal-immigration")


def spec(text: str) -> presets.PolicySpec:
    return presets.parse_policy(text)[0]


def policy_text(name="local-rules", jurisdiction="city", rules=None) -> str:
    rules = rules or ['name = "no-immigration"\nkind = "prohibit_purposes"\npurposes = ["0300"]\nreason = "ordinance 12"']
    return "\n".join([f'name = "{name}"', 'title = "Local rules"', f'jurisdiction = "{jurisdiction}"',
                      'source = "City ordinance 2026-3"', *(f"[[rules]]\n{rule}" for rule in rules)])


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_preset_parses_and_cites_its_source(name):
    text = presets.preset_text(name)
    policy, digest = presets.parse_policy(text, origin=name)
    assert policy.name == name and len(digest) == 64
    assert "Source:" in text and len(policy.source) > 10  # in the file's comment and in the policy itself
    known = standard_purposes()
    assert all(code in known for rule in policy.rules for code in rule.purposes)


def test_the_shipped_presets_say_what_the_laws_say():
    sb34 = spec(presets.preset_text("ca-sb34")).rules[0]
    assert (sb34.kind, sb34.states, sorted(sb34.agency_kinds)) == ("recipient_must_be", ["CA"], ["local", "state"])
    assert set(sb34.data_classes) == {"plate_reads", "plate_hits"}
    illinois = {rule.kind: rule for rule in spec(presets.preset_text("illinois")).rules}
    assert set(illinois["prohibit_purposes"].purposes) == {"0300", "RHC"}
    assert illinois["declaration_required"].outside_states == ["IL"]
    ordinance = spec(presets.preset_text("no-federal-immigration")).rules
    assert [(rule.kind, rule.purposes, rule.data_classes) for rule in ordinance] == [("prohibit_purposes", ["0300"], [])]


def test_malformed_files_are_refused_saying_what_is_wrong():
    with pytest.raises(InvalidInput, match="not valid TOML.*line 2") as refused:
        presets.parse_policy('name = "x"\ntitle = "unterminated\n', origin="upload")
    assert refused.value.code == "invalid_policy_file"
    with pytest.raises(InvalidInput, match="rules.0.kind"):
        spec(policy_text(rules=['name = "odd-one"\nkind = "allow_everything"\nreason = "because I said"']))
    with pytest.raises(InvalidInput, match="needs purposes"):
        spec(policy_text(rules=['name = "empty-one"\nkind = "prohibit_purposes"\nreason = "nothing listed"']))
    with pytest.raises(InvalidInput, match="not a state's two-letter code"):
        spec(policy_text(rules=['name = "bad-state"\nkind = "recipient_must_be"\nstates = ["California"]\nreason = "a typo in the state"']))
    with pytest.raises(InvalidInput, match="jurisdiction"):
        spec(policy_text(jurisdiction="california"))
    with pytest.raises(InvalidInput, match="extra_field|Extra inputs"):
        spec(policy_text() + '\nextra_field = 1')
    with pytest.raises(InvalidInput, match="no-immigration repeated"):
        spec(policy_text(rules=['name = "no-immigration"\nkind = "prohibit_purposes"\npurposes = ["0300"]\nreason = "the same rule twice"'] * 2))
    with pytest.raises(NotFound, match="ca-sb34"):
        presets.preset_text("ca-sb-34")


def test_overlapping_and_contradictory_policies_are_named():
    sb34 = spec(presets.preset_text("ca-sb34"))
    illinois = spec(presets.preset_text("illinois"))
    ordinance = spec(presets.preset_text("no-federal-immigration"))
    assert presets.contradictions(ordinance, [sb34]) == []
    assert presets.contradictions(sb34, [sb34]) == ["policy ca-sb34 is already in force"]
    assert any("one state" in problem for problem in presets.contradictions(illinois, [sb34]))
    copy = spec(policy_text(name="city-copy", rules=[
        'name = "city-no-immigration-purposes"\nkind = "prohibit_purposes"\npurposes = ["0300"]\nreason = "again"']))
    assert presets.contradictions(copy, [ordinance]) == [
        "rule city-no-immigration-purposes is already in force in policy no-federal-immigration"]
    nevada_only = spec(policy_text(name="nevada-only", rules=[
        'name = "plates-to-nevada"\nkind = "recipient_must_be"\ndata_classes = ["plate_reads"]\nstates = ["NV"]\n'
        'reason = "contradicts SB 34"']))
    [problem] = presets.contradictions(nevada_only, [sb34])
    assert "ca-sb34-public-agencies-only and plates-to-nevada" in problem and "no agency at all" in problem


def test_the_purpose_list_is_ncic_categories_with_unique_codes():
    text = STANDARD_FILE.read_text()
    assert "NCIC 2000 Code Manual" in text  # the source, cited in the file
    codes = [entry["code"] for entry in tomllib.loads(text)["purpose"]]
    assert len(codes) == len(set(codes)) == len(standard_purposes())
    assert standard_purposes()["0300"].title == "Immigration" and standard_purposes()["0900"].title == "Homicide"
