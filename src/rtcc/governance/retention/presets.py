"""Jurisdiction presets: one TOML file per jurisdiction in presets/, its source cited in the file.

A preset is checked whole before anything is kept: unknown class, clock or action, a keep-for below the class's
legal floor, one class set twice (contradictory), a class left to the agency without a value, malformed TOML.
Several presets loaded together may not set the same class differently (overlapping).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from rtcc.core.errors import InvalidInput
from rtcc.governance.retention.data_classes import ACTIONS, CLOCKS, UnknownDataClass, data_class

PRESETS_DIR = Path(__file__).parent / "presets"
_DURATION = re.compile(r"^\s*(\d+)\s*(s|min|h|d|w|mo|y)\s*$")
_UNIT = {"s": timedelta(seconds=1), "min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
         "w": timedelta(weeks=1), "mo": timedelta(days=30), "y": timedelta(days=365)}


class PresetError(InvalidInput):
    code = "preset_invalid"


def parse_duration(text: str) -> timedelta:
    """'3min', '21d', '18mo' (30 days each), '1y' (365 days): a month or year errs short, never long."""
    match = _DURATION.match(str(text))
    if not match:
        raise InvalidInput(f"keep_for {text!r} is not a duration like 3min, 12h, 21d, 18mo, 1y.", code="bad_duration")
    return int(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class PresetPolicy:
    data_class: str
    keep_for: str
    keep_for_delta: timedelta
    clock: str
    action: str
    citation: str


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    source: str
    path: Path
    policies: tuple[PresetPolicy, ...]
    fields: dict = field(default_factory=dict)  # e.g. California SB 34's usage and privacy policy fields


def check_policy(class_name: str, keep_for: str, clock: str | None, action: str | None, *, where: str) -> PresetPolicy:
    """One policy as a preset or an admin states it, validated against its class; InvalidInput says why not."""
    try:
        known = data_class(class_name)
    except UnknownDataClass as error:
        raise InvalidInput(f"{where}: {error}", code="unknown_data_class") from None
    try:
        delta = parse_duration(keep_for)
    except InvalidInput as error:
        raise InvalidInput(f"{where}: {error.message}", code=error.code) from None
    clock = clock or known.default_clock
    action = action or known.actions[0]
    if clock not in CLOCKS or clock not in known.clocks:
        raise InvalidInput(f"{where}: {class_name}'s clock may be {', '.join(known.clocks)}, not {clock!r}.", code="bad_clock")
    if action not in ACTIONS or action not in known.actions:
        raise InvalidInput(f"{where}: {class_name}'s action may be {', '.join(known.actions)}, not {action!r}.",
                           code="bad_action")
    if delta < known.floor:
        raise InvalidInput(f"{where}: {class_name} may not be kept for less than {known.floor.days} days "
                           f"({known.floor_source}); {keep_for} is below that floor.", code="below_legal_floor")
    return PresetPolicy(class_name, str(keep_for).strip(), delta, clock, action, "")


def parse_preset(path: Path, *, agency_values: dict[str, str] | None = None) -> Preset:
    """Read and check one preset file; agency_values fill the classes the preset leaves to the agency."""
    agency_values = agency_values or {}
    where = path.name
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise PresetError(f"{where}: cannot be read ({error}).") from None
    except tomllib.TOMLDecodeError as error:
        raise PresetError(f"{where}: not valid TOML ({error}).") from None
    head = document.get("preset")
    if not isinstance(head, dict) or not all(isinstance(head.get(k), str) and head.get(k).strip() for k in ("title", "source")):
        raise PresetError(f"{where}: needs a [preset] table with a title and the source it follows (statute, rule).")
    entries = document.get("policy", [])
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise PresetError(f"{where}: needs at least one [[policy]] table.")
    policies: dict[str, PresetPolicy] = {}
    for number, entry in enumerate(entries, 1):
        spot = f"{where} policy {number}"
        class_name = entry.get("class")
        if not isinstance(class_name, str):
            raise PresetError(f"{spot}: names no class.")
        if class_name in policies:
            raise PresetError(f"{spot}: {class_name} is set twice in one preset (contradictory).", code="preset_contradictory")
        keep_for = entry.get("keep_for")
        if entry.get("agency_set"):
            keep_for = agency_values.get(class_name)
            if keep_for is None:
                raise PresetError(f"{spot}: {head['title']} leaves {class_name}'s keep-for to the agency: give a value "
                                  f"(e.g. {class_name}=1y).", code="agency_value_required")
        if not isinstance(keep_for, str):
            raise PresetError(f"{spot}: {class_name} needs keep_for as text, like \"21d\".")
        try:
            checked = check_policy(class_name, keep_for, entry.get("clock"), entry.get("action"), where=spot)
        except InvalidInput as error:
            raise PresetError(error.message, code=error.code) from None
        maximum = entry.get("at_most")
        if maximum is not None and checked.keep_for_delta > parse_duration(maximum):
            raise PresetError(f"{spot}: {class_name} keep-for {keep_for} is over the {maximum} the law allows.",
                              code="above_legal_maximum")
        citation = str(entry.get("citation") or head["source"])
        policies[class_name] = PresetPolicy(checked.data_class, checked.keep_for, checked.keep_for_delta, checked.clock,
                                            checked.action, citation)
    fields = {key: value for key, value in head.items() if key not in ("title", "source")}
    return Preset(path.stem, head["title"], head["source"], path, tuple(policies.values()), fields)


def available() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.toml"))


def preset_path(name: str) -> Path:
    if name not in available():
        raise PresetError(f"no preset {name!r}; shipped: {', '.join(available())}", code="unknown_preset")
    return PRESETS_DIR / f"{name}.toml"


def combine(presets: list[Preset]) -> list[tuple[Preset, PresetPolicy]]:
    """The policies of presets loaded together; two that set one class differently overlap and are refused."""
    chosen: dict[str, tuple[Preset, PresetPolicy]] = {}
    for preset in presets:
        for policy in preset.policies:
            if policy.data_class in chosen:
                other, theirs = chosen[policy.data_class]
                if (theirs.keep_for_delta, theirs.clock, theirs.action) != (policy.keep_for_delta, policy.clock, policy.action):
                    raise PresetError(f"presets {other.name} and {preset.name} overlap: both set {policy.data_class} "
                                      f"({theirs.keep_for} vs {policy.keep_for}); load one of them.", code="presets_overlap")
                continue
            chosen[policy.data_class] = (preset, policy)
    return list(chosen.values())


def describe(name: str) -> dict:
    """A shipped preset as it reads, without the agency's values (agency-set classes show keep_for None)."""
    path = preset_path(name)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        return {"title": name, "source": f"invalid: {error}", "policies": []}
    head = document.get("preset", {})
    return {"title": head.get("title", name), "source": head.get("source", ""),
            "policies": [{"class": e.get("class"), "keep_for": None if e.get("agency_set") else e.get("keep_for"),
                          "agency_set": bool(e.get("agency_set"))} for e in document.get("policy", []) if isinstance(e, dict)]}
